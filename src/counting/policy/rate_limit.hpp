// The per-client rate limit on counting requests (--rate-limit R/s,burst=B, env
// VC_RATE_LIMIT, default off): a token bucket per client that holds up to B tokens, gains R
// per second, and pays one per request. A request that finds less than one token is
// refused (429 with Retry-After). Answers describe the bucket with the IETF RateLimit
// header fields, drafts -08 to -11 syntax (RateLimit-Policy and RateLimit, Structured Field
// Lists of named items).
//
// Memory is bounded: at most `max_clients` buckets, however many distinct clients come.
// Time comes from an injected monotonic clock, so tests drive it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace counting::policy {

inline constexpr double kMinRatePerSecond = 0.001;
inline constexpr double kMaxRatePerSecond = 1'000'000;
inline constexpr std::int64_t kMaxBurst = 1'000'000;

struct RateLimitSpec {
  double per_second;   // tokens gained per second: kMinRatePerSecond to kMaxRatePerSecond
  std::int64_t burst;  // bucket size, the most requests at once: 1 to kMaxBurst
  friend bool operator==(const RateLimitSpec&, const RateLimitSpec&) = default;
};

// Parses the --rate-limit value:
//   "R/s,burst=B"  R per second (a decimal number such as 5 or 0.5, no sign or exponent),
//                  bursts of up to B (an integer);
//   "R/s"          the same with B = ceil(R), at least 1 (one second's worth);
//   "off"          no limit: nullopt.
// No spaces. R must be 0.001 to 1,000,000 and B 1 to 1,000,000. Errors are one line: what
// was wrong and the expected syntax.
std::expected<std::optional<RateLimitSpec>, std::string> parse_rate_limit(std::string_view text);

// The buckets. The bucket of a client that has not been seen, or was forgotten, is full.
//
// Eviction: a table with max_clients buckets that meets a new client first drops the
// buckets among the 8 least recently used that are full again (idle long enough to refill:
// they carry no information), and if there is none, the least recently used bucket.
// "Used" includes refused requests, so a client that keeps hitting its limit stays at the
// recent end and is never evicted for a newcomer. To reset a bucket by eviction, an
// attacker needs on the order of max_clients fresh addresses within the bucket's refill
// time, and each fresh address already brings a full bucket of its own, so eviction adds
// about one bucket's worth per max_clients addresses: negligible. The alternatives are
// worse: refusing newcomers while the table is full would let a flood lock every new
// visitor out. Key IPv6 clients by their /64 (rate_limit_key in client_address.hpp), or
// one host can bring fresh addresses for free.
//
// The table is split into up to 16 shards by a hash of the client, each with its own mutex
// and LRU order, so eviction is least recently used within a shard (a table of fewer than
// 2,048 buckets is one shard: exact LRU). A bucket costs about 150 bytes: 100,000 buckets
// are about 15 MB.
//
// The bucket is kept as its "theoretical arrival time" (GCRA): the time at which it will be
// full again, in nanoseconds of the clock, so it is exact integer arithmetic; the interval
// between tokens is 1/R rounded to the nanosecond.
class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  static constexpr std::size_t kDefaultMaxClients = 100'000;
  static constexpr std::string_view kPolicyName = "per-client";

  // `spec` within the ranges parse_rate_limit accepts (values outside are clamped into
  // them); `max_clients` at least 1 (0 is taken as 1); `clock` must be monotonic and safe
  // to call from several threads; empty: std::chrono::steady_clock::now.
  RateLimiter(RateLimitSpec spec, std::size_t max_clients = kDefaultMaxClients, Clock clock = {});
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  struct Decision {
    bool allowed;
    // Whole tokens left after this request (0 when refused): RateLimit's r.
    std::int64_t remaining;
    // Seconds until the bucket gains its next whole token, rounded up (at least 1):
    // RateLimit's t. A client that sends at most `remaining` requests before then is not
    // refused.
    std::int64_t reset_seconds;
    // When refused: seconds until a request can succeed, rounded up (at least 1; the same
    // moment as reset_seconds), for Retry-After. 0 when allowed.
    std::int64_t retry_after_seconds;
  };

  // Takes one token from `client`'s bucket if it has one. Thread-safe; O(1) amortised
  // (one hash lookup; at most 8 buckets looked at to make room).
  Decision take(std::string_view client);

  // The RateLimit-Policy value, the same on every answer: `"per-client";q=B;w=W` with
  // W = B/R seconds rounded up. A client that sends at most q requests in any sliding
  // window of w seconds is never refused (q is at most B, q/w at most R). Made once.
  const std::string& policy_header() const { return policy_header_; }

  // The RateLimit value for a decision: `"per-client";r=REMAINING;t=RESET`.
  static std::string header(const Decision& decision);

  // The number of buckets held now (at most max_clients).
  std::size_t size() const;

  const RateLimitSpec& spec() const { return spec_; }

 private:
  struct Shard;
  Shard& shard_for(std::string_view client) const;

  RateLimitSpec spec_;
  std::int64_t interval_ns_;   // time to gain one token
  std::int64_t tolerance_ns_;  // burst * interval: time for an empty bucket to fill
  std::string policy_header_;
  Clock clock_;
  std::size_t shard_count_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace counting::policy
