// Tests for credentials from an injected environment: present, session token, missing.
#include "aws/credentials.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace aws {
namespace {

Environment env_of(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    auto found = vars.find(name);
    return found == vars.end() ? nullptr : found->second.c_str();
  };
}

TEST(Credentials, ReadsAllThreeVariables) {
  auto credentials = credentials_from_environment(env_of({{"AWS_ACCESS_KEY_ID", "AKID"},
                                                          {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                                          {"AWS_SESSION_TOKEN", "TOKEN"}}));
  ASSERT_TRUE(credentials.has_value()) << credentials.error();
  EXPECT_EQ(credentials->access_key_id, "AKID");
  EXPECT_EQ(credentials->secret_access_key, "SECRET");
  EXPECT_EQ(credentials->session_token, "TOKEN");
}

TEST(Credentials, TheSessionTokenIsOptional) {
  auto credentials = credentials_from_environment(
      env_of({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "SECRET"}}));
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->session_token, "");
}

TEST(Credentials, MissingOrEmptyVariablesAreNamedWithoutValues) {
  auto no_secret = credentials_from_environment(
      env_of({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", ""}}));
  ASSERT_FALSE(no_secret.has_value());
  EXPECT_EQ(no_secret.error(), "AWS credentials missing: set AWS_SECRET_ACCESS_KEY");

  auto no_key = credentials_from_environment(env_of({{"AWS_SECRET_ACCESS_KEY", "SECRET"}}));
  ASSERT_FALSE(no_key.has_value());
  EXPECT_EQ(no_key.error(), "AWS credentials missing: set AWS_ACCESS_KEY_ID");
  EXPECT_EQ(no_key.error().find("SECRET "), std::string::npos);

  auto none = credentials_from_environment(Environment{});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error(),
            "AWS credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
}

}  // namespace
}  // namespace aws
