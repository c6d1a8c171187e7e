// The Store interface: where counters live. One small abstract class (leveldb's Env is the
// model) with one final implementation per backend. A Store is used by one thread at a
// time (the write combiner's worker), except sync(), which may run beside it.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace store {

// One counter's share of a batch: add `delta` (> 0) to counter `key`.
struct Increment {
  std::string_view key;
  std::int64_t delta = 1;
};

// Why a store call failed. `message` is for the operator's log, never for clients.
struct StoreError {
  std::string message;
};

template <typename T>
using StoreResult = std::expected<T, StoreError>;

class Store {
 public:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store() = default;

  // Applies every increment durably and returns each counter's new value, in the order
  // given. Transactional backends apply all or nothing; on failure the caller must treat
  // none of the increments as acknowledged. Keys in one batch are distinct.
  virtual StoreResult<std::vector<std::int64_t>> add(std::span<const Increment> batch) = 0;

  // The counter's current value, or nullopt when it has never counted.
  virtual StoreResult<std::optional<std::int64_t>> get(std::string_view key) = 0;

  // Succeeds when the store answers (for /healthz).
  virtual StoreResult<void> ping() = 0;

  // Split durability. When true, add() only applies a batch (readers see it, a process
  // crash keeps it) and sync() makes every batch applied before the call durable; the
  // caller acknowledges a batch only after a sync() that began after it was applied.
  // That lets the next batch be applied while the previous one is being flushed.
  // sync() may run on another thread, concurrently with add(), get() and ping().
  virtual bool defers_sync() const { return false; }
  virtual StoreResult<void> sync() { return {}; }
};

// How durable SQLite commits are: `full` fsyncs every commit, `normal` may lose the
// last commits on power loss (never on a process crash).
enum class SyncMode { full, normal };

struct StoreOptions {
  SyncMode sync = SyncMode::full;
};

// Returns the variable's value or nullptr, like std::getenv.
using Environment = std::function<const char*(const char*)>;

// Opens the store a URL names: `memory:`, `sqlite:PATH`, `dynamodb://TABLE?region=...`
// (see store/dynamodb/dynamodb_url.hpp). `env` supplies what the URL leaves out: the AWS
// region and credentials (AWS_REGION, AWS_ACCESS_KEY_ID, ...); an empty `env` is an empty
// environment. Fails with a one-line reason (unknown scheme, unwritable path, not a
// database, bad URL, no credentials) and never throws.
std::expected<std::unique_ptr<Store>, std::string> make_store(std::string_view url,
                                                              const StoreOptions& options,
                                                              const Environment& env = {});

}  // namespace store
