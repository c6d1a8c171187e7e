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
  enum class Kind {
    failed,           // refused or unreachable: nothing was applied
    outcome_unknown,  // may have been applied (an answer lost after the write was sent, or
                      // applied but not made durable); never resent blindly
    overloaded,       // shed before it reached the store: nothing was applied
  };
  std::string message;
  Kind kind = Kind::failed;
};

template <typename T>
using StoreResult = std::expected<T, StoreError>;

// Receives one increment's result: its index in the batch and the counter's value after
// it, or why it failed.
using AddCallback = std::function<void(std::size_t index, StoreResult<std::int64_t> value)>;

// For stores that apply a batch all or nothing: reports `values` (one per increment, in
// order) or the one error to every index of a batch of `size`.
inline void report_batch(const StoreResult<std::vector<std::int64_t>>& values, std::size_t size,
                         const AddCallback& done) {
  for (std::size_t i = 0; i < size; ++i) {
    if (values) {
      done(i, (*values)[i]);
    } else {
      done(i, std::unexpected(values.error()));
    }
  }
}

class Store {
 public:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store() = default;

  // Applies every increment durably and reports each one's result through `done`, exactly
  // once per index, before add() returns. Transactional backends (SQLite) apply all or
  // nothing and report after the commit; others (DynamoDB) apply keys independently and
  // concurrently, and report each key as soon as it is done, possibly from other threads
  // and concurrently for different indexes. Keys in one batch are distinct.
  virtual void add(std::span<const Increment> batch, const AddCallback& done) = 0;

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
