// Fuzz target: the counting policy's parsers of client-sent text. The first byte picks one,
// the rest is its input:
//   0  Forwarded / X-Forwarded-For lines (split at '\n') behind a trusted and an untrusted
//      peer: an answer is a canonical address (it parses and prints back the same); an
//      untrusted peer is always its own client; a trusted peer with no header is too.
//   1  Idempotency-Key: an accepted key is 1-128 bytes of printable ASCII, and quoting it
//      again (escaping '"' and '\') parses back to the same key.
//   2  --rate-limit syntax: an accepted limit is within the documented ranges, and a
//      limiter built from it never lets more than the burst through at one instant.
//   3  User-Agent: the crawler filter gives the same verdict with and without its cache,
//      on the first call and when cached.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "counting/policy/bots.hpp"
#include "counting/policy/client_address.hpp"
#include "counting/policy/idempotency_key.hpp"
#include "counting/policy/rate_limit.hpp"
#include "fuzz_check.hpp"

namespace {

using fuzz::check;
namespace policy = counting::policy;

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    out.push_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return out;
}

void check_address(const std::expected<std::string, std::string>& answer) {
  if (!answer) return;
  const auto parsed = policy::IpAddress::parse(*answer);
  check(parsed.has_value(), "a client address is an address");
  if (parsed) check(parsed->to_string() == *answer, "a client address is in canonical form");
}

void forwarded(std::string_view text) {
  static const std::vector<std::string> kProxies = {"10.0.0.0/8", "::1/128"};
  static const auto proxies = policy::TrustedProxies::parse(kProxies).value();
  const std::vector<std::string_view> list = lines(text);
  for (bool rfc7239 : {true, false}) {
    policy::ForwardedHeaders headers;
    (rfc7239 ? headers.forwarded : headers.x_forwarded_for) = list;
    check_address(policy::client_address("10.1.2.3", headers, proxies));
    const auto untrusted = policy::client_address("192.0.2.1", headers, proxies);
    if (!rfc7239) check(untrusted == "192.0.2.1", "an untrusted peer is its own client");
    check_address(untrusted);
  }
  check(policy::client_address("10.1.2.3", {}, proxies) == "10.1.2.3",
        "a trusted peer without forwarding headers is the client");
}

void idempotency_key(std::string_view text) {
  const auto key = policy::parse_idempotency_key(text);
  if (!key) return;
  check(!key->empty() && key->size() <= policy::kMaxIdempotencyKeyBytes, "1-128 bytes");
  std::string quoted = "\"";
  for (const char c : *key) {
    check(c >= 0x20 && c <= 0x7E, "printable ASCII");
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  quoted += '"';
  check(policy::parse_idempotency_key(quoted) == key, "quoting a key again gives it back");
}

void rate_limit(std::string_view text) {
  const auto spec = policy::parse_rate_limit(text);
  if (!spec || !*spec) return;
  const policy::RateLimitSpec& limit = **spec;
  check(limit.per_second >= policy::kMinRatePerSecond &&
            limit.per_second <= policy::kMaxRatePerSecond,
        "the rate is within range");
  check(limit.burst >= 1 && limit.burst <= policy::kMaxBurst, "the burst is within range");
  const auto frozen = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  policy::RateLimiter limiter(limit, 16, [frozen] { return frozen; });
  const std::int64_t tries = std::min<std::int64_t>(limit.burst + 2, 1000);
  std::int64_t allowed = 0;
  for (std::int64_t i = 0; i < tries; ++i) {
    const auto decision = limiter.take("192.0.2.1");
    allowed += decision.allowed;
    check(decision.remaining >= 0 && decision.remaining <= limit.burst, "remaining in range");
    check(decision.allowed || decision.retry_after_seconds >= 1, "a refusal says when to retry");
  }
  check(allowed == std::min(tries, limit.burst), "exactly the burst at one instant");
}

void user_agent(std::string_view text) {
  static const policy::BotFilter cached(64);
  static const policy::BotFilter uncached(0);
  const bool verdict = uncached.is_bot(text);
  check(cached.is_bot(text) == verdict, "the cache gives the matcher's verdict");
  check(cached.is_bot(text) == verdict, "a cached verdict is the same");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      forwarded(text);
      break;
    case 1:
      idempotency_key(text);
      break;
    case 2:
      rate_limit(text);
      break;
    default:
      user_agent(text);
      break;
  }
  return 0;
}
