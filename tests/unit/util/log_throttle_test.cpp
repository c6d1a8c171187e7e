// LogThrottle: a burst per window passes, the rest is counted, and the count is told with
// the next line passed on or when the throttle goes.
#include "util/log_throttle.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace util {
namespace {

using namespace std::chrono_literals;
using Clock = LogThrottle::Clock;

TEST(LogThrottle, PassesABurstPerWindowAndCountsTheRest) {
  std::vector<std::string> lines;
  const Clock::time_point t0{};
  {
    LogThrottle throttle([&](std::string_view line) { lines.emplace_back(line); }, 3, 10s);
    for (int i = 0; i < 50; ++i) throttle.log("down " + std::to_string(i), t0 + 1s);
    EXPECT_EQ(lines, (std::vector<std::string>{"down 0", "down 1", "down 2"}));

    throttle.log("still down", t0 + 10s);  // the window is [1 s, 11 s): held back
    throttle.log("later", t0 + 11s);       // a new window
    throttle.log("later again", t0 + 12s);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[3], "later [48 earlier lines not logged: over 3 per 10 s]");
    EXPECT_EQ(lines[4], "later again");

    for (int i = 0; i < 3; ++i) throttle.log("x", t0 + 13s);  // 1 passed, 2 held back
    EXPECT_EQ(lines.size(), 6u);
  }
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[6], "[2 earlier lines not logged: over 3 per 10 s]");  // told on the way out
}

TEST(LogThrottle, OneHeldBackLineIsSingular) {
  std::vector<std::string> lines;
  const Clock::time_point t0{};
  LogThrottle throttle([&](std::string_view line) { lines.emplace_back(line); }, 1, 1s);
  throttle.log("a", t0);
  throttle.log("b", t0);
  throttle.log("c", t0 + 1s);
  EXPECT_EQ(lines,
            (std::vector<std::string>{"a", "c [1 earlier line not logged: over 1 per 1 s]"}));
}

TEST(LogThrottle, ThreadsShareOneLimitAndLoseNoCount) {
  std::vector<std::string> lines;
  {
    // A window longer than the test: all threads log into the same one.
    LogThrottle throttle([&](std::string_view line) { lines.emplace_back(line); }, 5, 1h);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) throttle.log("failed");
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(lines.size(), 5u);
  }
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines.back(), "[3995 earlier lines not logged: over 5 per 3600 s]");
}

}  // namespace
}  // namespace util
