// Write combiner: one worker loop that drains all queued hits into one store batch.
#include "counting/write_combiner.hpp"

#include <chrono>

namespace counting {
namespace {

store::StoreError stopped() { return store::StoreError{"the counter is shutting down"}; }

// Stands in for the store once the combiner stops, so late calls still get an answer.
class ClosedStore final : public store::Store {
 public:
  store::StoreResult<std::vector<std::int64_t>> add(std::span<const store::Increment>) override {
    return std::unexpected(stopped());
  }
  store::StoreResult<std::optional<std::int64_t>> get(std::string_view) override {
    return std::unexpected(stopped());
  }
  store::StoreResult<void> ping() override { return std::unexpected(stopped()); }
};

}  // namespace

WriteCombiner::WriteCombiner(store::Store& store, metrics::Registry& metrics)
    : store_(store), metrics_(metrics), worker_([this] { run(); }) {
  if (store_.defers_sync()) syncer_ = std::thread([this] { run_syncer(); });
}

WriteCombiner::~WriteCombiner() { stop(); }

void WriteCombiner::hit(std::string key, HitCallback done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      waiters_[std::move(key)].push_back(std::move(done));
      wake_.notify_one();
      return;
    }
  }
  done(std::unexpected(stopped()));
}

void WriteCombiner::read(std::string key, ReadCallback done) {
  enqueue([key = std::move(key), done = std::move(done)](store::Store& s) mutable {
    done(s.get(key));
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
  batch.reserve(waiters.size());
  for (const auto& [key, callbacks] : waiters) {
    batch.push_back({key, static_cast<std::int64_t>(callbacks.size())});
  }
  Applied applied{.waiters = {}, .values = {}, .started = std::chrono::steady_clock::now()};
  auto values = store_.add(batch);
  if (!values) {
    metrics_.count_failed_batch();
    for (auto& [key, callbacks] : waiters) {
      for (HitCallback& done : callbacks) done(std::unexpected(values.error()));
    }
    return;
  }
  applied.waiters = std::move(waiters);
  applied.values = std::move(*values);
  if (!syncer_.joinable()) return acknowledge(applied, {});
  std::lock_guard lock(sync_mutex_);
  applied_.push_back(std::move(applied));
  sync_wake_.notify_one();
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
  if (!synced) {
    // Applied but maybe not durable: refuse the hits (the count stays within sent).
    metrics_.count_failed_batch();
    for (auto& [key, callbacks] : batch.waiters) {
      for (HitCallback& done : callbacks) done(std::unexpected(synced.error()));
    }
    return;
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - batch.started;
  std::uint64_t hits = 0;
  for (const auto& [key, callbacks] : batch.waiters) hits += callbacks.size();
  // Metrics first: a client that has its answer may read /metrics at once.
  metrics_.observe_batch(batch.waiters.size(), hits, took.count());
  metrics_.count_hits(hits);
  std::size_t i = 0;
  for (auto& [key, callbacks] : batch.waiters) {
    // The batch added n to this key: its waiters get v-n+1 … v, in arrival order.
    std::int64_t value = batch.values[i++] - static_cast<std::int64_t>(callbacks.size());
    for (HitCallback& done : callbacks) done(++value);
  }
}

}  // namespace counting
