// Origin policy: exact origins, *, port wildcards, require_origin, bad patterns, and the
// public origin (never the Host header).
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

TEST(OriginPolicy, OnlyThePublicOriginIsExempt) {
  auto policy = OriginPolicy::create({}, false, "http://127.0.0.1:8080");
  ASSERT_TRUE(policy.has_value()) << policy.error();
  EXPECT_EQ(policy->public_origin(), "http://127.0.0.1:8080");
  EXPECT_EQ(policy->check("http://127.0.0.1:8080"), Verdict::allowed);
  EXPECT_EQ(policy->check("http://127.0.0.1:9999"), Verdict::refused);
  EXPECT_EQ(policy->check("https://127.0.0.1:8080"), Verdict::refused);
  EXPECT_EQ(policy->check("http://localhost:8080"), Verdict::refused);
  EXPECT_EQ(policy->check(std::nullopt), Verdict::no_origin);

  // Case and the default port do not matter; a trailing slash is allowed in the URL.
  auto named = OriginPolicy::create({"https://site.example"}, true, "HTTPS://Counter.Example:443/");
  ASSERT_TRUE(named.has_value()) << named.error();
  EXPECT_EQ(named->public_origin(), "https://counter.example");
  EXPECT_EQ(named->check("https://counter.example"), Verdict::allowed);
  EXPECT_EQ(named->check("https://site.example"), Verdict::allowed);
  EXPECT_EQ(named->check("https://counter.example.evil.net"), Verdict::refused);
  EXPECT_EQ(named->check(std::nullopt), Verdict::refused);  // require_origin still applies

  auto ipv6 = OriginPolicy::create({}, false, "http://[::1]:8080");
  ASSERT_TRUE(ipv6.has_value()) << ipv6.error();
  EXPECT_EQ(ipv6->check("http://[::1]:8080"), Verdict::allowed);
}

TEST(OriginPolicy, AnOriginNamingTheHostIsNotExempt) {
  // Anyone can point a domain at the server: its Host header proves nothing. Only the
  // configured public origin, if any, is exempt.
  EXPECT_EQ(make({}).check("http://127.0.0.1:8080"), Verdict::refused);
  EXPECT_EQ(make({}).check("https://counter.example"), Verdict::refused);
  auto policy = OriginPolicy::create({}, false, "https://counter.example");
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ(policy->check("https://attacker.example"), Verdict::refused);
  EXPECT_EQ(make({}).public_origin(), "");
}

TEST(OriginPolicy, RejectsABadPublicUrl) {
  for (const char* bad :
       {"https://counter.example/demo", "https://counter.example/x/", "counter.example",
        "ftp://counter.example", "https://u@counter.example", "https://counter.example?x",
        "https://counter.example#x", "https://counter.example:0", "http://[::1", "https://"}) {
    const auto policy = OriginPolicy::create({}, false, bad);
    ASSERT_FALSE(policy.has_value()) << bad;
    EXPECT_NE(policy.error().find("public URL"), std::string::npos) << policy.error();
  }
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
  for (const char* bad :
       {"http://u@example.com", "https://example.com?x", "https://example.com#x",
        "https://example.com:0", "https://example.com:65536", "https://example.com:80:*",
        "https://[::1]:80:*", "https://example.com:*/", "http://*:*"}) {
    EXPECT_FALSE(OriginPolicy::create({bad}, false).has_value()) << bad;
  }
}

TEST(OriginPolicy, PatternsMatchTheSerializedOrigin) {
  // Browsers send no default port and lower-case hosts: so are patterns kept.
  const OriginPolicy policy = make({"HTTPS://Example.COM:443", "http://[::1]:*"});
  EXPECT_EQ(policy.check("https://example.com"), Verdict::allowed);
  EXPECT_EQ(policy.check("http://[::1]:5173"), Verdict::allowed);
  EXPECT_EQ(policy.check("http://[::1]"), Verdict::allowed);
  EXPECT_EQ(policy.check("http://[::2]:5173"), Verdict::refused);
}

}  // namespace
}  // namespace app
