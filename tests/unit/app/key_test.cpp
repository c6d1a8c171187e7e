// Key rules: decoding, allowed characters, segments and length.
#include "app/key.hpp"

#include <gtest/gtest.h>

#include "util/percent.hpp"

namespace app {
namespace {

TEST(PercentDecode, DecodesEscapesOfEitherCase) {
  EXPECT_EQ(util::percent_decode("a%2Fb%2fc"), "a/b/c");
  EXPECT_EQ(util::percent_decode("plain"), "plain");
}

TEST(PercentDecode, RejectsMalformedEscapes) {
  EXPECT_EQ(util::percent_decode("%"), std::nullopt);
  EXPECT_EQ(util::percent_decode("%2"), std::nullopt);
  EXPECT_EQ(util::percent_decode("ab%zz"), std::nullopt);
}

TEST(Key, AcceptsTheAllowedAlphabet) {
  EXPECT_TRUE(is_valid_key("visitors"));
  EXPECT_TRUE(is_valid_key("blog/2024/hello-world_v2.~draft"));
  EXPECT_TRUE(is_valid_key(std::string(128, 'k')));
}

TEST(Key, RejectsBadLengthCharactersAndSegments) {
  EXPECT_FALSE(is_valid_key(""));
  EXPECT_FALSE(is_valid_key(std::string(129, 'k')));
  for (const char* key : {"a b", "a%b", "a?b", "é", "a\\b", "/a", "a/", "a//b", ".", "..", "a/./b",
                          "a/../b", "../etc/passwd"}) {
    EXPECT_FALSE(is_valid_key(key)) << key;
  }
  EXPECT_FALSE(is_valid_key(std::string_view("a\0b", 3)));
}

TEST(ParseKey, DecodesThenChecks) {
  EXPECT_EQ(parse_key("home"), "home");
  EXPECT_EQ(parse_key("a%2Fb"), "a/b");
  EXPECT_EQ(parse_key("%2e%2e"), std::nullopt);      // ".."
  EXPECT_EQ(parse_key("a%00b"), std::nullopt);       // NUL
  EXPECT_EQ(parse_key("%252e%252e"), std::nullopt);  // decodes once only: "%2e%2e"
  EXPECT_EQ(parse_key(std::string(3 * 128 + 1, 'k')), std::nullopt);
}

}  // namespace
}  // namespace app
