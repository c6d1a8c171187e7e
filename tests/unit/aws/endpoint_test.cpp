// Endpoint URLs: scheme, default ports, IPv6 literals and the Host header, bad forms.
#include "aws/endpoint.hpp"

#include <gtest/gtest.h>

namespace aws {
namespace {

TEST(ParseEndpoint, AcceptsHostAndPortOnly) {
  auto plain = parse_endpoint("http://127.0.0.1:4567");
  ASSERT_TRUE(plain.has_value()) << plain.error();
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 4567);
  EXPECT_EQ(plain->host_header(), "127.0.0.1:4567");
  auto secure = parse_endpoint("https://dynamodb.us-east-1.amazonaws.com");
  ASSERT_TRUE(secure.has_value()) << secure.error();
  EXPECT_TRUE(secure->tls);
  EXPECT_EQ(secure->port, 443);
  EXPECT_EQ(secure->host_header(), "dynamodb.us-east-1.amazonaws.com");
  auto slash = parse_endpoint("HTTP://localhost/");
  ASSERT_TRUE(slash.has_value()) << slash.error();
  EXPECT_EQ(slash->port, 80);
  EXPECT_EQ(slash->host_header(), "localhost");
  EXPECT_EQ(parse_endpoint("https://h:443")->host_header(), "h");
  EXPECT_EQ(parse_endpoint("http://h:443")->host_header(), "h:443");
}

TEST(ParseEndpoint, Ipv6Literals) {
  auto local = parse_endpoint("http://[::1]:8000");
  ASSERT_TRUE(local.has_value()) << local.error();
  EXPECT_EQ(local->host, "::1");  // what the resolver takes
  EXPECT_EQ(local->port, 8000);
  EXPECT_EQ(local->host_header(), "[::1]:8000");
  auto secure = parse_endpoint("https://[2001:db8::1]");
  ASSERT_TRUE(secure.has_value()) << secure.error();
  EXPECT_EQ(secure->host, "2001:db8::1");
  EXPECT_EQ(secure->host_header(), "[2001:db8::1]");
}

TEST(ParseEndpoint, RefusesBadForms) {
  for (const char* bad :
       {"ftp://x", "127.0.0.1:8000", "h", "http://", "http://h/path", "http://h//", "http://h?q",
        "http://h#f", "http://u@h", "http://u:p@h", "http://h:0", "http://h:65536",
        "http://h:99999", "http://h:x", "http://h:", "http://[::1", "http://::1:8000", ""}) {
    EXPECT_FALSE(parse_endpoint(bad).has_value()) << bad;
  }
  EXPECT_NE(parse_endpoint("ftp://x").error().find("http:// or https://"), std::string::npos);
  EXPECT_NE(parse_endpoint("http://h:0").error().find("port"), std::string::npos);
}

}  // namespace
}  // namespace aws
