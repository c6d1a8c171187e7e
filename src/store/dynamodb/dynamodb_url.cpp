// Parsing of dynamodb:// store URLs: table, region, endpoint and retry knobs.
#include "store/dynamodb/dynamodb_url.hpp"

#include <charconv>
#include <optional>
#include <utility>
#include <vector>

#include "util/percent.hpp"

namespace store::dynamodb {
namespace {

using std::chrono::milliseconds;
using Params = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kScheme = "dynamodb://";

bool all_of(std::string_view text, bool (*allowed)(char)) {
  for (char c : text) {
    if (!allowed(c)) return false;
  }
  return true;
}

bool table_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool region_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

std::expected<Params, std::string> split_query(std::string_view query) {
  Params params;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos)
      return std::unexpected("parameter '" + std::string(pair) + "' has no value");
    const std::string name(pair.substr(0, eq));
    auto value = util::percent_decode(pair.substr(eq + 1));
    if (!value) return std::unexpected("parameter '" + name + "' has a bad %-escape");
    for (const auto& seen : params) {
      if (seen.first == name) return std::unexpected("parameter '" + name + "' given twice");
    }
    params.emplace_back(name, std::move(*value));
  }
  return params;
}

std::expected<int, std::string> parse_int(const std::string& name, const std::string& value,
                                          int low, int high) {
  int number = 0;
  const char* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, number);
  if (value.empty() || ec != std::errc() || ptr != end || number < low || number > high) {
    return std::unexpected(name + " must be an integer from " + std::to_string(low) + " to " +
                           std::to_string(high) + ", not '" + value + "'");
  }
  return number;
}

// Applies one numeric knob; nullopt when `name` is not one.
std::optional<std::expected<void, std::string>> apply_knob(DynamoDbConfig& config,
                                                           const std::string& name,
                                                           const std::string& value) {
  struct Knob {
    std::string_view name;
    milliseconds* field;
    int low;
    int high;
  };
  const Knob knobs[] = {
      {"base_delay_ms", &config.retry.base_delay, 0, 60'000},
      {"throttle_delay_ms", &config.retry.throttle_base_delay, 0, 60'000},
      {"max_delay_ms", &config.retry.max_delay, 0, 60'000},
      {"deadline_ms", &config.retry.deadline, 1, 600'000},
      {"timeout_ms", &config.attempt_timeout, 1, 600'000},
  };
  if (name == "max_attempts") {
    auto number = parse_int(name, value, 1, 10);
    if (!number) return std::unexpected(number.error());
    config.retry.max_attempts = *number;
    return std::expected<void, std::string>();
  }
  for (const Knob& knob : knobs) {
    if (knob.name != name) continue;
    auto number = parse_int(name, value, knob.low, knob.high);
    if (!number) return std::unexpected(number.error());
    *knob.field = milliseconds(*number);
    return std::expected<void, std::string>();
  }
  return std::nullopt;
}

std::string from_env(const aws::Environment& env, const char* name) {
  if (!env) return {};
  const char* value = env(name);
  return value != nullptr ? std::string(value) : std::string();
}

}  // namespace

std::expected<DynamoDbConfig, std::string> parse_dynamodb_url(std::string_view url,
                                                              const aws::Environment& env) {
  auto fail = [&](const std::string& why) {
    return std::unexpected("bad store URL '" + std::string(url) + "': " + why);
  };
  if (!url.starts_with(kScheme)) return fail("expected dynamodb://TABLE?region=REGION");
  const std::string_view rest = url.substr(kScheme.size());
  const std::size_t question = rest.find('?');
  DynamoDbConfig config;
  config.table = std::string(rest.substr(0, question));
  if (config.table.size() < 3 || config.table.size() > 255 || !all_of(config.table, table_char)) {
    return fail("table name must be 3-255 characters of A-Z a-z 0-9 _ . -");
  }
  auto params = split_query(question == std::string_view::npos ? "" : rest.substr(question + 1));
  if (!params) return fail(params.error());
  std::string endpoint;
  for (const auto& [name, value] : *params) {
    if (name == "region") {
      config.region = value;
    } else if (name == "endpoint") {
      endpoint = value;
    } else if (auto applied = apply_knob(config, name, value)) {
      if (!*applied) return fail(applied->error());
    } else {
      return fail("unknown parameter '" + name + "'");
    }
  }
  if (config.region.empty()) config.region = from_env(env, "AWS_REGION");
  if (config.region.empty()) config.region = from_env(env, "AWS_DEFAULT_REGION");
  if (config.region.empty()) return fail("no region: add ?region=REGION or set AWS_REGION");
  if (!all_of(config.region, region_char)) return fail("bad region '" + config.region + "'");
  if (endpoint.empty()) endpoint = "https://dynamodb." + config.region + ".amazonaws.com";
  auto parsed = aws::parse_endpoint(endpoint);
  if (!parsed) return fail("endpoint: " + parsed.error());
  config.endpoint = std::move(*parsed);
  return config;
}

}  // namespace store::dynamodb
