// Write combining and group commit (docs/architecture.md). Concurrent hits on one key are
// merged; every key waiting at that moment goes into one store batch, committed while new
// hits queue up for the next. The counted hits of a key get distinct, consecutive totals,
// exactly as if each had been its own atomic increment.
//
// The worker also turns each hit's visitor (address and User-Agent, held only in memory)
// into a visitor id with the UTC day's salt, which it fetches from the store when the day
// changes (deleting the days before it), so every process sharing a store agrees on ids.
//
// With a store that defers its sync (SQLite), a second thread flushes: while batch k is
// being fsynced, batch k+1 is applied, and each hit is acknowledged only once a sync that
// began after its batch was applied has finished. With a store that applies keys
// independently (DynamoDB), each key's waiters are answered as soon as that key is done.
//
// Bounded: at most `max_pending` hits and reads are accepted and unanswered at a time;
// past that, hit() and read() fail at once with `overloaded`. Bounded in time: a hit not
// sent to the store within `queue_timeout` of its arrival is answered `overloaded` at that
// moment (by a reaper thread), and never applied; a key's `send_by` tells the store the same.
//
// Reads: with `CombinerOptions::reader` (a second store on the same data, for a store that
// waits on the network) they take a path of their own: a reader thread with that store, its
// own bound of `max_pending`, the reads of one key asked once per round however many wait,
// and a read not started by its deadline refused. So a flood of reads never holds up
// counting. Without it, they are run with the batches, after them. Health checks ask the
// store that counts, at most one ping at a time, and reuse a good answer for a second.
//
// Who applies batches: by default a worker thread of the combiner's own owns the Store.
// With `CombinerOptions::run_on` (the HTTP server's I/O threads, for a store on this
// machine), there is no worker: the first hit that finds no commit scheduled schedules one
// there, it runs after the requests the reactor has already read, so they join the batch,
// and at most one commit runs at a time. That saves two thread hand-offs per batch, which
// on a busy core cost a third of the throughput (bench/http_bench.py).
//
// Thread-safe: hit/read/ping may be called from any thread and never block on the store.
// Callbacks run where the commit runs, on the syncer or on a store's own threads, so they
// must be quick and must not block (the HTTP layer only posts the answer back).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "counting/policy/visitor_id.hpp"
#include "metrics/registry.hpp"
#include "store/store.hpp"
#include "util/log_throttle.hpp"

namespace counting {

using HitCallback = std::move_only_function<void(store::StoreResult<store::HitResult>)>;
using ReadCallback =
    std::move_only_function<void(store::StoreResult<std::optional<store::Totals>>)>;
// What /healthz reports: the store answers and writes; it does not answer; it answers but its
// last write failed (a full disk: until a write succeeds, the store answers a ping again after
// failing one, or kWriteFailureShown passes without another failed write, so that a load
// balancer that stopped sending hits lets one through again); or it halted after a failed
// sync (until the process restarts).
enum class Health : std::uint8_t { ok, unavailable, cannot_write, halted };
inline constexpr std::chrono::seconds kWriteFailureShown{30};
using PingCallback = std::move_only_function<void(Health)>;
using Clock = std::function<std::chrono::system_clock::time_point()>;
// Runs `work` soon on some other thread's loop, never inline.
using Runner = std::function<void(std::move_only_function<void()> work)>;

// Who sent a counting request, as the transport saw it. Kept in memory until the hit's
// visitor id is made, never stored or logged.
struct Visitor {
  std::string client;           // the client's address
  std::string user_agent;       // may be empty
  bool tracked = true;          // false: a view with no visitor (an image proxy fetching for many)
  std::string idempotency_key;  // the request's Idempotency-Key (unquoted), or empty
};

struct CombinerOptions {
  std::size_t max_pending = 4096;              // hits and reads accepted and not yet answered; >= 1
  std::chrono::milliseconds queue_timeout{0};  // a hit not sent by then: 503; 0: no limit
  std::chrono::seconds repeat_window{0};       // a visitor counted less than this ago repeats
  std::size_t max_counters = 0;  // no new counter past this many (store::Batch); 0: no limit
  bool create_counters = true;   // false: hits never create a counter (store::Batch)
  bool history = true;           // false: no day rows (store::Batch; the classic profile)
  Clock clock;                   // wall clock for UTC days; empty: the system's
  Runner run_on;                 // where commits run; empty: a worker thread of the combiner's own
  // A second store on the same data, for reads on a thread of their own; must outlive the
  // combiner. Null: they go with the batches.
  store::Store* reader = nullptr;
};

class WriteCombiner {
 public:
  // `store` and `metrics` must outlive the combiner.
  WriteCombiner(store::Store& store, metrics::Registry& metrics, CombinerOptions options = {});
  WriteCombiner(const WriteCombiner&) = delete;
  WriteCombiner& operator=(const WriteCombiner&) = delete;
  ~WriteCombiner();

  // Counts one hit on `key` by `visitor`; `done` gets what it did and the counter's totals
  // after it, once durable, or an error whose kind says whether the hit may have counted
  // (`outcome_unknown`) or did not (`failed`, `overloaded`).
  void hit(std::string key, Visitor visitor, HitCallback done);
  // Reads a counter's totals: every hit acknowledged before the call is in them (without a
  // reader, also the hits queued before it).
  void read(std::string key, ReadCallback done);
  // Runs `task` on the worker with the store, after the writes queued before it: for the
  // owner's reads and changes (history, listing, setting, removing). Bounded like read():
  // past the bound, or once stopped, `task` runs at once with a store whose every call fails
  // (`overloaded` or `failed`). `task` must not keep the store.
  using StoreTask = std::move_only_function<void(store::Store&)>;
  void with_store(StoreTask task);
  // As with_store(), for a task that only reads (history, period badges): with a reader it
  // runs on the reader's thread with the reader, bounded and timed like read().
  void read_with_store(StoreTask task);
  // The store's health. Not bounded by max_pending, so health checks still answer under load,
  // but one ping at a time: the calls that come while it is out share its answer. A store
  // that answered a ping is not asked again for kPingReused: later calls reuse that answer
  // (a failed one is asked again, so a recovery shows at once).
  void ping(PingCallback done);
  static constexpr std::chrono::seconds kPingReused{1};

  // Fetches today's salt on the worker now, ahead of the first hit, which then waits only
  // for what is left of that round trip (a Lambda function calls this at init: its first
  // hit would otherwise ask for the salt, then the mark, then the counter, in a row). A
  // failure is forgotten: the first hit asks again. Only for a profile that counts visitors.
  void prefetch_salt();

  // Finishes everything queued so far, then stops the worker. Later calls fail fast.
  void stop();

 private:
  using Task = std::move_only_function<void(store::Store&)>;
  struct Pending {
    Visitor visitor;
    HitCallback done;
    std::chrono::steady_clock::time_point send_by;  // max(): no limit
  };
  using Waiters = std::unordered_map<std::string, std::vector<Pending>>;
  using KeyResults = store::StoreResult<std::vector<store::HitResult>>;

  // A batch the store applied, waiting for its sync to be acknowledged.
  struct Applied {
    Waiters waiters;
    std::vector<KeyResults> results;  // per key, in iteration order
    std::chrono::steady_clock::time_point started;
    std::uint64_t hits = 0;  // in all its keys
  };

  void run();
  // Answers every waiting hit whose send_by has passed, each at that moment.
  void run_reaper();
  // Takes out of `waiters` the hits whose send_by is before `now`.
  static std::vector<Pending> take_expired(Waiters& waiters,
                                           std::chrono::steady_clock::time_point now);
  void refuse_expired(std::vector<Pending>& expired);
  // One commit turn where `run_on` runs it: everything queued so far, then another turn if
  // more came meanwhile. Put off while hold_for_sync() says so: the syncer runs it then.
  void turn();
  // With a deferring store: true (and the turn held) while a sync has run for longer than
  // slow_sync_ and a batch already waits for the next one. A slow disk then keeps new hits
  // in the queue, where their deadline refuses them cleanly, instead of in the log, where
  // they would wait for two slow syncs.
  bool hold_for_sync();
  // With run_on: takes everything queued so far and applies it, one caller at a time.
  void apply_queued();
  // Applies `waiters`, then runs `tasks`, on the thread that holds the store.
  void process(Waiters& waiters, std::vector<Task>& tasks);
  // Called with mutex_ held, after queuing: wakes the worker or schedules a turn.
  void schedule(std::unique_lock<std::mutex>& lock);
  void run_syncer();
  void commit(Waiters& waiters);
  // The visitor ids of `day`, keyed with its salt, from the store when the day changed (then
  // earlier days are deleted).
  store::StoreResult<policy::VisitorIds*> ids_of(const std::string& day);
  // After the salt of a new day was fetched, deletes a bounded part of the days before `day`
  // after each batch, until none is left.
  void forget_if_due(const std::string& day);
  void acknowledge(Applied& batch, const store::StoreResult<void>& synced);
  // Answers one key's waiters with their results, else the error to each. Metrics first:
  // a client that has its answer may read /metrics at once. The first failed key of a
  // batch counts the batch as failed.
  void answer(std::vector<Pending>& waiters, const KeyResults& results,
              std::chrono::steady_clock::time_point batch_started, std::atomic<bool>& batch_failed);
  void enqueue(Task task);
  // The reader's path: a read queued for the reader thread, and its loop.
  struct Read {
    ReadCallback done;
    std::chrono::steady_clock::time_point send_by;
  };
  struct ReadTask {
    StoreTask task;
    std::chrono::steady_clock::time_point send_by;
  };
  // What the reader takes in one round.
  struct ReadRound {
    std::unordered_map<std::string, std::vector<Read>> reads;
    std::vector<ReadTask> tasks;
    bool empty() const { return reads.empty() && tasks.empty(); }
  };
  void run_reader();
  void read_round(ReadRound& round);
  // Queues on the reader's path (starting its thread); false once stopping.
  bool queue_read(const std::function<void(ReadRound&)>& add);
  // Takes one of the reader's pending slots; false (and counted as shed) when none is left.
  bool admit_read();
  // Records a store's ping answer and says what it means now.
  Health note_ping(const store::StoreResult<void>& pinged);
  // Health: a write's outcome, and what a store's ping answer means now.
  void note_write(const KeyResults& results);
  Health health_of(const store::StoreResult<void>& pinged,
                   std::chrono::steady_clock::time_point now);
  // Takes one pending slot; false (and counted as shed) when none is left.
  bool admit();
  void release(std::size_t n);

  store::Store& store_;
  metrics::Registry& metrics_;
  const std::size_t max_pending_;
  const std::chrono::milliseconds queue_timeout_;
  const std::int64_t repeat_window_;
  const std::size_t max_counters_;
  const bool create_counters_;
  const bool history_;
  const Clock clock_;
  const Runner run_on_;
  std::string salt_day_;  // the committing thread's: the day of ids_
  std::optional<policy::VisitorIds> ids_;
  bool forget_due_ = false;  // the committing thread's: the day changed, older days remain
  std::string newest_day_;   // the committing thread's: the latest day a batch counted on
  util::LogThrottle forget_log_{util::log_to_stderr};
  std::atomic<std::size_t> pending_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  Waiters waiters_;
  std::vector<Task> tasks_;
  bool stopping_ = false;
  bool turn_scheduled_ = false;  // with run_on_: a turn is queued or running
  std::mutex turn_mutex_;        // with run_on_: held by the one thread applying a turn
  std::thread worker_;           // without run_on_: started by the first hit or task
  std::condition_variable reap_wake_;
  bool reaper_idle_ = false;  // waiting for a hit to come, with no deadline to wake at
  std::thread reaper_;        // with a queue_timeout: started by the first hit

  store::Store* const reader_;
  std::atomic<std::size_t> reads_pending_{0};
  std::mutex read_mutex_;
  std::condition_variable read_wake_;
  ReadRound queued_reads_;
  bool read_stopping_ = false;
  std::thread read_worker_;  // with a reader: started by the first read or ping

  std::mutex health_mutex_;
  std::vector<PingCallback> ping_waiters_;  // for the one ping queued or in flight
  std::optional<std::chrono::steady_clock::time_point> write_failed_at_;  // the last failure's
  std::optional<std::chrono::steady_clock::time_point> answered_at_;      // the last ping answered
  bool ping_failed_ = false;                                              // the last ping failed

  std::mutex sync_mutex_;
  std::condition_variable sync_wake_;
  std::vector<Applied> applied_;  // applied, not yet synced
  const std::chrono::steady_clock::duration slow_sync_;
  std::optional<std::chrono::steady_clock::time_point> sync_started_;  // while one runs
  bool turn_held_ = false;
  bool sync_stopping_ = false;
  std::thread syncer_;  // only when the store defers its sync
};

}  // namespace counting
