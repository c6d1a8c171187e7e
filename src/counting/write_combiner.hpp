// Write combining and group commit (DESIGN.md §2). Concurrent hits on one key become one
// `+n` increment; every key waiting at that moment goes into one store batch, committed
// while new hits queue up for the next. The n requests of a key get the n distinct values
// v-n+1 … v, exactly as if each had been its own atomic increment.
//
// Thread-safe: hit/read/ping may be called from any thread and never block on the store.
// One worker thread owns the Store. Callbacks run on that worker thread, so they must be
// quick and must not block (the HTTP layer only posts the answer back to its socket).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "metrics/registry.hpp"
#include "store/store.hpp"

namespace counting {

using HitCallback = std::move_only_function<void(store::StoreResult<std::int64_t>)>;
using ReadCallback = std::move_only_function<void(store::StoreResult<std::optional<std::int64_t>>)>;
using PingCallback = std::move_only_function<void(store::StoreResult<void>)>;

class WriteCombiner {
 public:
  // `store` and `metrics` must outlive the combiner.
  WriteCombiner(store::Store& store, metrics::Registry& metrics);
  WriteCombiner(const WriteCombiner&) = delete;
  WriteCombiner& operator=(const WriteCombiner&) = delete;
  ~WriteCombiner();

  // Counts one hit on `key`; `done` gets the counter's value after this hit once it is
  // durable, or the store's error (then the hit did not count).
  void hit(std::string key, HitCallback done);
  // Reads a counter after the writes queued before it.
  void read(std::string key, ReadCallback done);
  void ping(PingCallback done);

  // Finishes everything queued so far, then stops the worker. Later calls fail fast.
  void stop();

 private:
  using Task = std::move_only_function<void(store::Store&)>;
  using Waiters = std::unordered_map<std::string, std::vector<HitCallback>>;

  void run();
  void commit(Waiters& waiters);
  void enqueue(Task task);

  store::Store& store_;
  metrics::Registry& metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  Waiters waiters_;
  std::vector<Task> tasks_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace counting
