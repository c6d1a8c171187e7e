// Reading and writing the export format.
#include "cli/transfer_format.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <unordered_map>

#include "app/json.hpp"
#include "app/key.hpp"
#include "util/text.hpp"
#include "util/utc_day.hpp"

namespace cli {
namespace {

constexpr std::string_view kFormatName = "visitor-counter";
constexpr std::int64_t kMaxTotal = 9'007'199'254'740'991;  // 2^53 - 1: exact in every reader

using Failure = std::unexpected<std::string>;

void append_number(std::string& out, std::int64_t value) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

std::optional<std::int64_t> total_of(const boost::json::value& value) {
  if (value.is_int64() && value.as_int64() >= 0 && value.as_int64() <= kMaxTotal) {
    return value.as_int64();
  }
  if (value.is_uint64() && value.as_uint64() <= static_cast<std::uint64_t>(kMaxTotal)) {
    return static_cast<std::int64_t>(value.as_uint64());
  }
  return std::nullopt;
}

std::expected<std::vector<store::DayRow>, std::string> read_days(const boost::json::value& value) {
  if (!value.is_array()) return Failure("days must be an array");
  std::vector<store::DayRow> days;
  days.reserve(value.as_array().size());
  for (const boost::json::value& item : value.as_array()) {
    const boost::json::array* row = item.if_array();
    if (row == nullptr || row->size() != 3 || !(*row)[0].is_string()) {
      return Failure(R"(each day must be ["YYYY-MM-DD", views, visitors])");
    }
    const std::string_view date = (*row)[0].get_string();
    if (!util::parse_utc_day(date)) return Failure("bad date '" + std::string(date) + "'");
    if (!days.empty() && days.back().day >= date) {
      return Failure("days must be in ascending order, each once ('" + std::string(date) + "')");
    }
    const auto views = total_of((*row)[1]);
    const auto visitors = total_of((*row)[2]);
    if (!views || !visitors)
      return Failure("a day's views and visitors must be whole numbers >= 0");
    days.push_back({std::string(date), {.views = *views, .visitors = *visitors}});
  }
  return days;
}

std::expected<store::CounterRecord, std::string> read_json_record(std::string_view line) {
  unsigned char buffer[4096];
  boost::json::monotonic_resource memory(buffer, sizeof buffer);
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(line, ec, &memory);
  if (ec) return Failure("not JSON: " + ec.message());
  const boost::json::object* object = value.if_object();
  if (object == nullptr) return Failure("expected a JSON object");
  store::CounterRecord record;
  bool has_key = false;
  for (const auto& [name, field] : *object) {
    if (name == "key") {
      if (!field.is_string() || !app::is_valid_key(field.get_string())) {
        return Failure(std::string(app::kKeyRule));
      }
      record.key = field.get_string();
      has_key = true;
    } else if (name == "views" || name == "visitors") {
      const auto total = total_of(field);
      if (!total) return Failure(std::string(name) + " must be a whole number >= 0");
      (name == "views" ? record.totals.views : record.totals.visitors) = *total;
    } else if (name == "days") {
      auto days = read_days(field);
      if (!days) return Failure(std::move(days.error()));
      record.days = std::move(*days);
    } else {
      return Failure("unknown field '" + std::string(name) + "'");
    }
  }
  if (!has_key) return Failure("a counter needs its \"key\"");
  return record;
}

std::expected<void, std::string> read_header(std::string_view line) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(line, ec);
  const boost::json::object* object = ec ? nullptr : value.if_object();
  const boost::json::value* format = object ? object->if_contains("format") : nullptr;
  const boost::json::value* version = object ? object->if_contains("version") : nullptr;
  if (format == nullptr || !format->is_string() || format->get_string() != kFormatName) {
    return Failure(R"(the first line must be {"format":"visitor-counter","version":1})");
  }
  if (version == nullptr || !version->is_int64() || version->as_int64() != kFormatVersion) {
    return Failure("this program reads format version " + std::to_string(kFormatVersion));
  }
  return {};
}

// `key,count`, the key optionally in double quotes.
std::expected<store::CounterRecord, std::string> read_csv_record(std::string_view line) {
  const std::size_t comma = line.rfind(',');
  if (comma == std::string_view::npos) return Failure("expected key,count");
  std::string_view key = util::trim(line.substr(0, comma));
  const std::string_view count = util::trim(line.substr(comma + 1));
  if (key.size() >= 2 && key.front() == '"' && key.back() == '"') {
    key = key.substr(1, key.size() - 2);
  }
  if (!app::is_valid_key(key)) return Failure(std::string(app::kKeyRule));
  std::int64_t views = -1;
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), views);
  if (ec != std::errc() || end != count.data() + count.size() || views < 0 || views > kMaxTotal) {
    return Failure("count must be a whole number >= 0");
  }
  return store::CounterRecord{.key = std::string(key), .totals = {.views = views}, .days = {}};
}

}  // namespace

std::string header_line() {
  return R"({"format":")" + std::string(kFormatName) + R"(","version":)" +
         std::to_string(kFormatVersion) + "}";
}

std::string record_line(const store::CounterRecord& record) {
  std::string line = R"({"key":)" + app::json_string(record.key) + R"(,"views":)";
  line.reserve(line.size() + 64 + record.days.size() * 24);
  append_number(line, record.totals.views);
  line += R"(,"visitors":)";
  append_number(line, record.totals.visitors);
  line += R"(,"days":[)";
  for (std::size_t i = 0; i < record.days.size(); ++i) {
    const store::DayRow& row = record.days[i];
    line += i == 0 ? "[\"" : ",[\"";
    line += row.day;
    line += "\",";
    append_number(line, row.totals.views);
    line += ',';
    append_number(line, row.totals.visitors);
    line += ']';
  }
  return line += "]}";
}

std::expected<std::vector<store::CounterRecord>, std::string> read_records(std::istream& in) {
  std::vector<store::CounterRecord> records;
  std::unordered_map<std::string, std::size_t> line_of;  // key -> the line that had it
  std::string line;
  std::size_t number = 0;
  enum class Shape { unknown, json, csv } shape = Shape::unknown;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (util::trim(line).empty()) continue;
    const auto fail = [&](const std::string& why) {
      return Failure("line " + std::to_string(number) + ": " + why);
    };
    if (shape == Shape::unknown) {
      shape = line.front() == '{' ? Shape::json : Shape::csv;
      if (shape == Shape::json) {
        if (auto header = read_header(line); !header) return fail(header.error());
        continue;
      }
      if (util::equals_ignoring_case(util::trim(line), "key,count")) continue;
    }
    auto record = shape == Shape::json ? read_json_record(line) : read_csv_record(line);
    if (!record) return fail(record.error());
    const auto [seen, fresh] = line_of.emplace(record->key, number);
    if (!fresh) {
      return fail("counter '" + record->key + "' is already on line " +
                  std::to_string(seen->second));
    }
    records.push_back(std::move(*record));
  }
  if (in.bad()) return Failure("cannot read the input");
  return records;
}

}  // namespace cli
