// Write combining and group commit (DESIGN.md §2). Concurrent hits on one key become one
// `+n` increment; every key waiting at that moment goes into one store batch, committed
// while new hits queue up for the next. The n requests of a key get the n distinct values
// v-n+1 … v, exactly as if each had been its own atomic increment.
//
// With a store that defers its sync (SQLite), a second thread flushes: while batch k is
// being fsynced, batch k+1 is applied, and each hit is acknowledged only once a sync that
// began after its batch was applied has finished.
//
// Thread-safe: hit/read/ping may be called from any thread and never block on the store.
// One worker thread owns the Store. Callbacks run on the worker or the syncer thread, so
// they must be quick and must not block (the HTTP layer only posts the answer back).
#pragma once

#include <chrono>
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

  // A batch the store applied, waiting for its sync to be acknowledged.
  struct Applied {
    Waiters waiters;
    std::vector<std::int64_t> values;  // per key, in the waiters' iteration order
    std::chrono::steady_clock::time_point started;
  };

  void run();
  void run_syncer();
  void commit(Waiters& waiters);
  void acknowledge(Applied& batch, const store::StoreResult<void>& synced);
  void enqueue(Task task);

  store::Store& store_;
  metrics::Registry& metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  Waiters waiters_;
  std::vector<Task> tasks_;
  bool stopping_ = false;
  std::thread worker_;

  std::mutex sync_mutex_;
  std::condition_variable sync_wake_;
  std::vector<Applied> applied_;  // applied, not yet synced
  bool sync_stopping_ = false;
  std::thread syncer_;  // only when the store defers its sync
};

}  // namespace counting
