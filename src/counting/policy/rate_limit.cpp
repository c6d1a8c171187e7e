// Token buckets as GCRA: each client's bucket is one time, the moment it will be full again
// (`full_at`). A request at `now` owes `debt = max(0, full_at - now)`, the time its bucket
// needs to refill; taking a token adds one interval, and is allowed while the debt stays
// within the tolerance (burst intervals). Tokens left = (tolerance - debt) / interval.
#include "counting/policy/rate_limit.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <list>
#include <mutex>
#include <unordered_map>

namespace counting::policy {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr int kEvictionScan = 8;  // LRU buckets looked at for a full one to drop

std::int64_t ceil_seconds(std::int64_t nanos) {
  return (nanos + kNanosPerSecond - 1) / kNanosPerSecond;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::expected<std::optional<RateLimitSpec>, std::string> parse_rate_limit(std::string_view text) {
  if (text == "off") return std::nullopt;
  const auto bad = [&](std::string_view why) {
    std::string shown(text.substr(0, 40));
    for (char& c : shown) {
      if (c < 0x20 || c == 0x7f) c = '?';
    }
    return std::unexpected("bad rate limit '" + shown + "': " + std::string(why) +
                           "; expected R/s[,burst=B] (such as 5/s,burst=20) or off");
  };
  const std::size_t comma = text.find(',');
  std::string_view rate = text.substr(0, comma);
  if (!rate.ends_with("/s")) return bad("the rate must end in /s");
  rate.remove_suffix(2);
  const std::size_t dot = rate.find('.');
  if (rate.size() > 16 || !all_digits(rate.substr(0, dot)) ||
      (dot != std::string_view::npos && !all_digits(rate.substr(dot + 1)))) {
    return bad("the rate must be a decimal number such as 5 or 0.5");
  }
  RateLimitSpec spec{0, 0};
  std::from_chars(rate.data(), rate.data() + rate.size(), spec.per_second);
  if (!(spec.per_second >= kMinRatePerSecond && spec.per_second <= kMaxRatePerSecond)) {
    return bad("the rate must be 0.001 to 1000000 per second");
  }
  if (comma == std::string_view::npos) {
    spec.burst = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(spec.per_second)));
    return spec;
  }
  std::string_view burst = text.substr(comma + 1);
  if (!burst.starts_with("burst=")) return bad("expected burst=B after the comma");
  burst.remove_prefix(6);
  if (!all_digits(burst) || burst.size() > 7) return bad("the burst must be 1 to 1000000");
  std::from_chars(burst.data(), burst.data() + burst.size(), spec.burst);
  if (spec.burst < 1 || spec.burst > kMaxBurst) return bad("the burst must be 1 to 1000000");
  return spec;
}

struct RateLimiter::Shard {
  struct Bucket {
    std::string client;
    std::int64_t full_at;  // clock nanoseconds at which the bucket is full again
  };

  std::mutex mutex;
  std::size_t capacity = 0;
  std::list<Bucket> lru;  // most recently used first
  // Keys view the client strings held by `lru`, whose nodes never move.
  std::unordered_map<std::string_view, std::list<Bucket>::iterator> index;
};

RateLimiter::RateLimiter(RateLimitSpec spec, std::size_t max_clients, Clock clock)
    : spec_{std::clamp(spec.per_second, kMinRatePerSecond, kMaxRatePerSecond),
            std::clamp<std::int64_t>(spec.burst, 1, kMaxBurst)},
      interval_ns_(std::llround(static_cast<double>(kNanosPerSecond) / spec_.per_second)),
      tolerance_ns_(spec_.burst * interval_ns_),
      policy_header_('"' + std::string(kPolicyName) + "\";q=" + std::to_string(spec_.burst) +
                     ";w=" + std::to_string(ceil_seconds(tolerance_ns_))),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      shard_count_(std::clamp<std::size_t>(max_clients / 2048, 1, 16)),
      shards_(new Shard[shard_count_]) {
  max_clients = std::max<std::size_t>(max_clients, 1);
  for (std::size_t i = 0; i < shard_count_; ++i) {
    shards_[i].capacity = max_clients / shard_count_ + (i < max_clients % shard_count_ ? 1 : 0);
  }
}

RateLimiter::~RateLimiter() = default;

RateLimiter::Shard& RateLimiter::shard_for(std::string_view client) const {
  return shards_[std::hash<std::string_view>{}(client) % shard_count_];
}

RateLimiter::Decision RateLimiter::take(std::string_view client) {
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_().time_since_epoch()).count();
  Shard& shard = shard_for(client);
  std::lock_guard lock(shard.mutex);

  std::int64_t* full_at = nullptr;
  if (const auto found = shard.index.find(client); found != shard.index.end()) {
    shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
    full_at = &found->second->full_at;
  } else {
    if (shard.lru.size() >= shard.capacity) {
      // Make room: full buckets near the LRU end first, else the LRU bucket itself.
      bool freed = false;
      auto it = shard.lru.end();
      for (int i = 0; i < kEvictionScan && it != shard.lru.begin(); ++i) {
        --it;
        if (it->full_at <= now) {
          shard.index.erase(it->client);
          it = shard.lru.erase(it);
          freed = true;
        }
      }
      if (!freed) {
        shard.index.erase(shard.lru.back().client);
        shard.lru.pop_back();
      }
    }
    shard.lru.push_front({std::string(client), now});
    shard.index.emplace(shard.lru.front().client, shard.lru.begin());
    full_at = &shard.lru.front().full_at;
  }

  // The clock may be read by threads in a different order than they lock: a `now` slightly
  // before the bucket's last update only counts as a larger debt, capped at the tolerance.
  std::int64_t debt = std::clamp<std::int64_t>(*full_at - now, 0, tolerance_ns_);
  const bool allowed = debt + interval_ns_ <= tolerance_ns_;
  if (allowed) {
    debt += interval_ns_;
    *full_at = now + debt;
  }
  const std::int64_t spare = tolerance_ns_ - debt;  // >= 0
  const std::int64_t tokens = spare / interval_ns_;
  const std::int64_t reset = ceil_seconds((tokens + 1) * interval_ns_ - spare);
  return Decision{allowed, allowed ? tokens : 0, reset, allowed ? 0 : reset};
}

std::string RateLimiter::header(const Decision& decision) {
  return '"' + std::string(kPolicyName) + "\";r=" + std::to_string(decision.remaining) +
         ";t=" + std::to_string(decision.reset_seconds);
}

std::size_t RateLimiter::size() const {
  std::size_t total = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    total += shards_[i].lru.size();
  }
  return total;
}

}  // namespace counting::policy
