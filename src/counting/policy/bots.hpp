// Crawler detection by User-Agent, so that bots are not counted: the regex list of the npm
// package isbot (third_party/isbot, pinned; scripts/update-bot-list refreshes it), compiled
// into the binary at build time.
//
// isbot's patterns are JavaScript regexes (lookbehind included). They are translated once, at
// construction, to Boost.Regex (header-only: no new dependency), with isbot's verdicts for
// ASCII User-Agents (JavaScript reads other text as UTF-16, where \s also takes Unicode
// spaces and {n} counts code units, not bytes; browsers send ASCII).
//
// Speed: all ~200 patterns as one Boost alternation cost ~145 us per User-Agent (PCRE2 JIT:
// 5 to 20 us; isbot in node: 1.3 to 3 us). So instead one Aho-Corasick pass finds which
// literals the User-Agent contains, a pattern is only tried if its required literal is there,
// a pattern that is only a literal needs no regex, and an anchored one is tried at the start
// only. In front, a bounded cache of verdicts, since real traffic repeats the same
// User-Agents. bench/bots_bench.cpp, Release, g++ 12, one thread on a busy 2-core VM:
//   Chrome 124 on Windows:  cached 55 to 70 ns, uncached 2.7 to 6 us
//   Googlebot 2.1:          cached 50 to 80 ns, uncached 3 to 5 us
//   building the filter (206 patterns): ~2 ms, once at start-up
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

namespace counting::policy {

class BotFilter {
 public:
  // Builds the matcher from the embedded list, with a verdict cache of at most `cache_entries`
  // User-Agents (0: no cache). Throws std::runtime_error if a pattern of the list cannot be
  // translated (a list refreshed with syntax the translator does not know; the tests catch it).
  explicit BotFilter(std::size_t cache_entries = 4096);
  ~BotFilter();
  BotFilter(const BotFilter&) = delete;
  BotFilter& operator=(const BotFilter&) = delete;

  // True for a crawler: a missing or empty User-Agent, or one that matches any pattern of
  // the list, case-insensitively, with the same verdict as isbot's `isbot()` for ASCII
  // User-Agents. Thread-safe: may be called from many threads at once. User-Agents up to
  // 512 bytes are cached; longer ones are matched every time.
  bool is_bot(std::optional<std::string_view> user_agent) const;

  // How many patterns the embedded list has (the tests compare it with patterns.json).
  std::size_t pattern_count() const;

 private:
  struct Matcher;
  class Cache;
  std::unique_ptr<const Matcher> matcher_;
  std::unique_ptr<Cache> cache_;
};

// Where the embedded list comes from, for start-up logs: "isbot 5.2.3".
std::string_view bot_list_source();

}  // namespace counting::policy
