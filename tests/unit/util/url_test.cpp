// The one URL parser: scheme://host[:port] and host:port, IPv6 literals, percent-decoded
// names, and every malformed form refused with a reason.
#include "util/url.hpp"

#include <gtest/gtest.h>

namespace util {
namespace {

TEST(ParseHostUrl, NamesAddressesAndPorts) {
  auto name = parse_host_url("HTTPS://Counter.Example:8443");
  ASSERT_TRUE(name.has_value()) << name.error();
  EXPECT_EQ(name->scheme, "https");
  EXPECT_EQ(name->host, "Counter.Example");
  EXPECT_FALSE(name->ipv6);
  EXPECT_EQ(name->port, 8443);
  EXPECT_EQ(name->url_host(), "Counter.Example");

  auto ipv4 = parse_host_url("http://127.0.0.1");
  ASSERT_TRUE(ipv4.has_value()) << ipv4.error();
  EXPECT_EQ(ipv4->host, "127.0.0.1");
  EXPECT_EQ(ipv4->port, std::nullopt);

  auto ipv6 = parse_host_url("http://[::1]:8000");
  ASSERT_TRUE(ipv6.has_value()) << ipv6.error();
  EXPECT_EQ(ipv6->host, "::1");
  EXPECT_TRUE(ipv6->ipv6);
  EXPECT_EQ(ipv6->port, 8000);
  EXPECT_EQ(ipv6->url_host(), "[::1]");
  EXPECT_EQ(parse_host_url("http://[0:0:0:0:0:0:0:1]")->host, "::1");  // normalized

  EXPECT_EQ(parse_host_url("http://ex%61mple.com")->host, "example.com");  // percent-decoded
  EXPECT_EQ(parse_host_url("http://h:65535")->port, 65535);
  EXPECT_EQ(parse_host_url("chrome-extension://abc")->scheme, "chrome-extension");
}

TEST(ParseHostUrl, RefusesAnythingButSchemeHostAndPort) {
  const std::pair<const char*, const char*> cases[] = {
      {"example.com", "scheme://host"},     // no scheme
      {"localhost:8080", "scheme://host"},  // a scheme "localhost" with a path, no authority
      {"://x", "scheme://host"},
      {"http://", "empty host"},
      {"http://:80", "empty host"},
      {"http://user@h", "user-info"},
      {"http://user:pw@h:80", "user-info"},
      {"http://h/", "path"},
      {"http://h/path", "path"},
      {"http://h?x=1", "query"},
      {"http://h#top", "fragment"},
      {"http://h:", "bad port"},
      {"http://h:0", "bad port"},
      {"http://h:65536", "bad port"},
      {"http://h:99999", "bad port"},  // Boost.URL 1.81 wraps this one to 34463
      {"http://h:x", ""},              // Boost.URL 1.81 reads a path "x" here; refused either way
      {"http://h:1x", ""},
      {"http://[::1", "scheme://host"},  // unclosed
      {"http://[v1.x]", "unsupported host"},
      {"http://*.example.com", "bad host name"},
      {"http://a%2Fb", "bad host name"},  // decodes to a slash
      {"http://a%00b", "bad host name"},
      {"http://a b", "scheme://host"},
  };
  for (const auto& [url, words] : cases) {
    auto parsed = parse_host_url(url);
    ASSERT_FALSE(parsed.has_value()) << url;
    EXPECT_NE(parsed.error().find(words), std::string::npos) << url << " -> " << parsed.error();
  }
}

TEST(ParseHostPort, NeedsAPort) {
  auto v4 = parse_host_port("127.0.0.1:9001", false);
  ASSERT_TRUE(v4.has_value()) << v4.error();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9001);
  EXPECT_TRUE(v4->scheme.empty());
  auto v6 = parse_host_port("[::1]:0", true);
  ASSERT_TRUE(v6.has_value()) << v6.error();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_TRUE(v6->ipv6);
  EXPECT_EQ(v6->port, 0);
  EXPECT_EQ(parse_host_port("localhost:8080", false)->host, "localhost");

  const std::pair<const char*, const char*> cases[] = {
      {"localhost", "no port"},    {"h:", "bad port"},
      {":8080", "empty host"},     {"h:0", "bad port"},  // port 0 only where allowed
      {"h:65536", "bad port"},     {"h:-1", "host:port"},
      {"u@h:1", "user-info"},      {"h:1/path", "host:port"},
      {"http://h:1", "host:port"}, {"::1:8080", "host:port"},  // IPv6 needs brackets
      {"[::1:8080", "host:port"},  {"", "empty host"},
  };
  for (const auto& [authority, words] : cases) {
    auto parsed = parse_host_port(authority, false);
    ASSERT_FALSE(parsed.has_value()) << authority;
    EXPECT_NE(parsed.error().find(words), std::string::npos)
        << authority << " -> " << parsed.error();
  }
}

}  // namespace
}  // namespace util
