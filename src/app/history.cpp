// Day ranges and zero-filled history.
#include "app/history.hpp"

#include "util/utc_day.hpp"

namespace app {

std::string DayRange::first() const { return util::utc_day(from); }
std::string DayRange::last() const { return util::utc_day(to); }

DayRange last_days(std::chrono::sys_days today, int count) {
  return {today - std::chrono::days(count - 1), today};
}

std::expected<DayRange, std::string> parse_range(std::optional<std::string_view> from,
                                                 std::optional<std::string_view> to,
                                                 std::chrono::sys_days today) {
  constexpr std::string_view kRule = "must be a date, YYYY-MM-DD";
  DayRange range = last_days(today, 30);
  if (to) {
    const auto day = util::parse_utc_day(*to);
    if (!day) return std::unexpected("to " + std::string(kRule));
    range = last_days(*day, 30);
  }
  if (from) {
    const auto day = util::parse_utc_day(*from);
    if (!day) return std::unexpected("from " + std::string(kRule));
    range.from = *day;
  }
  if (range.from > range.to) return std::unexpected("from must not be after to");
  if (range.days() > kMaxHistoryDays) {
    return std::unexpected("at most " + std::to_string(kMaxHistoryDays) + " days at a time");
  }
  return range;
}

std::vector<store::DayRow> fill_days(std::span<const store::DayRow> rows, const DayRange& range) {
  std::vector<store::DayRow> days;
  days.reserve(static_cast<std::size_t>(range.days()));
  auto next = rows.begin();
  for (std::chrono::sys_days day = range.from; day <= range.to; day += std::chrono::days(1)) {
    std::string date = util::utc_day(day);
    while (next != rows.end() && next->day < date) ++next;
    const bool found = next != rows.end() && next->day == date;
    days.push_back({std::move(date), found ? next->totals : store::Totals{}});
  }
  return days;
}

store::Totals sum(std::span<const store::DayRow> rows) {
  store::Totals total;
  for (const store::DayRow& row : rows) {
    total.views += row.totals.views;
    total.visitors += row.totals.visitors;
  }
  return total;
}

std::string days_json(std::span<const store::DayRow> rows) {
  std::string out = "[";
  for (const store::DayRow& row : rows) {
    if (out.size() > 1) out += ',';
    out += R"({"date":")" + row.day + R"(","views":)" + std::to_string(row.totals.views) +
           R"(,"visitors":)" + std::to_string(row.totals.visitors) + "}";
  }
  return out + "]";
}

}  // namespace app
