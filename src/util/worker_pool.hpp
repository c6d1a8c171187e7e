// A set of threads that help one caller run a function in parallel (a fork-join with
// persistent threads, so a batch costs no thread creation). Threads start on first need,
// up to the pool's size, and live until the pool is destroyed.
//
// One caller at a time: run() must not be called concurrently or from inside `work`.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace util {

class WorkerPool {
 public:
  explicit WorkerPool(std::size_t max_threads) : max_threads_(max_threads) {}
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();

  // Runs `work` on the calling thread and on up to `helpers` pool threads at once, and
  // returns when every run that started has returned. A helper that wakes after the
  // caller's own run has returned does not start, so `work` should take its items from a
  // shared queue until none is left, rather than expect a fixed number of runs.
  void run(std::size_t helpers, const std::function<void()>& work);

 private:
  void serve();

  const std::size_t max_threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable finished_;
  const std::function<void()>* work_ = nullptr;
  std::size_t open_slots_ = 0;  // helpers that may still start on work_
  std::size_t running_ = 0;     // helpers inside work_
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace util
