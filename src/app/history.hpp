// Daily history as the API answers it: UTC day ranges, zero-filled days, their JSON. Pure.
#pragma once

#include <chrono>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace app {

// At most this many days in one history answer (a leap year).
inline constexpr int kMaxHistoryDays = 366;

// A span of UTC days, both ends included.
struct DayRange {
  std::chrono::sys_days from;
  std::chrono::sys_days to;
  int days() const { return static_cast<int>((to - from).count()) + 1; }
  std::string first() const;  // "YYYY-MM-DD"
  std::string last() const;
};

// The `count` days that end with `today`.
DayRange last_days(std::chrono::sys_days today, int count);

// The range that `from` and `to` ("YYYY-MM-DD", either may be absent) ask for: `to`
// defaults to `today` and `from` to 29 days before `to`. Fails with a message for the
// client on a malformed or impossible date, `from` after `to`, or more than
// kMaxHistoryDays days.
std::expected<DayRange, std::string> parse_range(std::optional<std::string_view> from,
                                                 std::optional<std::string_view> to,
                                                 std::chrono::sys_days today);

// One row per day of `range`, ascending: the store's `rows` (ascending, possibly sparse) with
// the missing days as zeros.
std::vector<store::DayRow> fill_days(std::span<const store::DayRow> rows, const DayRange& range);

// The views and visitors of `rows` together.
store::Totals sum(std::span<const store::DayRow> rows);

// `[{"date":"2026-11-27","views":V,"visitors":U},...]`
std::string days_json(std::span<const store::DayRow> rows);

}  // namespace app
