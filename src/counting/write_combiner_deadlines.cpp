// Write combiner, deadlines: the reaper that answers, at their deadline, the hits still
// waiting to be sent to the store; they are never applied.
#include <algorithm>
#include <chrono>
#include <iterator>

#include "counting/combiner_detail.hpp"
#include "counting/write_combiner.hpp"

namespace counting {

using namespace combiner_detail;

void WriteCombiner::run_reaper() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto next = std::chrono::steady_clock::time_point::max();
    for (const auto& [key, pending] : waiters_) next = std::min(next, pending.front().send_by);
    if (next == std::chrono::steady_clock::time_point::max()) {
      reaper_idle_ = true;
      reap_wake_.wait(lock);  // until a hit comes, or stop()
      reaper_idle_ = false;
      continue;
    }
    reap_wake_.wait_until(lock, next);
    std::vector<Pending> late = take_expired(waiters_, std::chrono::steady_clock::now());
    if (late.empty()) continue;
    lock.unlock();
    refuse_expired(late);
    lock.lock();
  }
}

std::vector<WriteCombiner::Pending> WriteCombiner::take_expired(
    Waiters& waiters, std::chrono::steady_clock::time_point now) {
  std::vector<Pending> late;
  for (auto it = waiters.begin(); it != waiters.end();) {
    std::vector<Pending>& pending = it->second;  // in arrival order: the late ones first
    auto first_on_time = std::find_if(pending.begin(), pending.end(),
                                      [now](const Pending& p) { return p.send_by > now; });
    std::move(pending.begin(), first_on_time, std::back_inserter(late));
    pending.erase(pending.begin(), first_on_time);
    it = pending.empty() ? waiters.erase(it) : std::next(it);
  }
  return late;
}

void WriteCombiner::refuse_expired(std::vector<Pending>& expired_hits) {
  if (expired_hits.empty()) return;
  metrics_.count_expired(expired_hits.size());
  release(expired_hits.size());
  for (Pending& p : expired_hits) p.done(std::unexpected(expired()));
}

}  // namespace counting
