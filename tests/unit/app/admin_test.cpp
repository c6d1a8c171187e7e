// The admin token: what it accepts and refuses.
#include "app/admin.hpp"

#include <gtest/gtest.h>

namespace app {
namespace {

TEST(AdminToken, WeakTokensAreRefused) {
  EXPECT_FALSE(AdminToken::create("short"));
  EXPECT_FALSE(AdminToken::create("sixteen chars  x"));  // a space inside
  EXPECT_FALSE(AdminToken::create("0123456789abcde\x01"));
  EXPECT_TRUE(AdminToken::create("0123456789abcdef\n"));  // a file's newline is trimmed
}

TEST(AdminToken, OnlyTheBearerTokenItselfIsAccepted) {
  const auto token = AdminToken::create("0123456789abcdef");
  ASSERT_TRUE(token);
  EXPECT_TRUE(token->accepts("Bearer 0123456789abcdef"));
  EXPECT_TRUE(token->accepts("bearer  0123456789abcdef "));
  EXPECT_FALSE(token->accepts(std::nullopt));
  EXPECT_FALSE(token->accepts(""));
  EXPECT_FALSE(token->accepts("Bearer"));
  EXPECT_FALSE(token->accepts("Bearer 0123456789abcde"));
  EXPECT_FALSE(token->accepts("Bearer 0123456789abcdefg"));
  EXPECT_FALSE(token->accepts("Basic 0123456789abcdef"));
  EXPECT_FALSE(token->accepts("0123456789abcdef"));
}

TEST(AdminToken, TheChallengeSaysBearer) {
  const Response missing = unauthorized(false);
  EXPECT_EQ(missing.status, 401);
  bool found = false;
  for (const auto& [name, value] : missing.headers) {
    if (name == "WWW-Authenticate") found = value == R"(Bearer realm="visitor-counter")";
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace app
