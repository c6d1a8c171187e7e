// A rate limit on a stream of log lines, so that a failure that repeats thousands of times a
// second (a store that is down, and every batch failing) gives a few lines and a count, not
// a flood: a flood costs CPU, buries the first line that says what went wrong, and blocks the
// writer outright once a stderr pipe nobody reads is full.
//
// At most `burst` lines are passed to the sink per window of `interval`, the window starting
// with the first line after the previous one ended. The lines over the limit are counted; the
// count is appended to the next line passed on, and flushed as a line of its own when the
// throttle is destroyed. Thread-safe; the sink is called under the throttle's lock, so lines
// never interleave.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace util {

// Writes "visitor-counter: LINE\n" to stderr in one call, so lines from threads never mix:
// the one sink of the program's error lines (a LogThrottle's, or a single line's).
void log_to_stderr(std::string_view line);

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  using Sink = std::function<void(std::string_view line)>;

  explicit LogThrottle(Sink sink, int burst = 5,
                       Clock::duration interval = std::chrono::seconds(10))
      : sink_(std::move(sink)), burst_(burst), interval_(interval) {}
  LogThrottle(const LogThrottle&) = delete;
  LogThrottle& operator=(const LogThrottle&) = delete;
  ~LogThrottle();

  // Passes `line` on, or counts it when this window's `burst` lines have been passed.
  void log(std::string_view line, Clock::time_point now = Clock::now());

 private:
  std::string note() const;  // what was held back, under the lock

  const Sink sink_;
  const int burst_;
  const Clock::duration interval_;
  std::mutex mutex_;
  Clock::time_point window_end_{};
  int passed_ = 0;                // lines passed on in this window
  std::uint64_t suppressed_ = 0;  // lines counted since the last line passed on
};

}  // namespace util
