// Client address: address parsing and canonical text, the trusted-proxy list, the
// right-most-untrusted walk over Forwarded and X-Forwarded-For, Forwarded syntax checks
// (whoever sent it), the entry bound, and the rate-limit key.
#include "counting/policy/client_address.hpp"

#include <gtest/gtest.h>

namespace counting::policy {
namespace {

std::string canonical(std::string_view text) {
  const auto address = IpAddress::parse(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address ? address->to_string() : "";
}

TrustedProxies trust(std::vector<std::string> cidrs) {
  auto proxies = TrustedProxies::parse(cidrs);
  EXPECT_TRUE(proxies.has_value()) << proxies.error();
  return proxies ? *proxies : TrustedProxies();
}

bool trusts(const TrustedProxies& proxies, std::string_view address) {
  return proxies.trusts(*IpAddress::parse(address));
}

// The client for a request from `peer` through proxies in 10.0.0.0/8 and fd00::/8.
std::expected<std::string, std::string> client(std::string_view peer,
                                               std::vector<std::string_view> forwarded,
                                               std::vector<std::string_view> xff = {}) {
  static const TrustedProxies proxies = trust({"10.0.0.0/8", "fd00::/8"});
  return client_address(peer, {std::move(forwarded), std::move(xff)}, proxies);
}

std::string error_of(const std::expected<std::string, std::string>& result) {
  EXPECT_FALSE(result.has_value()) << "got " << (result ? *result : "");
  if (result) return "";
  EXPECT_EQ(result.error().find('\n'), std::string::npos);
  return result.error();
}

TEST(IpAddress, CanonicalText) {
  EXPECT_EQ(canonical("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(canonical("0.0.0.0"), "0.0.0.0");
  EXPECT_EQ(canonical("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(canonical("::FFFF:c000:0201"), "192.0.2.1");
  EXPECT_EQ(canonical("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
  EXPECT_EQ(canonical("2001:0db8::0001"), "2001:db8::1");
  EXPECT_EQ(canonical("::"), "::");
  EXPECT_EQ(canonical("::1"), "::1");
  EXPECT_EQ(canonical("1::"), "1::");
  // RFC 5952: one zero group is not shortened; the longest run is, the first on a tie.
  EXPECT_EQ(canonical("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
  EXPECT_EQ(canonical("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");
  EXPECT_EQ(canonical("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
  EXPECT_EQ(canonical("fe80:0:0:0:1:0:0:0"), "fe80::1:0:0:0");
  // Only the IPv4-mapped form is written as IPv4; no mixed notation otherwise.
  EXPECT_EQ(canonical("::1.2.3.4"), "::102:304");
  EXPECT_EQ(canonical("64:ff9b::192.0.2.1"), "64:ff9b::c000:201");
  EXPECT_TRUE(IpAddress::parse("192.0.2.1")->is_v4());
  EXPECT_FALSE(IpAddress::parse("2001:db8::1")->is_v4());
  EXPECT_EQ(*IpAddress::parse("::ffff:10.0.0.1"), *IpAddress::parse("10.0.0.1"));
}

TEST(IpAddress, RejectsWhatIsNotABareAddress) {
  for (const char* text : {"", "a", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", " 1.2.3.4",
                           "1.2.3.4 ", "1.2.3.4:80", "[::1]", "::1%eth0", "2001:db8::1::2",
                           "12345::", "unknown", "_hidden", "1.2.3.4/32"}) {
    EXPECT_FALSE(IpAddress::parse(text).has_value()) << text;
  }
  EXPECT_FALSE(IpAddress::parse(std::string(100, '1')).has_value());
}

TEST(TrustedProxies, MatchesCidrBlocks) {
  const TrustedProxies proxies = trust(
      {"10.0.0.0/8", " 192.168.0.0/23 ", "127.0.0.1", "::1/128", "fd00::/8", "2001:db8::/33"});
  EXPECT_FALSE(proxies.empty());
  EXPECT_TRUE(trusts(proxies, "10.0.0.0"));
  EXPECT_TRUE(trusts(proxies, "10.255.255.255"));
  EXPECT_TRUE(trusts(proxies, "::ffff:10.1.2.3"));  // the mapped form of an IPv4 address
  EXPECT_FALSE(trusts(proxies, "11.0.0.0"));
  EXPECT_FALSE(trusts(proxies, "9.255.255.255"));
  EXPECT_TRUE(trusts(proxies, "192.168.1.255"));
  EXPECT_FALSE(trusts(proxies, "192.168.2.0"));
  EXPECT_TRUE(trusts(proxies, "127.0.0.1"));
  EXPECT_FALSE(trusts(proxies, "127.0.0.2"));
  EXPECT_TRUE(trusts(proxies, "::1"));
  EXPECT_FALSE(trusts(proxies, "::2"));
  EXPECT_TRUE(trusts(proxies, "fdff:1::1"));
  EXPECT_FALSE(trusts(proxies, "fe00::1"));
  EXPECT_TRUE(trusts(proxies, "2001:db8:7fff::1"));
  EXPECT_FALSE(trusts(proxies, "2001:db8:8000::1"));
  // ::1 (IPv6 loopback) and 0.0.0.1 are different addresses.
  EXPECT_FALSE(trusts(trust({"::1"}), "0.0.0.1"));
  EXPECT_FALSE(trusts(trust({"0.0.0.1"}), "::1"));
}

TEST(TrustedProxies, ZeroLengthPrefixesAndEmptyList) {
  EXPECT_TRUE(trusts(trust({"0.0.0.0/0"}), "203.0.113.9"));
  EXPECT_FALSE(trusts(trust({"0.0.0.0/0"}), "2001:db8::1"));
  EXPECT_TRUE(trusts(trust({"::/0"}), "2001:db8::1"));
  EXPECT_TRUE(trusts(trust({"::/0"}), "203.0.113.9"));  // ::/0 covers ::ffff:0:0/96
  EXPECT_TRUE(trusts(trust({"::ffff:0:0/96"}), "203.0.113.9"));
  const TrustedProxies none = trust({});
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(trusts(none, "127.0.0.1"));
  EXPECT_TRUE(TrustedProxies().empty());
}

TEST(TrustedProxies, BadEntriesAreNamed) {
  const auto error = [](std::string entry) {
    const std::vector<std::string> list = {"10.0.0.0/8", entry};
    auto parsed = TrustedProxies::parse(list);
    EXPECT_FALSE(parsed.has_value()) << entry;
    if (parsed) return std::string();
    EXPECT_NE(parsed.error().find("'" + entry + "'"), std::string::npos) << parsed.error();
    EXPECT_EQ(parsed.error().find('\n'), std::string::npos);
    return parsed.error();
  };
  EXPECT_NE(error("10.0.0.1/8").find("did you mean 10.0.0.0/8?"), std::string::npos);
  EXPECT_NE(error("fd00::1/8").find("did you mean fd00::/8?"), std::string::npos);
  EXPECT_NE(error("10.0.0.0/33").find("0 to 32"), std::string::npos);
  EXPECT_NE(error("::/129").find("0 to 128"), std::string::npos);
  EXPECT_NE(error("proxy.example").find("CIDR"), std::string::npos);
  for (const char* entry : {"", " ", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8x",
                            "10.0.0.0/8/8", "10.0.0/8", "[::1]", "::1/", "/8"}) {
    error(entry);
  }
}

TEST(ClientAddress, UntrustedPeerIsTheClientAndHeadersAreIgnored) {
  EXPECT_EQ(client("203.0.113.9", {"for=198.51.100.1"}, {"198.51.100.2"}), "203.0.113.9");
  EXPECT_EQ(client("2001:DB8::9", {}, {"198.51.100.2"}), "2001:db8::9");
  EXPECT_EQ(client("::ffff:203.0.113.9", {}, {}), "203.0.113.9");
  // X-Forwarded-For from an untrusted peer is not even looked at.
  EXPECT_EQ(client("203.0.113.9", {}, {"garbage, unknown"}), "203.0.113.9");
  // Nobody trusted: the same.
  EXPECT_EQ(client_address("10.0.0.1", {{"for=198.51.100.1"}, {"198.51.100.2"}}, {}), "10.0.0.1");
}

TEST(ClientAddress, PeerForms) {
  EXPECT_EQ(client("fe80::1%eth0", {}, {}), "fe80::1");
  EXPECT_EQ(client("::ffff:10.0.0.1", {}, {"203.0.113.9"}), "203.0.113.9");  // trusted, mapped
  EXPECT_NE(error_of(client("not-an-ip", {}, {})).find("'not-an-ip'"), std::string::npos);
  error_of(client("", {}, {}));
  error_of(client("10.0.0.1:80", {}, {}));
}

TEST(ClientAddress, TrustedPeerWithoutHeadersIsTheClient) {
  EXPECT_EQ(client("10.0.0.1", {}, {}), "10.0.0.1");
  EXPECT_EQ(client("10.0.0.1", {}, {" , ,"}), "10.0.0.1");
}

TEST(ClientAddress, XForwardedForRightMostUntrustedWins) {
  EXPECT_EQ(client("10.0.0.1", {}, {"203.0.113.9"}), "203.0.113.9");
  // The client wrote "1.2.3.4" itself: left of the first untrusted entry, it is not used.
  EXPECT_EQ(client("10.0.0.1", {}, {"1.2.3.4, 203.0.113.9, 10.0.0.7"}), "203.0.113.9");
  EXPECT_EQ(client("10.0.0.1", {}, {"1.2.3.4,203.0.113.9,10.0.0.7,fd00::5"}), "203.0.113.9");
  // Several lines are one list, in order.
  EXPECT_EQ(client("10.0.0.1", {}, {"1.2.3.4, 203.0.113.9", "10.0.0.7"}), "203.0.113.9");
  EXPECT_EQ(client("10.0.0.1", {}, {"10.0.0.7", "203.0.113.9"}), "203.0.113.9");
  // Every entry trusted: the left-most.
  EXPECT_EQ(client("10.0.0.1", {}, {"10.0.0.3, 10.0.0.2"}), "10.0.0.3");
  // Empty elements and spaces are ignored.
  EXPECT_EQ(client("10.0.0.1", {}, {" , 203.0.113.9 ,,\t"}), "203.0.113.9");
}

TEST(ClientAddress, XForwardedForEntryForms) {
  EXPECT_EQ(client("10.0.0.1", {}, {"2001:DB8:0::1"}), "2001:db8::1");
  EXPECT_EQ(client("10.0.0.1", {}, {"[2001:db8::1]"}), "2001:db8::1");
  EXPECT_EQ(client("10.0.0.1", {}, {"[2001:db8::1]:4711"}), "2001:db8::1");
  EXPECT_EQ(client("10.0.0.1", {}, {"192.0.2.43:47011"}), "192.0.2.43");
  EXPECT_EQ(client("10.0.0.1", {}, {"::ffff:192.0.2.43"}), "192.0.2.43");
  EXPECT_EQ(client("fd00::1", {}, {"192.0.2.43, fd00::2"}), "192.0.2.43");
}

TEST(ClientAddress, XForwardedForFailsClosedOnAnEntryItCannotPlace) {
  for (const char* entry :
       {"unknown", "_hidden", "garbage", "[2001:db8::1", "[2001:db8::1]:x",
        "192.0.2.4:", "192.0.2.4:123456", "192.0.2.4:80:80", "1.2.3.4 5.6.7.8", "[192.0.2.4]"}) {
    const std::string error = error_of(client("10.0.0.1", {}, {std::string_view(entry)}));
    EXPECT_NE(error.find("X-Forwarded-For"), std::string::npos) << error;
  }
  EXPECT_NE(error_of(client("10.0.0.1", {}, {"203.0.113.9, unknown, 10.0.0.7"})).find("'unknown'"),
            std::string::npos);
  // Past the client, entries are never read.
  EXPECT_EQ(client("10.0.0.1", {}, {"garbage, 203.0.113.9"}), "203.0.113.9");
}

TEST(ClientAddress, XForwardedForIsBounded) {
  std::string list = "203.0.113.9";
  for (std::size_t i = 1; i < kMaxForwardedEntries; ++i) list += ", 10.0.0.2";
  EXPECT_EQ(client("10.0.0.1", {}, {list}), "203.0.113.9");
  const std::string longer = list + ", 10.0.0.3";
  EXPECT_NE(error_of(client("10.0.0.1", {}, {longer})).find("more than 64"), std::string::npos);
  // Counted over all lines.
  EXPECT_FALSE(client("10.0.0.1", {}, {list, "10.0.0.3"}).has_value());
}

TEST(ClientAddress, ForwardedRightMostUntrustedWins) {
  EXPECT_EQ(client("10.0.0.1", {"for=192.0.2.60;proto=http;by=203.0.113.43"}), "192.0.2.60");
  EXPECT_EQ(client("10.0.0.1", {"for=192.0.2.43, for=198.51.100.17"}), "198.51.100.17");
  EXPECT_EQ(client("10.0.0.1", {"for=192.0.2.43, for=198.51.100.17, for=10.0.0.9"}),
            "198.51.100.17");
  EXPECT_EQ(client("10.0.0.1", {"for=192.0.2.43", "for=198.51.100.17", "for=\"[fd00::3]\""}),
            "198.51.100.17");
  EXPECT_EQ(client("10.0.0.1", {"for=10.0.0.4, for=10.0.0.3"}), "10.0.0.4");  // all trusted
  // Ports are dropped; IPv6 comes out canonical.
  EXPECT_EQ(client("10.0.0.1", {"for=\"192.0.2.43:47011\""}), "192.0.2.43");
  EXPECT_EQ(client("10.0.0.1", {"for=\"[2001:DB8:cafe:0::17]:4711\""}), "2001:db8:cafe::17");
  EXPECT_EQ(client("10.0.0.1", {"for=\"[2001:db8::17]\""}), "2001:db8::17");
  EXPECT_EQ(client("10.0.0.1", {"for=\"[::ffff:192.0.2.1]\""}), "192.0.2.1");
  EXPECT_EQ(client("10.0.0.1", {"for=\"192.0.2.43:_p0rt\""}), "192.0.2.43");
}

TEST(ClientAddress, ForwardedIsPreferredWhenItNamesSomeone) {
  EXPECT_EQ(client("10.0.0.1", {"for=192.0.2.60"}, {"198.51.100.9"}), "192.0.2.60");
  // Elements without for= (here a proxy that only reports the scheme): X-Forwarded-For.
  EXPECT_EQ(client("10.0.0.1", {"proto=https"}, {"198.51.100.9"}), "198.51.100.9");
  EXPECT_EQ(client("10.0.0.1", {"proto=https"}, {}), "10.0.0.1");
}

TEST(ClientAddress, ForwardedSyntaxVariantsThatAreAccepted) {
  EXPECT_EQ(client("10.0.0.1", {"For=192.0.2.60"}), "192.0.2.60");  // names are case-insensitive
  EXPECT_EQ(client("10.0.0.1", {"FOR=192.0.2.60;PROTO=https"}), "192.0.2.60");
  EXPECT_EQ(client("10.0.0.1", {"proto=https;for=192.0.2.60"}), "192.0.2.60");
  EXPECT_EQ(client("10.0.0.1", {"for=192.0.2.60;;proto=http;"}), "192.0.2.60");
  EXPECT_EQ(client("10.0.0.1", {"for=192.0.2.60; proto=http"}), "192.0.2.60");
  EXPECT_EQ(client("10.0.0.1", {" , for=192.0.2.60 ,, "}), "192.0.2.60");
  EXPECT_EQ(client("10.0.0.1", {"for=\"192.0.2.\\60\""}), "192.0.2.60");  // quoted-pair
  // Extension parameters, quoted values with separators inside.
  EXPECT_EQ(client("10.0.0.1", {"for=192.0.2.60;ext=\"a,b;c=\\\"d\\\"\";host=\"x:8080\""}),
            "192.0.2.60");
  EXPECT_EQ(client("10.0.0.1", {"for=192.0.2.60;secret=\"\xc3\xa9\""}), "192.0.2.60");
  EXPECT_EQ(client("10.0.0.1", {""}, {"198.51.100.9"}), "198.51.100.9");  // empty line
  // unknown and obfuscated nodes are valid syntax; left of the client they are not used.
  EXPECT_EQ(client("10.0.0.1", {"for=unknown, for=_hidden, for=\"_x:_y\", for=192.0.2.60"}),
            "192.0.2.60");
  EXPECT_EQ(client("10.0.0.1", {"for=\"unknown:80\", for=192.0.2.60"}), "192.0.2.60");
  EXPECT_EQ(client("10.0.0.1", {"proto=http, for=192.0.2.60"}), "192.0.2.60");
}

TEST(ClientAddress, ForwardedWalkFailsClosedOnAHopItCannotPlace) {
  EXPECT_NE(error_of(client("10.0.0.1", {"for=unknown"})).find("'unknown'"), std::string::npos);
  EXPECT_NE(error_of(client("10.0.0.1", {"for=_hidden"})).find("'_hidden'"), std::string::npos);
  EXPECT_FALSE(client("10.0.0.1", {"for=192.0.2.60, for=\"_gazonk\", for=10.0.0.3"}).has_value());
  // A hop that did not say whom it heard from, right of the client.
  EXPECT_NE(error_of(client("10.0.0.1", {"for=192.0.2.60, proto=https"})).find("without for="),
            std::string::npos);
  // The same headers from an untrusted peer are not used: the peer is the client.
  EXPECT_EQ(client("203.0.113.1", {"for=unknown"}), "203.0.113.1");
  EXPECT_EQ(client("203.0.113.1", {"for=192.0.2.60, proto=https"}), "203.0.113.1");
}

TEST(ClientAddress, MalformedForwardedIsAnErrorWhoeverSentIt) {
  const std::vector<std::string> malformed = {
      "for=2001:db8::1",               // IPv6 must be quoted and in brackets
      "for=\"2001:db8::1\"",           // in brackets
      "for=[2001:db8::1]",             // quoted
      "for=192.0.2.43:80",             // a port must be quoted
      "for=\"[2001:db8::1\"",          // unclosed bracket
      "for=\"[2001:db8::1]80\"",       // ':' before the port
      "for=\"[192.0.2.1]\"",           // IPv4 in brackets
      "for=\"192.0.2.1:123456\"",      // port over 5 digits
      "for=\"192.0.2.1:\"",            // empty port
      "for=\"192.0.2.1:_\"",           // empty obfuscated port
      "for=\"192.0.2.1:8$\"",          // bad port
      "for=example.com",               // a name is not a node
      "for=_",                         // obfnode needs a character after '_'
      "for=\"_a b\"",                  // obfnode characters
      "for=\"\"",                      // empty node
      "for=192.0.2.1;for=192.0.2.2",   // twice in one element
      "for=192.0.2.1;By=a;by=b",       // twice, any case
      "for=",                          // no value
      "for",                           // no '='
      "=192.0.2.1",                    // no name
      "for =192.0.2.1",                // no space before '='
      "for= 192.0.2.1",                // nor after it
      "for=\"192.0.2.1",               // unterminated quoted string
      "for=\"192.0.2.1\\",             // unterminated after a backslash
      "for=192.0.2.1 proto=http",      // pairs need ';'
      "for=192.0.2.1;proto=http\"",    // stray quote
      "for=\"192.0.2.1\"x",            // text after a quoted string
      std::string("for=\"a\x01\""),    // control character
      std::string("for=\"a\\\x7f\""),  // escaped control character
      "for=192.0.2.1 ; proto=(http)",  // '(' is not a token character
  };
  for (const std::string& line : malformed) {
    for (const char* peer : {"10.0.0.1", "203.0.113.9"}) {  // trusted and untrusted
      const std::string error = error_of(client(peer, {line}, {"198.51.100.9"}));
      EXPECT_TRUE(error.starts_with("malformed Forwarded header: ")) << line << ": " << error;
    }
    // Also with no trusted proxy at all, and when the bad line is not the first.
    EXPECT_FALSE(client_address("203.0.113.9", {{line}, {}}, {}).has_value()) << line;
    EXPECT_FALSE(client("10.0.0.1", {"for=192.0.2.60", line}).has_value()) << line;
  }
}

TEST(ClientAddress, ForwardedErrorsQuoteLittleAndOnlyPrintableText) {
  const std::string line = "for=\"" + std::string(500, 'x') + "\"";
  const std::string error = error_of(client("203.0.113.9", {line}));
  EXPECT_LT(error.size(), 200U);
  const std::string with_newline = "for=\"_a\nb\"";
  EXPECT_EQ(error_of(client("203.0.113.9", {with_newline})).find('\n'), std::string::npos);
  // Quoted text has control characters replaced.
  EXPECT_NE(error_of(client("10.0.0.1", {}, {"garb\nage"})).find("'garb?age'"), std::string::npos);
  EXPECT_NE(error_of(client("10.0.0.1\r\nx", {}, {})).find("'10.0.0.1??x'"), std::string::npos);
}

TEST(ClientAddress, ForwardedIsBoundedWhoeverSentIt) {
  std::string list = "for=192.0.2.60";
  for (std::size_t i = 1; i < kMaxForwardedEntries; ++i) list += ", for=10.0.0.2";
  EXPECT_EQ(client("10.0.0.1", {list}), "192.0.2.60");
  EXPECT_EQ(client("203.0.113.9", {list}), "203.0.113.9");
  const std::string longer = list + ", for=10.0.0.3";
  EXPECT_NE(error_of(client("10.0.0.1", {longer})).find("more than 64"), std::string::npos);
  EXPECT_FALSE(client("203.0.113.9", {longer}).has_value());
  EXPECT_FALSE(client("10.0.0.1", {list, "proto=http"}).has_value());  // over all lines
}

TEST(ClientAddress, ForwardedSpoofedByTheClientIsIgnoredLeftOfTheProxy) {
  // The client sent "Forwarded: for=1.2.3.4"; the trusted proxy appended its own element.
  EXPECT_EQ(client("10.0.0.1", {"for=1.2.3.4", "for=203.0.113.9"}), "203.0.113.9");
  EXPECT_EQ(client("10.0.0.1", {"for=1.2.3.4, for=203.0.113.9"}), "203.0.113.9");
  // Choosing only X-Forwarded-For (a proxy that does not touch Forwarded): pass only it.
  EXPECT_EQ(client_address("10.0.0.1", {{}, {"1.2.3.4, 203.0.113.9"}}, trust({"10.0.0.0/8"})),
            "203.0.113.9");
}

TEST(RateLimitKey, Ipv6ClientsShareTheirSlash64) {
  EXPECT_EQ(rate_limit_key("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(rate_limit_key("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(rate_limit_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(rate_limit_key("2001:db8:1:2::ffff"), "2001:db8:1:2::/64");
  EXPECT_EQ(rate_limit_key("2001:db8::1"), "2001:db8::/64");
  EXPECT_EQ(rate_limit_key("::1"), "::/64");
  EXPECT_EQ(rate_limit_key("not an address"), "not an address");
}

}  // namespace
}  // namespace counting::policy
