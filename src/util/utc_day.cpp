// UTC day formatting and parsing on std::chrono's calendar types.
#include "util/utc_day.hpp"

#include <array>
#include <charconv>
#include <cstdio>

namespace util {

std::string utc_day(std::chrono::sys_days day) {
  const std::chrono::year_month_day date{day};
  std::array<char, 16> text{};
  const int n =
      std::snprintf(text.data(), text.size(), "%04d-%02u-%02u", static_cast<int>(date.year()),
                    static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return std::string(text.data(), static_cast<std::size_t>(n));
}

std::string utc_day(std::chrono::system_clock::time_point when) {
  return utc_day(std::chrono::floor<std::chrono::days>(when));
}

std::optional<std::chrono::sys_days> parse_utc_day(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int parts[3] = {};
  const std::string_view fields[] = {text.substr(0, 4), text.substr(5, 2), text.substr(8, 2)};
  for (int i = 0; i < 3; ++i) {
    const char* end = fields[i].data() + fields[i].size();
    const auto [ptr, ec] = std::from_chars(fields[i].data(), end, parts[i]);
    if (ec != std::errc() || ptr != end) return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{parts[0]},
                                         std::chrono::month{static_cast<unsigned>(parts[1])},
                                         std::chrono::day{static_cast<unsigned>(parts[2])}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date};
}

std::string days_before(std::string_view text, int days) {
  const std::optional<std::chrono::sys_days> day = parse_utc_day(text);
  if (!day) return {};
  return utc_day(*day - std::chrono::days{days});
}

std::int64_t day_start(std::string_view text) {
  const std::optional<std::chrono::sys_days> day = parse_utc_day(text);
  if (!day) return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(day->time_since_epoch()).count();
}

std::int64_t next_utc_midnight(std::chrono::system_clock::time_point when) {
  const auto next = std::chrono::floor<std::chrono::days>(when) + std::chrono::days{1};
  return std::chrono::duration_cast<std::chrono::seconds>(next.time_since_epoch()).count();
}

}  // namespace util
