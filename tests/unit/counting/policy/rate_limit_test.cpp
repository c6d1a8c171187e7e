// Rate limit: the --rate-limit syntax, the token bucket on a fake clock (burst, refill,
// remaining, reset and Retry-After rounded up), the RateLimit header values, the bounded
// table and its eviction order, and exact counts under concurrent takes.
#include "counting/policy/rate_limit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace counting::policy {
namespace {

using namespace std::chrono_literals;

// A clock that only moves when told to.
class FakeClock {
 public:
  RateLimiter::Clock clock() {
    return [this] { return std::chrono::steady_clock::time_point(nanoseconds_.load()); };
  }
  void advance(std::chrono::nanoseconds by) { nanoseconds_.store(nanoseconds_.load() + by); }
  void set(std::chrono::nanoseconds to) { nanoseconds_.store(to); }

 private:
  std::atomic<std::chrono::nanoseconds> nanoseconds_{1000s};  // not at the epoch
};

RateLimitSpec spec(std::string_view text) {
  auto parsed = parse_rate_limit(text);
  EXPECT_TRUE(parsed.has_value()) << text << ": " << (parsed ? "" : parsed.error());
  EXPECT_TRUE(parsed && parsed->has_value()) << text;
  return parsed && *parsed ? **parsed : RateLimitSpec{1, 1};
}

// Takes until refused; returns how many were allowed (at most `limit`).
int drain(RateLimiter& limiter, std::string_view client, int limit = 10'000'000) {
  int allowed = 0;
  while (allowed < limit && limiter.take(client).allowed) ++allowed;
  return allowed;
}

TEST(ParseRateLimit, AcceptedForms) {
  const auto off = parse_rate_limit("off");
  ASSERT_TRUE(off.has_value());
  EXPECT_FALSE(off->has_value());
  EXPECT_EQ(spec("5/s,burst=20"), (RateLimitSpec{5, 20}));
  EXPECT_EQ(spec("0.5/s,burst=3"), (RateLimitSpec{0.5, 3}));
  EXPECT_EQ(spec("0.001/s,burst=1"), (RateLimitSpec{0.001, 1}));
  EXPECT_EQ(spec("1000000/s,burst=1000000"), (RateLimitSpec{1'000'000, 1'000'000}));
  EXPECT_EQ(spec("100/s,burst=1"), (RateLimitSpec{100, 1}));
  // Without a burst: one second's worth, at least 1.
  EXPECT_EQ(spec("5/s"), (RateLimitSpec{5, 5}));
  EXPECT_EQ(spec("2.5/s"), (RateLimitSpec{2.5, 3}));
  EXPECT_EQ(spec("0.5/s"), (RateLimitSpec{0.5, 1}));
  EXPECT_EQ(spec("007/s,burst=020"), (RateLimitSpec{7, 20}));
}

TEST(ParseRateLimit, ErrorsSayWhatWasWrongAndTheSyntax) {
  for (const char* text : {"",
                           "OFF",
                           "on",
                           "5",
                           "5/m",
                           "5/min",
                           "5 /s",
                           "5/s ",
                           " 5/s",
                           "5/s,",
                           "5/s,burst",
                           "5/s,burst=",
                           "5/s,burst=0",
                           "5/s,burst=-1",
                           "5/s,burst=+1",
                           "5/s,burst=1000001",
                           "5/s,burst=99999999999999999999",
                           "5/s,burst=2.5",
                           "5/s, burst=20",
                           "5/s,burst=20,x",
                           "5/s;burst=20",
                           "burst=20",
                           "-5/s",
                           "+5/s",
                           "0/s",
                           "0.0009/s",
                           "1000001/s",
                           "1e3/s",
                           "nan/s",
                           "inf/s",
                           ".5/s",
                           "5./s",
                           "5..0/s",
                           "0x10/s",
                           "/s",
                           "5/s/s",
                           "00000000000000001/s"}) {
    const auto parsed = parse_rate_limit(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    const std::string& error = parsed.error();
    EXPECT_TRUE(error.starts_with("bad rate limit '")) << error;
    EXPECT_NE(error.find("expected R/s[,burst=B] (such as 5/s,burst=20) or off"), std::string::npos)
        << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  EXPECT_NE(parse_rate_limit("5/m").error().find("/s"), std::string::npos);
  EXPECT_NE(parse_rate_limit("0/s").error().find("0.001 to 1000000"), std::string::npos);
  EXPECT_NE(parse_rate_limit("5/s,burst=0").error().find("1 to 1000000"), std::string::npos);
  EXPECT_EQ(parse_rate_limit("5/s,burst=\n").error().find('\n'), std::string::npos);
}

TEST(RateLimiter, BurstThenRefusedWithRetryAfter) {
  FakeClock time;
  RateLimiter limiter(spec("5/s,burst=20"), 100, time.clock());
  for (int i = 0; i < 20; ++i) {
    const auto decision = limiter.take("192.0.2.1");
    EXPECT_TRUE(decision.allowed) << i;
    EXPECT_EQ(decision.remaining, 19 - i);
    EXPECT_EQ(decision.reset_seconds, 1);  // the next token comes within 0.2 s
    EXPECT_EQ(decision.retry_after_seconds, 0);
  }
  const auto refused = limiter.take("192.0.2.1");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.reset_seconds, 1);
  EXPECT_EQ(refused.retry_after_seconds, 1);
  EXPECT_FALSE(limiter.take("192.0.2.1").allowed);  // refusals cost nothing, and give nothing
}

TEST(RateLimiter, RefillsAtTheRateUpToTheBurst) {
  FakeClock time;
  RateLimiter limiter(spec("5/s,burst=20"), 100, time.clock());
  EXPECT_EQ(drain(limiter, "a"), 20);
  time.advance(199ms);
  EXPECT_FALSE(limiter.take("a").allowed);
  time.advance(1ms);  // 0.2 s: one token
  EXPECT_TRUE(limiter.take("a").allowed);
  EXPECT_FALSE(limiter.take("a").allowed);
  time.advance(1s);
  EXPECT_EQ(drain(limiter, "a"), 5);
  time.advance(3s + 500ms);
  EXPECT_EQ(drain(limiter, "a"), 17);
  time.advance(1h);  // never more than the burst
  EXPECT_EQ(drain(limiter, "a"), 20);
  // Spaced at the rate, a client is never refused.
  for (int i = 0; i < 100; ++i) {
    time.advance(200ms);
    EXPECT_TRUE(limiter.take("a").allowed) << i;
  }
}

TEST(RateLimiter, FractionalRates) {
  FakeClock time;
  RateLimiter limiter(spec("3/s,burst=10"), 100, time.clock());
  EXPECT_EQ(drain(limiter, "a"), 10);
  for (int second = 0; second < 10; ++second) {
    time.advance(1s);
    EXPECT_EQ(drain(limiter, "a"), 3) << second;
  }
  time.advance(300ms);  // 0.9 token
  EXPECT_FALSE(limiter.take("a").allowed);
  time.advance(34ms);  // 1.002 tokens
  EXPECT_TRUE(limiter.take("a").allowed);
  EXPECT_FALSE(limiter.take("a").allowed);
}

TEST(RateLimiter, ResetAndRetryAfterRoundUp) {
  FakeClock time;
  RateLimiter limiter(spec("0.5/s,burst=3"), 100, time.clock());
  auto decision = limiter.take("a");
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.remaining, 2);
  EXPECT_EQ(decision.reset_seconds, 2);
  EXPECT_EQ(drain(limiter, "a"), 2);
  decision = limiter.take("a");
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.retry_after_seconds, 2);
  EXPECT_EQ(decision.reset_seconds, 2);
  time.advance(1500ms);
  decision = limiter.take("a");
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.retry_after_seconds, 1);  // 0.5 s rounds up, never down to 0
  EXPECT_EQ(decision.reset_seconds, 1);
  time.advance(499ms);
  EXPECT_EQ(limiter.take("a").retry_after_seconds, 1);  // 1 ms rounds up too
  time.advance(1ms);
  decision = limiter.take("a");
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.remaining, 0);
  EXPECT_EQ(decision.reset_seconds, 2);
}

TEST(RateLimiter, ResetIsTheTimeToTheNextWholeToken) {
  FakeClock time;
  RateLimiter limiter(spec("0.1/s,burst=2"), 100, time.clock());  // a token every 10 s
  auto decision = limiter.take("a");
  EXPECT_EQ(decision.remaining, 1);
  EXPECT_EQ(decision.reset_seconds, 10);
  time.advance(3s);  // 0.3 token back
  decision = limiter.take("a");
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.remaining, 0);
  EXPECT_EQ(decision.reset_seconds, 7);
  decision = limiter.take("a");
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.retry_after_seconds, 7);
  time.advance(6s + 500ms);
  EXPECT_EQ(limiter.take("a").retry_after_seconds, 1);
  time.advance(500ms);
  decision = limiter.take("a");
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.remaining, 0);
  EXPECT_EQ(decision.reset_seconds, 10);
}

TEST(RateLimiter, ClientsHaveTheirOwnBuckets) {
  FakeClock time;
  RateLimiter limiter(spec("1/s,burst=2"), 100, time.clock());
  EXPECT_EQ(drain(limiter, "192.0.2.1"), 2);
  EXPECT_EQ(limiter.take("192.0.2.2").remaining, 1);
  EXPECT_FALSE(limiter.take("192.0.2.1").allowed);
  EXPECT_EQ(limiter.size(), 2U);
}

TEST(RateLimiter, HeaderValues) {
  FakeClock time;
  RateLimiter limiter(spec("5/s,burst=20"), 100, time.clock());
  EXPECT_EQ(limiter.policy_header(), "\"per-client\";q=20;w=4");
  EXPECT_EQ(RateLimiter::header(limiter.take("a")), "\"per-client\";r=19;t=1");
  drain(limiter, "a");
  EXPECT_EQ(RateLimiter::header(limiter.take("a")), "\"per-client\";r=0;t=1");
  // w = burst / rate rounded up: q/w never promises more than the rate.
  EXPECT_EQ(RateLimiter(spec("0.5/s,burst=3")).policy_header(), "\"per-client\";q=3;w=6");
  EXPECT_EQ(RateLimiter(spec("3/s,burst=10")).policy_header(), "\"per-client\";q=10;w=4");
  EXPECT_EQ(RateLimiter(spec("100/s,burst=1")).policy_header(), "\"per-client\";q=1;w=1");
  EXPECT_EQ(RateLimiter(spec("0.1/s,burst=1")).policy_header(), "\"per-client\";q=1;w=10");
  EXPECT_EQ(RateLimiter(spec("0.001/s,burst=1000000")).policy_header(),
            "\"per-client\";q=1000000;w=1000000000");
}

TEST(RateLimiter, OutOfRangeSpecsAreClamped) {
  FakeClock time;
  RateLimiter limiter(RateLimitSpec{0, 0}, 0, time.clock());
  EXPECT_EQ(limiter.spec(), (RateLimitSpec{kMinRatePerSecond, 1}));
  EXPECT_TRUE(limiter.take("a").allowed);
  EXPECT_FALSE(limiter.take("a").allowed);
  EXPECT_TRUE(limiter.take("b").allowed);
  EXPECT_EQ(limiter.size(), 1U);  // max_clients 0 is taken as 1
  EXPECT_EQ(RateLimiter(RateLimitSpec{1e9, 1'000'000'000}).spec(),
            (RateLimitSpec{kMaxRatePerSecond, kMaxBurst}));
}

TEST(RateLimiter, ClockGoingBackDoesNotRefill) {
  FakeClock time;
  RateLimiter limiter(spec("1/s,burst=1"), 100, time.clock());
  EXPECT_TRUE(limiter.take("a").allowed);
  time.advance(-5s);
  const auto decision = limiter.take("a");
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.retry_after_seconds, 1);
  time.advance(5s + 1s);
  EXPECT_TRUE(limiter.take("a").allowed);
}

TEST(RateLimiter, EvictsTheLeastRecentlyUsedWhenNoBucketIsFull) {
  FakeClock time;
  RateLimiter limiter(spec("1/s,burst=2"), 3, time.clock());
  limiter.take("b");
  limiter.take("c");
  EXPECT_EQ(drain(limiter, "abuser"), 2);
  EXPECT_FALSE(limiter.take("abuser").allowed);  // refused, and now the most recent
  limiter.take("d");                             // full table: "b" (least recent) goes
  EXPECT_EQ(limiter.size(), 3U);
  EXPECT_FALSE(limiter.take("abuser").allowed);  // kept: still empty
  EXPECT_EQ(limiter.take("c").remaining, 0);     // kept: one token already taken
  EXPECT_EQ(limiter.take("b").remaining, 1);     // forgotten: a full bucket again
  EXPECT_EQ(limiter.size(), 3U);
  // "b" came back in place of "d", the least recent then, so "d" starts afresh too.
  EXPECT_EQ(limiter.take("d").remaining, 1);
}

TEST(RateLimiter, ReclaimsFullBucketsBeforeEvictingOthers) {
  FakeClock time;
  RateLimiter limiter(spec("1/s,burst=10"), 3, time.clock());
  EXPECT_EQ(drain(limiter, "old-abuser"), 10);  // full again only at 10 s
  time.advance(5s);
  limiter.take("b");  // full again at 6 s
  time.advance(1s);
  limiter.take("c");  // full again at 7 s
  time.advance(2s);   // 8 s: "b" and "c" are full, "old-abuser" (least recent) is not
  limiter.take("d");
  EXPECT_EQ(limiter.size(), 2U);  // both full buckets reclaimed, the abuser kept
  EXPECT_EQ(limiter.take("old-abuser").remaining, 7);  // 8 tokens back, not 10
}

TEST(RateLimiter, TableNeverExceedsItsBoundUnderAMillionClients) {
  FakeClock time;
  constexpr std::size_t kMax = RateLimiter::kDefaultMaxClients;
  RateLimiter limiter(spec("1/s,burst=5"), kMax, time.clock());
  const std::string abuser = "198.51.100.1";
  EXPECT_EQ(drain(limiter, abuser), 5);
  for (std::uint32_t i = 0; i < 1'000'000; ++i) {
    const std::string client = "10." + std::to_string(i >> 16) + '.' +
                               std::to_string((i >> 8) & 0xff) + '.' + std::to_string(i & 0xff);
    ASSERT_TRUE(limiter.take(client).allowed) << client;  // every newcomer has a full bucket
    if (i % 1000 == 0) {
      ASSERT_LE(limiter.size(), kMax) << i;
      // An abuser that keeps hitting its limit during the flood is never evicted.
      ASSERT_FALSE(limiter.take(abuser).allowed) << i;
    }
    if (i % 100'000 == 0) time.advance(10ms);
  }
  EXPECT_EQ(limiter.size(), kMax);
}

TEST(RateLimiter, ConcurrentTakesOnOneClientAllowExactlyTheBurst) {
  FakeClock time;  // never moves: no refill
  RateLimiter limiter(spec("1/s,burst=1000"), RateLimiter::kDefaultMaxClients, time.clock());
  constexpr int kThreads = 8;
  constexpr int kTakes = 500;
  std::atomic<int> allowed{0};
  std::atomic<int> remaining_sum{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kTakes; ++i) {
        const auto decision = limiter.take("192.0.2.1");
        if (decision.allowed) {
          ++allowed;
          remaining_sum += static_cast<int>(decision.remaining);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 1000);
  // Every allowed take saw a different "remaining": 999 + 998 + ... + 0.
  EXPECT_EQ(remaining_sum.load(), 999 * 1000 / 2);
}

TEST(RateLimiter, ConcurrentTakesOnManyClientsAddUpExactly) {
  FakeClock time;
  RateLimiter limiter(spec("1/s,burst=50"), RateLimiter::kDefaultMaxClients, time.clock());
  constexpr int kThreads = 8;
  constexpr int kClients = 200;
  constexpr int kRounds = 10;  // each client is asked kThreads * kRounds = 80 times
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        for (int c = 0; c < kClients; ++c) {
          const int client = (c + t * 17) % kClients;  // threads collide in different orders
          if (limiter.take("2001:db8::" + std::to_string(client)).allowed) ++allowed;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), kClients * 50);
  EXPECT_EQ(limiter.size(), static_cast<std::size_t>(kClients));
}

}  // namespace
}  // namespace counting::policy
