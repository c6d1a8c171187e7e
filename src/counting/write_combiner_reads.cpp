// Write combiner, reads and health: the reader's own path (a second store, its own bound,
// one store read per key per round) and the health checks (one ping at a time, a good
// answer reused for a second, a failed write shown until one succeeds).
#include <algorithm>
#include <chrono>

#include "counting/combiner_detail.hpp"
#include "counting/write_combiner.hpp"
#include "util/thread_name.hpp"

namespace counting {

using namespace combiner_detail;

bool WriteCombiner::admit_read() {
  if (take_slot(reads_pending_, max_pending_)) return true;
  metrics_.count_shed();
  return false;
}

void WriteCombiner::read(std::string key, ReadCallback done) {
  if (reader_ != nullptr) {
    if (!admit_read()) return done(std::unexpected(overloaded()));
    const auto send_by = deadline_after(queue_timeout_);
    if (queue_read([&](ReadRound& round) {
          round.reads[std::move(key)].push_back({std::move(done), send_by});
        })) {
      return;
    }
    reads_pending_.fetch_sub(1, std::memory_order_relaxed);
    return done(std::unexpected(stopped()));
  }
  if (!admit()) return done(std::unexpected(overloaded()));
  enqueue([this, key = std::move(key), done = std::move(done)](store::Store& s) mutable {
    auto value = s.get(key);
    release(1);
    done(std::move(value));
  });
}

void WriteCombiner::read_with_store(StoreTask task) {
  if (reader_ == nullptr) return with_store(std::move(task));
  if (!admit_read()) {
    UnavailableStore busy(overloaded());
    return task(busy);
  }
  const auto send_by = deadline_after(queue_timeout_);
  if (queue_read([&](ReadRound& round) { round.tasks.push_back({std::move(task), send_by}); })) {
    return;
  }
  reads_pending_.fetch_sub(1, std::memory_order_relaxed);
  UnavailableStore closed(stopped());
  task(closed);
}

bool WriteCombiner::queue_read(const std::function<void(ReadRound&)>& add) {
  std::lock_guard lock(read_mutex_);
  if (read_stopping_) return false;
  if (!read_worker_.joinable()) {
    read_worker_ = util::named_thread("vc-reader", [this] { run_reader(); });
  }
  add(queued_reads_);
  read_wake_.notify_one();
  return true;
}

void WriteCombiner::ping(PingCallback done) {
  const auto now = std::chrono::steady_clock::now();
  std::optional<Health> reused;
  {
    std::lock_guard lock(health_mutex_);
    if (answered_at_ && now - *answered_at_ < kPingReused) reused = health_of({}, now);
  }
  if (reused) return done(*reused);
  {
    // One ping at a time, on the store that counts (its connection is what a health check
    // is about); the checks that come meanwhile wait for its answer.
    std::lock_guard lock(health_mutex_);
    ping_waiters_.push_back(std::move(done));
    if (ping_waiters_.size() > 1) return;
  }
  enqueue([this](store::Store& s) {
    const Health health = note_ping(s.ping());
    std::vector<PingCallback> waiting;
    {
      std::lock_guard lock(health_mutex_);
      waiting.swap(ping_waiters_);
    }
    for (PingCallback& answer : waiting) answer(health);
  });
}

Health WriteCombiner::note_ping(const store::StoreResult<void>& pinged) {
  const auto at = std::chrono::steady_clock::now();
  std::lock_guard lock(health_mutex_);
  if (pinged) {
    if (ping_failed_) write_failed_at_.reset();  // back after an outage
    answered_at_ = at;
  }
  ping_failed_ = !pinged;
  return health_of(pinged, at);
}

void WriteCombiner::run_reader() {
  for (;;) {
    ReadRound round;
    {
      std::unique_lock lock(read_mutex_);
      read_wake_.wait(lock, [this] { return read_stopping_ || !queued_reads_.empty(); });
      if (queued_reads_.empty()) return;  // stopping, nothing left
      std::swap(round, queued_reads_);
    }
    read_round(round);
  }
}

void WriteCombiner::read_round(ReadRound& round) {
  for (ReadTask& queued : round.tasks) {
    if (queued.send_by < std::chrono::steady_clock::now()) {
      metrics_.count_expired(1);
      UnavailableStore late(expired());
      queued.task(late);
    } else {
      queued.task(*reader_);
    }
    reads_pending_.fetch_sub(1, std::memory_order_relaxed);
  }
  for (auto& [key, waiting] : round.reads) {
    // A read whose deadline passed before its turn is refused, not sent.
    const auto now = std::chrono::steady_clock::now();
    const auto on_time = std::partition(waiting.begin(), waiting.end(),
                                        [now](const Read& r) { return r.send_by < now; });
    const auto late = static_cast<std::size_t>(on_time - waiting.begin());
    if (late > 0) metrics_.count_expired(late);
    reads_pending_.fetch_sub(waiting.size(), std::memory_order_relaxed);
    for (auto it = waiting.begin(); it != on_time; ++it) it->done(std::unexpected(expired()));
    if (on_time == waiting.end()) continue;
    const auto value = reader_->get(key);  // one read for every reader of this key
    for (auto it = on_time; it != waiting.end(); ++it) it->done(value);
  }
}

Health WriteCombiner::health_of(const store::StoreResult<void>& pinged,
                                std::chrono::steady_clock::time_point now) {
  if (!pinged && pinged.error().kind == Kind::halted) {
    metrics_.set_store_halted();
    return Health::halted;
  }
  if (!pinged) return Health::unavailable;
  const bool failing = write_failed_at_ && now - *write_failed_at_ < kWriteFailureShown;
  metrics_.set_write_failing(failing);
  return failing ? Health::cannot_write : Health::ok;
}

void WriteCombiner::note_write(const KeyResults& results) {
  const bool failed =
      !results && results.error().kind != Kind::overloaded && results.error().kind != Kind::refused;
  if (!results && results.error().kind == Kind::halted) metrics_.set_store_halted();
  std::lock_guard lock(health_mutex_);
  if (failed) {
    write_failed_at_ = std::chrono::steady_clock::now();
  } else if (results) {
    write_failed_at_.reset();
  }
  metrics_.set_write_failing(failed);
}

}  // namespace counting
