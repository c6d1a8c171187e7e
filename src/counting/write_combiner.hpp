// Write combining and group commit (docs/architecture.md). Concurrent hits on one key become one
// `+n` increment; every key waiting at that moment goes into one store batch, committed
// while new hits queue up for the next. The n requests of a key get the n distinct values
// v-n+1 … v, exactly as if each had been its own atomic increment.
//
// With a store that defers its sync (SQLite), a second thread flushes: while batch k is
// being fsynced, batch k+1 is applied, and each hit is acknowledged only once a sync that
// began after its batch was applied has finished. With a store that applies keys
// independently (DynamoDB), each key's waiters are answered as soon as that key is done.
//
// Bounded: at most `max_pending` hits and reads are accepted and unanswered at a time;
// past that, hit() and read() fail at once with `overloaded`.
//
// Thread-safe: hit/read/ping may be called from any thread and never block on the store.
// One worker thread owns the Store. Callbacks run on the worker, the syncer or a store's
// own threads, so they must be quick and must not block (the HTTP layer only posts the
// answer back).
#pragma once

#include <atomic>
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

struct CombinerOptions {
  std::size_t max_pending = 4096;  // hits and reads accepted and not yet answered; >= 1
};

class WriteCombiner {
 public:
  // `store` and `metrics` must outlive the combiner.
  WriteCombiner(store::Store& store, metrics::Registry& metrics, CombinerOptions options = {});
  WriteCombiner(const WriteCombiner&) = delete;
  WriteCombiner& operator=(const WriteCombiner&) = delete;
  ~WriteCombiner();

  // Counts one hit on `key`; `done` gets the counter's value after this hit once it is
  // durable, or an error whose kind says whether the hit may have counted
  // (`outcome_unknown`) or did not (`failed`, `overloaded`).
  void hit(std::string key, HitCallback done);
  // Reads a counter after the writes queued before it.
  void read(std::string key, ReadCallback done);
  // Not bounded by max_pending, so health checks still answer under load.
  void ping(PingCallback done);

  // Finishes everything queued so far, then stops the worker. Later calls fail fast.
  void stop();

 private:
  using Task = std::move_only_function<void(store::Store&)>;
  using Waiters = std::unordered_map<std::string, std::vector<HitCallback>>;

  // A batch the store applied, waiting for its sync to be acknowledged.
  struct Applied {
    Waiters waiters;
    std::vector<store::StoreResult<std::int64_t>> values;  // per key, in iteration order
    std::chrono::steady_clock::time_point started;
  };

  void run();
  void run_syncer();
  void commit(Waiters& waiters);
  void acknowledge(Applied& batch, const store::StoreResult<void>& synced);
  // Answers one key's waiters: v-n+1 … v on success, else the error to each. Metrics
  // first: a client that has its answer may read /metrics at once. The first failed key of
  // a batch counts the batch as failed.
  void answer(std::vector<HitCallback>& callbacks, const store::StoreResult<std::int64_t>& value,
              std::chrono::steady_clock::time_point batch_started, std::atomic<bool>& batch_failed);
  void enqueue(Task task);
  // Takes one pending slot; false (and counted as shed) when none is left.
  bool admit();
  void release(std::size_t n);

  store::Store& store_;
  metrics::Registry& metrics_;
  const std::size_t max_pending_;
  std::atomic<std::size_t> pending_{0};
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
