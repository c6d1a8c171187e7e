// Write combiner: one worker loop that drains all queued hits into one store batch.
#include "counting/write_combiner.hpp"

#include <algorithm>
#include <chrono>

namespace counting {
namespace {

using Kind = store::StoreError::Kind;

store::StoreError stopped() { return {"the counter is shutting down", Kind::failed}; }
store::StoreError overloaded() { return {"too many hits and reads pending", Kind::overloaded}; }

// Stands in for the store once the combiner stops, so late calls still get an answer.
class ClosedStore final : public store::Store {
 public:
  void add(std::span<const store::Increment> batch, const store::AddCallback& done) override {
    store::report_batch(std::unexpected(stopped()), batch.size(), done);
  }
  store::StoreResult<std::optional<std::int64_t>> get(std::string_view) override {
    return std::unexpected(stopped());
  }
  store::StoreResult<void> ping() override { return std::unexpected(stopped()); }
};

}  // namespace

WriteCombiner::WriteCombiner(store::Store& store, metrics::Registry& metrics,
                             CombinerOptions options)
    : store_(store),
      metrics_(metrics),
      max_pending_(std::max<std::size_t>(options.max_pending, 1)),
      worker_([this] { run(); }) {
  if (store_.defers_sync()) syncer_ = std::thread([this] { run_syncer(); });
}

WriteCombiner::~WriteCombiner() { stop(); }

bool WriteCombiner::admit() {
  std::size_t now = pending_.load(std::memory_order_relaxed);
  do {
    if (now >= max_pending_) {
      metrics_.count_shed();
      return false;
    }
  } while (!pending_.compare_exchange_weak(now, now + 1, std::memory_order_relaxed));
  metrics_.add_pending(1);
  return true;
}

void WriteCombiner::release(std::size_t n) {
  pending_.fetch_sub(n, std::memory_order_relaxed);
  metrics_.add_pending(-static_cast<std::int64_t>(n));
}

void WriteCombiner::hit(std::string key, HitCallback done) {
  if (!admit()) return done(std::unexpected(overloaded()));
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      waiters_[std::move(key)].push_back(std::move(done));
      wake_.notify_one();
      return;
    }
  }
  release(1);
  done(std::unexpected(stopped()));
}

void WriteCombiner::read(std::string key, ReadCallback done) {
  if (!admit()) return done(std::unexpected(overloaded()));
  enqueue([this, key = std::move(key), done = std::move(done)](store::Store& s) mutable {
    auto value = s.get(key);
    release(1);
    done(std::move(value));
  });
}

void WriteCombiner::ping(PingCallback done) {
  enqueue([done = std::move(done)](store::Store& s) mutable { done(s.ping()); });
}

void WriteCombiner::enqueue(Task task) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      tasks_.push_back(std::move(task));
      wake_.notify_one();
      return;
    }
  }
  ClosedStore closed;
  task(closed);
}

void WriteCombiner::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    wake_.notify_one();
  }
  worker_.join();
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
    if (!waiters.empty()) commit(waiters);
    for (Task& task : tasks) task(store_);
  }
}

void WriteCombiner::commit(Waiters& waiters) {
  std::vector<store::Increment> batch;
  std::vector<std::vector<HitCallback>*> callbacks_of;  // by batch index
  batch.reserve(waiters.size());
  callbacks_of.reserve(waiters.size());
  std::uint64_t hits = 0;
  for (auto& [key, callbacks] : waiters) {
    batch.push_back({key, static_cast<std::int64_t>(callbacks.size())});
    callbacks_of.push_back(&callbacks);
    hits += callbacks.size();
  }
  const auto started = std::chrono::steady_clock::now();
  metrics_.observe_batch(batch.size(), hits);
  if (syncer_.joinable()) {
    // Deferred sync: every result waits for a sync that begins after this batch.
    Applied applied{.waiters = {},
                    .values = std::vector<store::StoreResult<std::int64_t>>(batch.size()),
                    .started = started};
    store_.add(batch, [&applied](std::size_t i, store::StoreResult<std::int64_t> value) {
      applied.values[i] = std::move(value);
    });
    applied.waiters = std::move(waiters);  // a moved map keeps its iteration order
    std::lock_guard lock(sync_mutex_);
    applied_.push_back(std::move(applied));
    sync_wake_.notify_one();
    return;
  }
  // Each key is answered as soon as the store reports it, possibly from the store's threads.
  std::atomic<bool> failed{false};
  store_.add(batch, [&](std::size_t i, store::StoreResult<std::int64_t> value) {
    answer(*callbacks_of[i], value, started, failed);
  });
}

void WriteCombiner::run_syncer() {
  for (;;) {
    std::vector<Applied> batches;
    {
      std::unique_lock lock(sync_mutex_);
      sync_wake_.wait(lock, [this] { return sync_stopping_ || !applied_.empty(); });
      if (applied_.empty()) return;  // stopping, nothing left
      batches.swap(applied_);
    }
    const store::StoreResult<void> synced = store_.sync();  // covers every batch taken
    for (Applied& batch : batches) acknowledge(batch, synced);
  }
}

void WriteCombiner::acknowledge(Applied& batch, const store::StoreResult<void>& synced) {
  std::atomic<bool> failed{false};
  std::size_t i = 0;
  for (auto& [key, callbacks] : batch.waiters) {
    store::StoreResult<std::int64_t>& value = batch.values[i++];
    // Applied but maybe not durable: the hit may or may not survive a power cut.
    if (value && !synced) {
      value = std::unexpected(store::StoreError{synced.error().message, Kind::outcome_unknown});
    }
    answer(callbacks, value, batch.started, failed);
  }
}

void WriteCombiner::answer(std::vector<HitCallback>& callbacks,
                           const store::StoreResult<std::int64_t>& value,
                           std::chrono::steady_clock::time_point batch_started,
                           std::atomic<bool>& batch_failed) {
  const std::size_t n = callbacks.size();
  if (!value) {
    if (!batch_failed.exchange(true)) metrics_.count_failed_batch();
    if (value.error().kind == Kind::outcome_unknown) metrics_.count_outcome_unknown(n);
    release(n);
    for (HitCallback& done : callbacks) done(std::unexpected(value.error()));
    return;
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - batch_started;
  metrics_.observe_commit(took.count());
  metrics_.count_hits(n);
  release(n);
  // The batch added n to this key: its waiters get v-n+1 … v, in arrival order.
  std::int64_t next = *value - static_cast<std::int64_t>(n);
  for (HitCallback& done : callbacks) done(++next);
}

}  // namespace counting
