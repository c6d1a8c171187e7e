// BotFilter: browsers are counted and crawlers are not, as isbot decides (the expected verdicts
// are isbot 5.2.3's own); the translated JavaScript syntax; the verdict cache, full and
// evicting, from many threads; and the embedded list being third_party/isbot's.
#include "counting/policy/bots.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "counting/policy/bot_list.hpp"

namespace counting::policy {
namespace {

constexpr std::string_view kChrome =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36";
constexpr std::string_view kGooglebot =
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

constexpr std::string_view kBrowsers[] = {
    kChrome,
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
    "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 12; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/124.0 Mobile Safari/537.36 GoogleApp/15.1",
};

constexpr std::string_view kCrawlers[] = {
    kGooglebot,
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/124.0.6367.201 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
    "+http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Wget/1.21.4",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/124.0.0.0 Safari/537.36",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
    "+https://openai.com/gptbot)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Distinct User-Agents, alternately a browser's (not a bot) and a crawler's (a bot).
std::vector<std::string> distinct_user_agents(int count) {
  std::vector<std::string> user_agents;
  for (int i = 0; i < count; ++i) {
    const std::string n = std::to_string(i);
    if (i % 2 == 0) {
      user_agents.push_back(
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/124.0." +
          n + ".0 Safari/537.36");
    } else {
      user_agents.push_back("Mozilla/5.0 (compatible; Example/" + n +
                            ".0; +https://example.org/about)");
    }
  }
  return user_agents;
}

TEST(BotFilterTest, BrowsersAreNotBots) {
  const BotFilter filter;
  for (const std::string_view user_agent : kBrowsers) {
    EXPECT_FALSE(filter.is_bot(user_agent)) << user_agent;
    EXPECT_FALSE(filter.is_bot(user_agent)) << user_agent << " (cached)";
  }
}

TEST(BotFilterTest, CrawlersAreBots) {
  const BotFilter filter;
  for (const std::string_view user_agent : kCrawlers) {
    EXPECT_TRUE(filter.is_bot(user_agent)) << user_agent;
    EXPECT_TRUE(filter.is_bot(user_agent)) << user_agent << " (cached)";
  }
}

TEST(BotFilterTest, MissingOrEmptyUserAgentIsABot) {
  const BotFilter filter;
  EXPECT_TRUE(filter.is_bot(std::nullopt));
  EXPECT_TRUE(filter.is_bot(""));
  EXPECT_TRUE(filter.is_bot(std::string_view()));
}

TEST(BotFilterTest, CaseDoesNotMatter) {
  const BotFilter filter;
  EXPECT_TRUE(
      filter.is_bot("MOZILLA/5.0 (COMPATIBLE; GOOGLEBOT/2.1; +HTTP://WWW.GOOGLE.COM/BOT.HTML)"));
  EXPECT_TRUE(filter.is_bot("CURL/8.5.0"));
  EXPECT_TRUE(filter.is_bot("HEADLESSCHROME"));
  EXPECT_TRUE(filter.is_bot("wGeT/1.21.4"));
  EXPECT_FALSE(filter.is_bot(
      "MOZILLA/5.0 (WINDOWS NT 10.0; WIN64; X64) APPLEWEBKIT/537.36 (KHTML, LIKE GECKO) "
      "CHROME/124.0.0.0 SAFARI/537.36"));
  EXPECT_FALSE(filter.is_bot(
      "mozilla/5.0 (windows nt 10.0; win64; x64) applewebkit/537.36 (khtml, like gecko) "
      "chrome/124.0.0.0 safari/537.36"));
}

// isbot's JavaScript syntax that Boost.Regex spells differently: a lookbehind with alternatives
// of different lengths, and a '-' next to a class escape, "[\w\d-.]".
TEST(BotFilterTest, TranslatedSyntaxMeansWhatItDoesInJavaScript) {
  const BotFilter filter;
  const std::string android =
      "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 "
      "Mobile Safari/537.36 ";
  // (?<! channel/|google/)google(?!(?:wv|app|/google| pixel))
  EXPECT_TRUE(filter.is_bot(android + "google"));
  EXPECT_FALSE(filter.is_bot(android + "channel/google"));
  EXPECT_FALSE(filter.is_bot(android + "google/google"));
  EXPECT_FALSE(filter.is_bot(android + "google pixel"));
  // (?<! cu)bots?(?:\b|_)
  EXPECT_TRUE(filter.is_bot(
      "Mozilla/5.0 (Linux; Android 14; Nobot KINGKONG) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/124.0 Mobile Safari/537.36"));
  EXPECT_FALSE(filter.is_bot(
      "Mozilla/5.0 (Linux; Android 14; CUBOT KINGKONG) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/124.0 Mobile Safari/537.36"));
  // ^mozilla/\d\.\d\s\((?:compatible;)?(?:\s?[\w\d-.]+[\s/]\d+\.\d+)?\)$
  EXPECT_TRUE(filter.is_bot("Mozilla/5.0 (compatible; my-tool.x 1.0)"));
  EXPECT_FALSE(filter.is_bot("Mozilla/5.0 (compatible; my-tool.x)"));
}

TEST(BotFilterTest, LongUserAgentsAreMatchedWithoutTheCache) {
  const BotFilter filter;
  std::string long_browser = std::string(kChrome);
  while (long_browser.size() < 700) long_browser += " x";
  EXPECT_FALSE(filter.is_bot(long_browser));
  EXPECT_FALSE(filter.is_bot(long_browser));
  EXPECT_TRUE(filter.is_bot(long_browser + " Googlebot/2.1"));
  // Long enough to make a backtracking pattern work hard; isbot's verdicts.
  EXPECT_TRUE(filter.is_bot(std::string(20000, 'a')));
  std::string repeated;
  while (repeated.size() < 20000) repeated += "Mozilla/5.0 (";
  EXPECT_FALSE(filter.is_bot(repeated));
  repeated.clear();
  while (repeated.size() < 20000) repeated += "ab.cd ";
  EXPECT_TRUE(filter.is_bot(repeated));
  EXPECT_FALSE(filter.is_bot(repeated + "!"));
}

TEST(BotFilterTest, FullCacheEvictsAndGivesTheSameAnswers) {
  const BotFilter uncached(0);
  const BotFilter cached(64);
  const std::vector<std::string> user_agents = distinct_user_agents(1000);
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < user_agents.size(); ++i) {
      const bool expected = i % 2 == 1;
      ASSERT_EQ(uncached.is_bot(user_agents[i]), expected) << user_agents[i];
      ASSERT_EQ(cached.is_bot(user_agents[i]), expected) << user_agents[i] << ", round " << round;
    }
    // A few User-Agents again and again, between the others, as real traffic does.
    for (int i = 0; i < 100; ++i) {
      ASSERT_FALSE(cached.is_bot(kChrome));
      ASSERT_TRUE(cached.is_bot(kGooglebot));
      ASSERT_EQ(cached.is_bot(user_agents[static_cast<std::size_t>(i * 7)]), i * 7 % 2 == 1);
    }
  }
}

TEST(BotFilterTest, TinyCachesWork) {
  for (const std::size_t entries : {1, 2, 3, 17}) {
    const BotFilter filter(entries);
    for (int round = 0; round < 2; ++round) {
      EXPECT_FALSE(filter.is_bot(kChrome)) << entries;
      EXPECT_TRUE(filter.is_bot(kGooglebot)) << entries;
    }
  }
}

TEST(BotFilterTest, ConcurrentCallsGiveConsistentAnswers) {
  const BotFilter filter(128);  // small, so threads evict one another's entries
  const std::vector<std::string> user_agents = distinct_user_agents(400);
  std::atomic<int> wrong = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (std::size_t k = 0; k < user_agents.size(); ++k) {
          const std::size_t i = (k * static_cast<std::size_t>(2 * t + 1)) % user_agents.size();
          if (filter.is_bot(user_agents[i]) != (i % 2 == 1)) ++wrong;
          if (filter.is_bot(kChrome) || !filter.is_bot(kGooglebot)) ++wrong;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

// A stale build (patterns.json refreshed, the binary not rebuilt) would fail here.
TEST(BotFilterTest, EmbeddedListIsThirdPartyIsbot) {
  const std::filesystem::path patterns_file = VC_ISBOT_PATTERNS;
  const std::string patterns = read_file(patterns_file);
  const boost::json::value list = boost::json::parse(patterns);
  EXPECT_EQ(BotFilter(0).pattern_count(), list.as_array().size());
  EXPECT_EQ(bot_list::find_asset("/patterns.json"), patterns);

  std::string version = read_file(patterns_file.parent_path() / "VERSION");
  while (!version.empty() && (version.back() == '\n' || version.back() == ' ')) version.pop_back();
  EXPECT_EQ(bot_list_source(), "isbot " + version);
}

}  // namespace
}  // namespace counting::policy
