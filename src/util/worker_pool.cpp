// WorkerPool: helpers wait for open slots; the caller closes the slots when its own run
// returns, then waits for the helpers still inside `work`.
#include "util/worker_pool.hpp"

#include <algorithm>

namespace util {

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void WorkerPool::run(std::size_t helpers, const std::function<void()>& work) {
  helpers = std::min(helpers, max_threads_);
  if (helpers > 0) {
    std::lock_guard lock(mutex_);
    while (threads_.size() < helpers) threads_.emplace_back([this] { serve(); });
    work_ = &work;
    open_slots_ = helpers;
  }
  wake_.notify_all();
  work();
  if (helpers == 0) return;
  std::unique_lock lock(mutex_);
  open_slots_ = 0;
  finished_.wait(lock, [this] { return running_ == 0; });
  work_ = nullptr;
}

void WorkerPool::serve() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || open_slots_ > 0; });
    if (stopping_) return;
    --open_slots_;
    ++running_;
    const std::function<void()>& work = *work_;
    lock.unlock();
    work();
    lock.lock();
    if (--running_ == 0) finished_.notify_all();
  }
}

}  // namespace util
