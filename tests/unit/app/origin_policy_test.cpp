// Origin policy: exact origins, *, port wildcards, require_origin, bad patterns.
#include "app/origin_policy.hpp"

#include <gtest/gtest.h>

namespace app {
namespace {

using Verdict = OriginPolicy::Verdict;

OriginPolicy make(std::vector<std::string> patterns, bool require = false) {
  auto policy = OriginPolicy::create(std::move(patterns), require);
  EXPECT_TRUE(policy.has_value());
  return *policy;
}

TEST(OriginPolicy, ExactOriginsOnly) {
  const OriginPolicy policy = make({"https://example.com"});
  EXPECT_EQ(policy.check("https://example.com"), Verdict::allowed);
  EXPECT_EQ(policy.check("HTTPS://Example.COM"), Verdict::allowed);
  EXPECT_EQ(policy.check("http://example.com"), Verdict::refused);
  EXPECT_EQ(policy.check("https://example.com:8443"), Verdict::refused);
  EXPECT_EQ(policy.check("https://example.com.evil.net"), Verdict::refused);
  EXPECT_EQ(policy.check("null"), Verdict::refused);
}

TEST(OriginPolicy, PortWildcard) {
  const OriginPolicy policy = make({"http://localhost:*"});
  EXPECT_EQ(policy.check("http://localhost:3000"), Verdict::allowed);
  EXPECT_EQ(policy.check("http://localhost"), Verdict::allowed);
  EXPECT_EQ(policy.check("http://localhost:"), Verdict::refused);
  EXPECT_EQ(policy.check("http://localhost:80x"), Verdict::refused);
  EXPECT_EQ(policy.check("http://localhost.evil.net:3000"), Verdict::refused);
  EXPECT_EQ(policy.check("https://localhost:3000"), Verdict::refused);
}

TEST(OriginPolicy, StarAllowsAny) {
  EXPECT_EQ(make({"*"}).check("https://anything.example"), Verdict::allowed);
}

TEST(OriginPolicy, MissingOrigin) {
  EXPECT_EQ(make({}).check(std::nullopt), Verdict::no_origin);
  EXPECT_EQ(make({"*"}, true).check(std::nullopt), Verdict::refused);
  EXPECT_EQ(make({}).check("https://example.com"), Verdict::refused);
}

TEST(OriginPolicy, TheServersOwnOriginIsAlwaysAllowed) {
  const OriginPolicy policy = make({});
  EXPECT_EQ(policy.check("http://127.0.0.1:8080", "127.0.0.1:8080"), Verdict::allowed);
  EXPECT_EQ(policy.check("https://Counter.example", "counter.example"), Verdict::allowed);
  EXPECT_EQ(policy.check("http://127.0.0.1:9999", "127.0.0.1:8080"), Verdict::refused);
  EXPECT_EQ(policy.check("http://evil.example", "counter.example"), Verdict::refused);
  EXPECT_EQ(policy.check("http://counter.example.evil.net", "counter.example"), Verdict::refused);
  EXPECT_EQ(policy.check("http://x", ""), Verdict::refused);
}

TEST(OriginPolicy, RejectsMalformedPatterns) {
  for (const char* bad : {"example.com", "https://example.com/", "https://example.com/path",
                          "https://", "://x", "https://a:b", "https://[::1"}) {
    EXPECT_FALSE(OriginPolicy::create({bad}, false).has_value()) << bad;
  }
  // Subdomain wildcards would never match, so they are refused rather than accepted.
  for (const char* wildcard : {"https://*.example.com", "https://*", "http://a*b.example:*"}) {
    const auto policy = OriginPolicy::create({wildcard}, false);
    ASSERT_FALSE(policy.has_value()) << wildcard;
    EXPECT_NE(policy.error().find("list each subdomain"), std::string::npos) << policy.error();
  }
  for (const char* good : {"https://example.com:8443", "http://127.0.0.1:*", "http://[::1]:*"}) {
    EXPECT_TRUE(OriginPolicy::create({good}, false).has_value()) << good;
  }
}

}  // namespace
}  // namespace app
