// A queue of tasks that may add tasks, worked by several threads at once until every task
// has finished. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace util {

// Runs in order, except that urgent tasks go first.
class TaskQueue {
 public:
  void push(std::function<void()> task, bool urgent = false) {
    std::lock_guard lock(mutex_);
    if (urgent) {
      tasks_.push_front(std::move(task));
    } else {
      tasks_.push_back(std::move(task));
    }
    ++unfinished_;
    wake_.notify_one();
  }
  // Runs tasks until none is queued or running.
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return !tasks_.empty() || unfinished_ == 0; });
      if (tasks_.empty()) return;
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
      if (--unfinished_ == 0) wake_.notify_all();
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::size_t unfinished_ = 0;  // queued or running
};

}  // namespace util
