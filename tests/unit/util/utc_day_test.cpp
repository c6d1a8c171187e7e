// UTC days: formatting, parsing (real dates only) and the next midnight.
#include "util/utc_day.hpp"

#include <gtest/gtest.h>

namespace util {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

TEST(UtcDay, FormatsTheUtcDate) {
  const auto t = sys_days{std::chrono::year{2026} / 11 / 27} + 23h + 59min + 59s;
  EXPECT_EQ(utc_day(t), "2026-11-27");
  EXPECT_EQ(utc_day(t + 1s), "2026-11-28");
  EXPECT_EQ(utc_day(sys_days{std::chrono::year{1999} / 1 / 2}), "1999-01-02");
}

TEST(UtcDay, NextMidnight) {
  const auto day = sys_days{std::chrono::year{2026} / 11 / 27};
  const std::int64_t midnight = 1795824000;  // 2026-11-28T00:00:00Z
  EXPECT_EQ(next_utc_midnight(day), midnight);
  EXPECT_EQ(next_utc_midnight(day + 23h + 59min + 59s), midnight);
  EXPECT_EQ(next_utc_midnight(day + 24h), midnight + 86400);
}

TEST(UtcDay, ParsesRealDatesOnly) {
  EXPECT_EQ(parse_utc_day("2026-11-27"), sys_days{std::chrono::year{2026} / 11 / 27});
  EXPECT_EQ(parse_utc_day("2024-02-29"), sys_days{std::chrono::year{2024} / 2 / 29});
  for (const char* bad : {"2026-02-29", "2026-13-01", "2026-11-31", "2026-1-01", "20261127",
                          "2026-11-27x", "", "abcd-ef-gh", "2026-11-+7"}) {
    EXPECT_EQ(parse_utc_day(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(utc_day(*parse_utc_day("2026-11-27") - std::chrono::days{1}), "2026-11-26");
}

}  // namespace
}  // namespace util
