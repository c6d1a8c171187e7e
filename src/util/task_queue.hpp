// A queue of tasks that may add tasks, worked by several threads at once until every task
// has finished. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <semaphore>

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
  // A task that runs beside its caller's own work: queued first, for a free worker to take,
  // and joined by the caller, which runs it itself when no worker has taken it yet (so it
  // never waits on a queue whose workers are all busy, or on none at all).
  class Beside {
   public:
    explicit Beside(std::function<void()> task) : task_(std::move(task)) {}
    // Returns once the task has run, here or on a worker.
    void join() {
      if (taken_.exchange(true)) {
        ran_.acquire();
      } else {
        task_();
      }
    }
    // Drops the task if no worker has taken it (true: it never runs), else returns once it
    // has run there (false).
    bool drop_or_join() {
      if (!taken_.exchange(true)) return true;
      ran_.acquire();
      return false;
    }

   private:
    friend class TaskQueue;
    std::function<void()> task_;
    std::atomic<bool> taken_{false};
    std::binary_semaphore ran_{0};
  };
  // The caller must join() or drop_or_join() what this returns (what `task` refers to must
  // live until then).
  std::shared_ptr<Beside> push_beside(std::function<void()> task) {
    auto beside = std::make_shared<Beside>(std::move(task));
    push(
        [beside] {
          if (beside->taken_.exchange(true)) return;  // the caller ran it
          beside->task_();
          beside->ran_.release();
        },
        /*urgent=*/true);
    return beside;
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
