// Parsing of dynamodb:// store URLs with Boost.URL: table, region, endpoint and retry knobs.
#include "store/dynamodb/dynamodb_url.hpp"

#include <boost/core/detail/string_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "util/percent.hpp"
#include "util/text.hpp"

namespace store::dynamodb {
namespace {

using std::chrono::milliseconds;
using Params = std::vector<std::pair<std::string, std::string>>;

namespace urls = boost::urls;

std::string_view std_view(boost::core::string_view text) { return {text.data(), text.size()}; }

bool is_scheme(std::string_view scheme) {
  constexpr std::string_view kScheme = "dynamodb";
  if (scheme.size() != kScheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if ((scheme[i] | 0x20) != kScheme[i]) return false;
  }
  return true;
}

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

// The query's parameters, names and values percent-decoded. Empty pieces ("a=1&&b=2") are
// skipped; a parameter without "=" or given twice is refused.
std::expected<Params, std::string> query_params(const urls::url_view& url) {
  Params params;
  if (!url.has_query()) return params;
  for (const urls::param_pct_view param : url.encoded_params()) {
    if (param.key.empty() && !param.has_value) continue;
    auto name = util::percent_decode(std_view(param.key));
    if (!name) return std::unexpected("a parameter name has a bad %-escape");
    if (!param.has_value) return std::unexpected("parameter '" + *name + "' has no value");
    auto value = util::percent_decode(std_view(param.value));
    if (!value) return std::unexpected("parameter '" + *name + "' has a bad %-escape");
    for (const auto& seen : params) {
      if (seen.first == *name) return std::unexpected("parameter '" + *name + "' given twice");
    }
    params.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

std::expected<int, std::string> parse_int(const std::string& name, const std::string& value,
                                          int low, int high) {
  if (auto number = util::bounded_number(value, low, high)) return *number;
  return std::unexpected(name + " must be an integer from " + std::to_string(low) + " to " +
                         std::to_string(high) + ", not '" + value + "'");
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
  if (name == "max_in_flight") {
    auto number = parse_int(name, value, 1, 256);
    if (!number) return std::unexpected(number.error());
    config.max_in_flight = static_cast<std::size_t>(*number);
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
  const auto uri = urls::parse_uri(boost::core::string_view(url.data(), url.size()));
  if (!uri) {
    return fail(
        "not a URL: expected dynamodb://TABLE?region=REGION, with spaces and [ ] %-escaped "
        "(endpoint=http://%5B::1%5D:8000) and no bad %-escape");
  }
  const urls::url_view& view = *uri;
  if (!is_scheme(std_view(view.scheme())) || !view.has_authority()) {
    return fail("expected dynamodb://TABLE?region=REGION");
  }
  if (view.has_userinfo() || view.has_port())
    return fail("expected dynamodb://TABLE, no user@ or :port");
  if (!view.encoded_path().empty())
    return fail("nothing may follow the table name but ?parameters");
  if (view.has_fragment()) return fail("a fragment (#) is not allowed");
  DynamoDbConfig config;
  if (auto table = util::percent_decode(std_view(view.encoded_host())))
    config.table = std::move(*table);
  if (config.table.size() < 3 || config.table.size() > 255 || !all_of(config.table, table_char)) {
    return fail("table name must be 3-255 characters of A-Z a-z 0-9 _ . -");
  }
  auto params = query_params(view);
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
