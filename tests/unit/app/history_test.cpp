// Day ranges of history requests and zero-filled days.
#include "app/history.hpp"

#include <gtest/gtest.h>

namespace app {
namespace {

const std::chrono::sys_days kToday = std::chrono::year{2026} / 11 / 27;

TEST(History, TheDefaultIsTheLast30DaysEndingToday) {
  auto range = parse_range(std::nullopt, std::nullopt, kToday);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->first(), "2026-10-29");
  EXPECT_EQ(range->last(), "2026-11-27");
  EXPECT_EQ(range->days(), 30);
  EXPECT_EQ(parse_range(std::nullopt, "2026-01-30", kToday)->first(), "2026-01-01");
}

TEST(History, RangesAreCheckedAndBounded) {
  EXPECT_EQ(parse_range("2025-11-27", "2026-11-27", kToday)->days(), 366);
  EXPECT_EQ(parse_range("2025-11-26", "2026-11-27", kToday).error(), "at most 366 days at a time");
  EXPECT_EQ(parse_range("2026-11-28", "2026-11-27", kToday).error(), "from must not be after to");
  EXPECT_FALSE(parse_range("2026-13-01", std::nullopt, kToday));
  EXPECT_FALSE(parse_range(std::nullopt, "today", kToday));
}

TEST(History, MissingDaysAreZeros) {
  const DayRange range = last_days(kToday, 4);
  const std::vector<store::DayRow> rows = {
      {"2026-11-20", {9, 9}}, {"2026-11-25", {2, 1}}, {"2026-11-27", {3, 2}}};
  const auto days = fill_days(rows, range);
  EXPECT_EQ(days, (std::vector<store::DayRow>{{"2026-11-24", {0, 0}},
                                              {"2026-11-25", {2, 1}},
                                              {"2026-11-26", {0, 0}},
                                              {"2026-11-27", {3, 2}}}));
  EXPECT_EQ(sum(days), (store::Totals{5, 3}));
  EXPECT_EQ(days_json(std::span(days).first(1)),
            R"([{"date":"2026-11-24","views":0,"visitors":0}])");
}

}  // namespace
}  // namespace app
