// Crawler detection by User-Agent, so that bots are not counted: the regex list of the npm
// package isbot (third_party/isbot, pinned, compiled into the binary at build time).
//
// isbot's patterns are JavaScript regexes (with lookbehind); they are translated once, at
// construction, to Boost.Regex (header-only, no new dependency). Running all ~200 of them as
// one alternation costs ~145 us per User-Agent, so each pattern is only tried when the
// User-Agent contains a literal that every match of the pattern must contain (a lower-cased
// substring search), and a bounded cache of verdicts sits in front, since real traffic
// repeats the same few User-Agents. Measured with bench/bots_bench.cpp (Release, one thread):
// TODO numbers.
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
