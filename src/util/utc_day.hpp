// UTC calendar days as the counters keep them: "YYYY-MM-DD" text, midnights in epoch
// seconds. Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace util {

// The UTC day of `when`, "YYYY-MM-DD".
std::string utc_day(std::chrono::system_clock::time_point when);
std::string utc_day(std::chrono::sys_days day);

// The day `text` names ("YYYY-MM-DD", a real date), or nullopt.
std::optional<std::chrono::sys_days> parse_utc_day(std::string_view text);

// The day `days` days before `text` ("YYYY-MM-DD"; negative: after), or "" if `text` is not
// a day.
std::string days_before(std::string_view text, int days);

// Seconds since the epoch at the start of day `text` ("YYYY-MM-DD"); 0 if it is not one.
std::int64_t day_start(std::string_view text);

// Seconds since the epoch at the start of the UTC day after `when`'s.
std::int64_t next_utc_midnight(std::chrono::system_clock::time_point when);

}  // namespace util
