// KeyPatterns (--keys): exact keys and prefixes, what they allow, and the patterns refused.
#include "counting/policy/key_patterns.hpp"

#include <gtest/gtest.h>

namespace counting::policy {
namespace {

KeyPatterns parse(std::vector<std::string> patterns) {
  auto parsed = KeyPatterns::parse(patterns);
  EXPECT_TRUE(parsed.has_value()) << parsed.error();
  return parsed.value_or(KeyPatterns());
}

TEST(KeyPatterns, NoPatternsAllowEveryKey) {
  EXPECT_TRUE(KeyPatterns().allows("anything/at-all"));
  EXPECT_TRUE(parse({}).empty());
}

TEST(KeyPatterns, ExactKeysAndPrefixes) {
  KeyPatterns keys = parse({"visitors", "blog/*", "site-*"});
  EXPECT_TRUE(keys.allows("visitors"));
  EXPECT_FALSE(keys.allows("visitors2"));
  EXPECT_FALSE(keys.allows("visitor"));
  EXPECT_TRUE(keys.allows("blog/a"));
  EXPECT_TRUE(keys.allows("blog/a/b"));
  EXPECT_FALSE(keys.allows("blog"));
  EXPECT_FALSE(keys.allows("blogs/a"));
  EXPECT_TRUE(keys.allows("site-x"));
  EXPECT_EQ(keys.describe(), "visitors,blog/*,site-*");
}

TEST(KeyPatterns, MergeAddsUp) {
  KeyPatterns keys = parse({"a"});
  keys.merge(parse({"b/*"}));
  EXPECT_TRUE(keys.allows("a"));
  EXPECT_TRUE(keys.allows("b/c"));
  EXPECT_FALSE(keys.allows("c"));
}

TEST(KeyPatterns, BadPatternsAreRefused) {
  for (const char* bad : {"", "a*b", "**", "with space", "a?", "#salt"}) {
    const std::vector<std::string> patterns = {bad};
    auto parsed = KeyPatterns::parse(patterns);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_NE(parsed.error().find("bad key pattern"), std::string::npos);
  }
  const std::vector<std::string> too_long = {std::string(129, 'k')};
  EXPECT_FALSE(KeyPatterns::parse(too_long).has_value());
}

}  // namespace
}  // namespace counting::policy
