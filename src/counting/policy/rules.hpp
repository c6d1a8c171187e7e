// The counting policy's settings: which total the counting endpoints answer, and which
// requests count at all. Plain data, filled by config/, read by app/ and counting/.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "counting/policy/key_patterns.hpp"
#include "counting/policy/rate_limit.hpp"

namespace counting::policy {

// Which total a counting endpoint answers as `count`.
enum class CountUnit { views, visitors };

// What a counted hit writes. `full`: the counter, the day's row, the visitor's mark (per
// counter and UTC day) and an Idempotency-Key's record. `classic`: only the counter's view
// total (on DynamoDB one UpdateItem of `count`, the classic design's item): no visitors, no
// history, Idempotency-Keys not honoured. For a pay-per-write store at the classic's price.
enum class Profile { full, classic };

// Which header trusted proxies append the client's address to. Only that one is read: a
// proxy passes the other through as the client wrote it.
enum class ForwardedHeader { x_forwarded_for, forwarded };

struct Rules {
  Profile profile = Profile::full;
  CountUnit unit = CountUnit::views;
  bool ignore_bots = false;                  // crawlers and a missing User-Agent count nothing
  bool respect_dnt = false;                  // DNT: 1 or Sec-GPC: 1 counts nothing
  std::chrono::seconds repeat_window{0};     // the same visitor on a counter counts once per window
  std::optional<RateLimitSpec> rate_limit;   // per client address, on counting requests (serve)
  std::vector<std::string> trusted_proxies;  // CIDRs whose forwarded addresses are believed
  ForwardedHeader forwarded_header = ForwardedHeader::x_forwarded_for;
  KeyPatterns keys;  // which counters may count (and so be created); empty: every key
  bool owner_creates_counters = false;  // true: counting never creates a counter (PUT does)
};

}  // namespace counting::policy
