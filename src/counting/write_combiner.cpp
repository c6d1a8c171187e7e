// Write combiner: a worker loop, or turns on the caller's threads, each draining all queued
// hits into one store batch.
#include "counting/write_combiner.hpp"

#include <algorithm>
#include <chrono>

#include "counting/combiner_detail.hpp"
#include "util/thread_name.hpp"
#include "util/utc_day.hpp"

namespace counting {

using namespace combiner_detail;

WriteCombiner::WriteCombiner(store::Store& store, metrics::Registry& metrics,
                             CombinerOptions options)
    : store_(store),
      metrics_(metrics),
      max_pending_(std::max<std::size_t>(options.max_pending, 1)),
      queue_timeout_(options.queue_timeout),
      repeat_window_(options.repeat_window.count()),
      max_counters_(options.max_counters),
      create_counters_(options.create_counters),
      history_(options.history),
      clock_(options.clock ? std::move(options.clock)
                           : Clock([] { return std::chrono::system_clock::now(); })),
      run_on_(std::move(options.run_on)),
      reader_(options.reader),
      slow_sync_(queue_timeout_.count() > 0
                     ? std::chrono::steady_clock::duration(queue_timeout_ / 4)
                     : std::chrono::steady_clock::duration::max()) {
  if (store_.defers_sync()) syncer_ = util::named_thread("vc-syncer", [this] { run_syncer(); });
}

WriteCombiner::~WriteCombiner() { stop(); }

bool WriteCombiner::admit() {
  if (!take_slot(pending_, max_pending_)) {
    metrics_.count_shed();
    return false;
  }
  metrics_.add_pending(1);
  return true;
}

void WriteCombiner::release(std::size_t n) {
  pending_.fetch_sub(n, std::memory_order_relaxed);
  metrics_.add_pending(-static_cast<std::int64_t>(n));
}

void WriteCombiner::hit(std::string key, Visitor visitor, HitCallback done) {
  if (!admit()) return done(std::unexpected(overloaded()));
  const auto send_by = deadline_after(queue_timeout_);
  {
    std::unique_lock lock(mutex_);
    if (!stopping_) {
      if (queue_timeout_.count() > 0) {
        // Woken only from its idle wait: a deadline it sleeps until comes before this one.
        if (!reaper_.joinable()) {
          reaper_ = util::named_thread("vc-reaper", [this] { run_reaper(); });
        }
        if (std::exchange(reaper_idle_, false)) reap_wake_.notify_one();
      }
      waiters_[std::move(key)].push_back({std::move(visitor), std::move(done), send_by});
      return schedule(lock);
    }
  }
  release(1);
  done(std::unexpected(stopped()));
}

void WriteCombiner::with_store(StoreTask task) {
  if (!admit()) {
    UnavailableStore busy(overloaded());
    return task(busy);
  }
  enqueue([this, task = std::move(task)](store::Store& s) mutable {
    task(s);
    release(1);
  });
}

void WriteCombiner::enqueue(Task task) {
  {
    std::unique_lock lock(mutex_);
    if (!stopping_) {
      tasks_.push_back(std::move(task));
      return schedule(lock);
    }
  }
  UnavailableStore closed(stopped());
  task(closed);
}

void WriteCombiner::prefetch_salt() {
  // Queued like an owner's task, so it runs where commits run (the salt's state is the
  // committing thread's), but not bounded by max_pending: nothing waits on it. Once
  // stopping there is nothing to fetch for.
  std::unique_lock lock(mutex_);
  if (stopping_) return;
  tasks_.push_back([this](store::Store&) { (void)ids_of(util::utc_day(clock_())); });
  schedule(lock);
}

void WriteCombiner::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    wake_.notify_one();
    reap_wake_.notify_one();
  }
  if (reaper_.joinable()) reaper_.join();
  {
    std::lock_guard lock(read_mutex_);
    read_stopping_ = true;  // the reader answers what is queued, then stops
    read_wake_.notify_one();
  }
  if (read_worker_.joinable()) read_worker_.join();
  if (worker_.joinable()) {
    worker_.join();
  } else {
    // Turns still queued on run_on may never run now (the server stops its threads first):
    // what they would have applied is applied here, after a turn in progress.
    apply_queued();
  }
  if (!syncer_.joinable()) return;
  {
    std::lock_guard lock(sync_mutex_);
    sync_stopping_ = true;
    sync_wake_.notify_one();
  }
  syncer_.join();
}

void WriteCombiner::run() {
  for (;;) {
    Waiters waiters;
    std::vector<Task> tasks;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !waiters_.empty() || !tasks_.empty(); });
      if (waiters_.empty() && tasks_.empty()) return;  // stopping, nothing left
      // Woken by the first hit: let the I/O threads, if they are runnable on this core,
      // finish queuing the hits they have already read, so they join this batch. On a
      // one-core box this doubled durable throughput (bench/http_bench.py); with a spare
      // core it returns at once.
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
      waiters.swap(waiters_);
      tasks.swap(tasks_);
    }
    process(waiters, tasks);
  }
}

void WriteCombiner::schedule(std::unique_lock<std::mutex>& lock) {
  if (!run_on_) {
    // Started on first need: a Lambda function's init does not wait for a thread.
    if (!worker_.joinable()) worker_ = util::named_thread("vc-counter", [this] { run(); });
    return wake_.notify_one();
  }
  if (turn_scheduled_) return;  // the queued turn will take this too
  turn_scheduled_ = true;
  lock.unlock();
  run_on_([this] { turn(); });
}

void WriteCombiner::apply_queued() {
  std::lock_guard holder(turn_mutex_);
  Waiters waiters;
  std::vector<Task> tasks;
  {
    std::lock_guard lock(mutex_);
    waiters.swap(waiters_);
    tasks.swap(tasks_);
  }
  process(waiters, tasks);
}

void WriteCombiner::turn() {
  if (hold_for_sync()) return;  // run_syncer() runs this turn once its sync is done
  apply_queued();
  {
    std::lock_guard lock(mutex_);
    if (waiters_.empty() && tasks_.empty()) {
      turn_scheduled_ = false;
      return;
    }
  }
  // More came while this turn ran: the next one goes behind the requests the loop has ready.
  run_on_([this] { turn(); });
}

bool WriteCombiner::hold_for_sync() {
  if (!syncer_.joinable()) return false;
  std::lock_guard lock(sync_mutex_);
  turn_held_ = sync_started_ && !applied_.empty() &&
               std::chrono::steady_clock::now() - *sync_started_ > slow_sync_;
  return turn_held_;
}

void WriteCombiner::process(Waiters& waiters, std::vector<Task>& tasks) {
  std::vector<Pending> late = take_expired(waiters, std::chrono::steady_clock::now());
  refuse_expired(late);
  if (!waiters.empty()) commit(waiters);
  for (Task& task : tasks) task(store_);
}

store::StoreResult<policy::VisitorIds*> WriteCombiner::ids_of(const std::string& day) {
  if (day == salt_day_) return &*ids_;
  auto salt = store_.salt(day);
  if (!salt) return std::unexpected(salt.error());
  salt_day_ = day;
  ids_.emplace(*salt);
  forget_due_ = true;  // once this batch is answered: see forget_if_due()
  return &*ids_;
}

void WriteCombiner::commit(Waiters& waiters) {
  const auto started = std::chrono::steady_clock::now();
  auto now = clock_();
  std::string day = util::utc_day(now);
  if (day < newest_day_) {
    // The clock stepped back across midnight: never count into a day that is over (its salt
    // may be deleted already, and a new one would count its readers twice).
    day = newest_day_;
    now = std::chrono::system_clock::time_point(std::chrono::seconds(util::day_start(day)));
  }
  newest_day_ = day;
  std::uint64_t total = 0;
  for (const auto& [key, pending] : waiters) total += pending.size();
  metrics_.observe_batch(waiters.size(), total);

  // The salt is asked for only when a hit has a visitor to make an id of: never in the
  // classic profile, which tracks none.
  const bool any_tracked = std::ranges::any_of(waiters, [](const auto& entry) {
    return std::ranges::any_of(entry.second, [](const Pending& p) { return p.visitor.tracked; });
  });
  auto ids_of_day = any_tracked ? ids_of(day) : store::StoreResult<policy::VisitorIds*>(nullptr);
  if (!ids_of_day) {
    std::atomic<bool> failed{false};
    for (auto& [key, pending] : waiters) {
      answer(pending, std::unexpected(ids_of_day.error()), started, failed);
    }
    return;
  }
  // Visitor ids first, then the hits that point into them, then the keys' spans of hits:
  // each vector is filled before anything points into it.
  std::vector<std::string> ids;
  ids.reserve(total);
  for (const auto& [key, pending] : waiters) {
    for (const Pending& p : pending) {
      ids.push_back(p.visitor.tracked
                        ? (*ids_of_day)->id(p.visitor.client, p.visitor.user_agent, key)
                        : std::string());
    }
  }
  std::vector<store::Hit> hits;
  hits.reserve(total);
  std::size_t next_id = 0;
  for (const auto& [key, pending] : waiters) {
    for (const Pending& p : pending) {
      hits.push_back({.visitor = ids[next_id++], .idempotency_key = p.visitor.idempotency_key});
    }
  }
  std::vector<store::KeyHits> keys;
  std::vector<std::vector<Pending>*> pending_of;  // by batch index
  keys.reserve(waiters.size());
  pending_of.reserve(waiters.size());
  std::size_t at = 0;
  for (auto& [key, pending] : waiters) {
    keys.push_back({.key = key,
                    .hits = std::span(hits).subspan(at, pending.size()),
                    .send_by = pending.front().send_by});
    pending_of.push_back(&pending);
    at += pending.size();
  }
  const store::Batch batch{
      .day = day,
      .now = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count(),
      .repeat_window = repeat_window_,
      .marker_expires = util::next_utc_midnight(now),
      .keys = keys,
      .max_counters = max_counters_,
      .create_counters = create_counters_,
      .history = history_};

  if (syncer_.joinable()) {
    // Deferred sync: every result waits for a sync that begins after this batch.
    Applied applied{.waiters = {},
                    .results = std::vector<KeyResults>(keys.size()),
                    .started = started,
                    .hits = total};
    store_.add(batch, [&applied](std::size_t i, KeyResults results) {
      applied.results[i] = std::move(results);
    });
    applied.waiters = std::move(waiters);  // a moved map keeps its iteration order
    {
      std::lock_guard lock(sync_mutex_);
      applied_.push_back(std::move(applied));
      sync_wake_.notify_one();
    }
    return forget_if_due(day);
  }
  // Each key is answered as soon as the store reports it, possibly from the store's threads.
  std::atomic<bool> failed{false};
  store_.add(batch, [&](std::size_t i, KeyResults results) {
    answer(*pending_of[i], results, started, failed);
  });
  forget_if_due(day);
}

void WriteCombiner::forget_if_due(const std::string& day) {
  if (!forget_due_) return;
  // Yesterday's salt must not outlive its day: the store deletes it first, and what is left
  // (or a failure, logged) is taken up again after the next batch, one bounded chunk per
  // batch, until nothing is. Never before a batch: the day's first answers do not wait for
  // the deletes (two DynamoDB round trips of a Lambda function's first response, or
  // SQLite's old marks).
  const store::StoreResult<bool> forgotten = store_.forget_before(day);
  if (!forgotten) {
    forget_log_.log("deleting the days before " + day +
                    " failed (retried after the next batch): " + forgotten.error().message);
    return;
  }
  forget_due_ = !*forgotten;
}

void WriteCombiner::run_syncer() {
  for (;;) {
    std::vector<Applied> batches;
    std::chrono::steady_clock::time_point started;
    {
      std::unique_lock lock(sync_mutex_);
      sync_wake_.wait(lock, [this] { return sync_stopping_ || !applied_.empty(); });
      if (applied_.empty()) return;  // stopping, nothing left
      batches.swap(applied_);
      sync_started_ = std::chrono::steady_clock::now();
      started = *sync_started_;
    }
    const store::StoreResult<void> synced = store_.sync();  // covers every batch taken
    std::uint64_t hits = 0;
    for (const Applied& batch : batches) hits += batch.hits;
    metrics_.observe_sync(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), hits);
    bool resume = false;
    {
      std::lock_guard lock(sync_mutex_);
      sync_started_.reset();
      resume = std::exchange(turn_held_, false);
    }
    for (Applied& batch : batches) acknowledge(batch, synced);
    if (resume) run_on_([this] { turn(); });
  }
}

void WriteCombiner::acknowledge(Applied& batch, const store::StoreResult<void>& synced) {
  std::atomic<bool> failed{false};
  std::size_t i = 0;
  for (auto& [key, pending] : batch.waiters) {
    KeyResults& results = batch.results[i++];
    // Applied but maybe not durable: the hit may or may not survive a power cut.
    if (results && !synced) {
      results = std::unexpected(store::StoreError{synced.error().message, Kind::outcome_unknown});
    }
    answer(pending, results, batch.started, failed);
  }
}

void WriteCombiner::answer(std::vector<Pending>& waiters, const KeyResults& results,
                           std::chrono::steady_clock::time_point batch_started,
                           std::atomic<bool>& batch_failed) {
  note_write(results);
  const std::size_t n = waiters.size();
  if (!results || results->size() != n) {
    const store::StoreError error =
        results ? store::StoreError{"the store answered the wrong number of hits",
                                    Kind::outcome_unknown}
                : results.error();
    if (error.kind == Kind::overloaded) {
      metrics_.count_expired(n);  // the store did not send it by its send_by
    } else if (error.kind == Kind::refused) {
      metrics_.count_refused_new_counter(n);
    } else if (!batch_failed.exchange(true)) {
      metrics_.count_failed_batch();
    }
    if (error.kind == Kind::outcome_unknown) metrics_.count_outcome_unknown(n);
    release(n);
    for (Pending& p : waiters) p.done(std::unexpected(error));
    return;
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - batch_started;
  metrics_.observe_commit(took.count());
  std::uint64_t counted = 0;
  std::uint64_t repeats = 0;
  std::uint64_t replays = 0;
  for (const store::HitResult& result : *results) {
    counted += store::counted(result.seen);
    repeats += result.seen == store::Seen::repeat;
    replays += result.seen == store::Seen::replayed;
  }
  metrics_.count_hits(counted);
  if (repeats > 0) metrics_.count_ignored(metrics::Ignored::repeat, repeats);
  if (replays > 0) metrics_.count_ignored(metrics::Ignored::idempotent_replay, replays);
  release(n);
  for (std::size_t i = 0; i < n; ++i) waiters[i].done((*results)[i]);
}

}  // namespace counting
