// Fuzz target: the store and server URL parsers, without opening any store (a sqlite: URL
// would create files, a dynamodb: store would connect). Each input is a URL, given to
// store::dynamodb::parse_dynamodb_url (with an empty environment and with AWS_REGION set),
// store::redis::parse_redis_url,
// aws::parse_endpoint, util::parse_host_url and util::parse_host_port. Invariants: a
// refusal has a reason; an accepted DynamoDB URL has a valid table and region, every knob
// within its documented range and a valid endpoint; an accepted host is non-empty, a name of
// A-Z a-z 0-9 - . _, an IPv4 address or an IPv6 address (the only hosts with ':'), and it
// reads back the same from the text a URL or Host header carries.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "aws/endpoint.hpp"
#include "fuzz_check.hpp"
#include "store/dynamodb/dynamodb_url.hpp"
#include "store/redis/redis_url.hpp"
#include "util/url.hpp"

namespace {

using fuzz::check;
using std::chrono::milliseconds;

constexpr std::string_view kNameChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._";

bool only(std::string_view text, std::string_view allowed) {
  return text.find_first_not_of(allowed) == std::string_view::npos;
}

void check_host(std::string_view host, bool ipv6) {
  check(!host.empty(), "a host is not empty");
  check(ipv6 == (host.find(':') != std::string_view::npos), "only IPv6 hosts have ':'");
  if (!ipv6) check(only(host, kNameChars), "a host name is A-Z a-z 0-9 - . _");
}

void check_endpoint(const aws::Endpoint& endpoint) {
  check_host(endpoint.host, endpoint.host.find(':') != std::string::npos);
  check(endpoint.port != 0, "an endpoint has a port");
  const auto again =
      aws::parse_endpoint((endpoint.tls ? "https://" : "http://") + endpoint.host_header());
  check(again && again->tls == endpoint.tls && again->host == endpoint.host &&
            again->port == endpoint.port,
        "an endpoint reads back from its Host header");
}

void check_host_port(const util::HostPort& parsed, bool from_url) {
  check_host(parsed.host, parsed.ipv6);
  if (from_url) {
    check(!parsed.scheme.empty(), "a URL has a scheme");
    check(parsed.scheme.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos,
          "the scheme is lower-case");
  }
  std::string authority = parsed.url_host();
  if (parsed.port) authority += ":" + std::to_string(*parsed.port);
  const auto again = from_url ? util::parse_host_url(parsed.scheme + "://" + authority)
                              : util::parse_host_port(authority, true);
  check(again && again->host == parsed.host && again->ipv6 == parsed.ipv6 &&
            again->port == parsed.port,
        "a host and port read back from their URL form");
}

void check_dynamodb(std::string_view url, const aws::Environment& env) {
  const auto config = store::dynamodb::parse_dynamodb_url(url, env);
  if (!config) {
    check(!config.error().empty(), "a refused URL has a reason");
    return;
  }
  check(config->table.size() >= 3 && config->table.size() <= 255 && only(config->table, kNameChars),
        "the table is 3-255 of A-Z a-z 0-9 _ . -");
  check(!config->region.empty() && only(config->region, "abcdefghijklmnopqrstuvwxyz0123456789-"),
        "the region is a-z 0-9 -");
  const aws::RetryOptions& retry = config->retry;
  check(retry.max_attempts >= 1 && retry.max_attempts <= 10, "max_attempts is 1-10");
  for (const milliseconds delay : {retry.base_delay, retry.throttle_base_delay, retry.max_delay}) {
    check(delay >= milliseconds(0) && delay <= milliseconds(60'000), "a delay is 0-60000 ms");
  }
  check(retry.deadline >= milliseconds(1) && retry.deadline <= milliseconds(600'000),
        "deadline_ms is 1-600000");
  check(config->attempt_timeout >= milliseconds(1) &&
            config->attempt_timeout <= milliseconds(600'000),
        "timeout_ms is 1-600000");
  check_endpoint(config->endpoint);
}

}  // namespace

// An accepted Redis URL: a valid host, a port, DB 0-15, a short prefix without spaces, a
// timeout in range, and a password whenever there is a user.
void check_redis(std::string_view url) {
  const auto config = store::redis::parse_redis_url(url);
  if (!config) {
    check(!config.error().empty(), "a refused Redis URL has a reason");
    return;
  }
  check_host(config->host, config->host.find(':') != std::string::npos);
  check(config->port != 0, "a Redis URL has a port");
  check(config->db >= 0 && config->db <= 15, "DB is 0-15");
  check(config->prefix.size() <= 64 && config->prefix.find(' ') == std::string::npos,
        "the prefix is short, without spaces");
  check(config->timeout >= milliseconds(1) && config->timeout <= milliseconds(60'000),
        "timeout_ms in range");
  check(config->user.empty() || !config->password.empty(), "a user comes with a password");
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view url(reinterpret_cast<const char*>(data), size);
  check_dynamodb(url, {});
  check_dynamodb(url, [](const char* name) -> const char* {
    return std::string_view(name) == "AWS_REGION" ? "eu-central-1" : nullptr;
  });
  check_redis(url);
  if (const auto endpoint = aws::parse_endpoint(url)) check_endpoint(*endpoint);
  if (const auto parsed = util::parse_host_url(url)) check_host_port(*parsed, true);
  if (const auto parsed = util::parse_host_port(url, true)) check_host_port(*parsed, false);
  return 0;
}
