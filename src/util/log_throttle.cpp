// LogThrottle: a fixed window per burst, and the count of what it held back; and the
// stderr sink.
#include "util/log_throttle.hpp"

#include <iostream>
#include <string>

namespace util {

void log_to_stderr(std::string_view line) {
  std::string text = "visitor-counter: ";
  text.append(line).append("\n");
  std::cerr << text << std::flush;
}

// "[N earlier lines not logged: over B per S s]"
std::string LogThrottle::note() const {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(interval_).count();
  std::string text = "[";
  text.append(std::to_string(suppressed_))
      .append(suppressed_ == 1 ? " earlier line" : " earlier lines")
      .append(" not logged: over ")
      .append(std::to_string(burst_))
      .append(" per ")
      .append(std::to_string(seconds))
      .append(" s]");
  return text;
}

LogThrottle::~LogThrottle() {
  if (suppressed_ > 0) sink_(note());
}

void LogThrottle::log(std::string_view line, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (now >= window_end_) {
    window_end_ = now + interval_;
    passed_ = 0;
  }
  if (passed_ >= burst_) {
    ++suppressed_;
    return;
  }
  ++passed_;
  if (suppressed_ == 0) {
    sink_(line);
    return;
  }
  std::string text(line);
  text.append(" ").append(note());
  sink_(text);
  suppressed_ = 0;
}

}  // namespace util
