// Which address a request comes from: the socket peer, or, when the peer is a trusted
// proxy (--trust-proxy CIDR), the right-most untrusted address of the list the proxies
// forwarded (Forwarded, RFC 7239, or X-Forwarded-For). Everything left of the last trusted
// hop can be written by the client, so the walk from the right stops at the first address
// no trusted proxy vouches for. The address is what the rate limit and the visitor id see.
// Pure; every type here is immutable after construction and safe to share between threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace counting::policy {

// An IPv4 or IPv6 address. IPv4 is held as IPv4-mapped IPv6 (::ffff:a.b.c.d), so
// "192.0.2.1" and "::ffff:192.0.2.1" are the same address.
class IpAddress {
 public:
  IpAddress() = default;  // ::
  explicit IpAddress(const std::array<std::uint8_t, 16>& bytes) : bytes_(bytes) {}

  // Dotted-quad IPv4 ("192.0.2.1", no leading zeros) or IPv6 ("2001:db8::1",
  // "::ffff:192.0.2.1"), without brackets, port or zone. nullopt for anything else.
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4() const;  // IPv4, or IPv4-mapped IPv6

  // Canonical text: dotted-quad for IPv4 (IPv4-mapped addresses included), RFC 5952 for
  // IPv6 (lower case, no leading zeros, the first longest run of two or more zero groups
  // written "::").
  std::string to_string() const;

  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

// The --trust-proxy list (env VC_TRUST_PROXIES, comma-separated).
class TrustedProxies {
 public:
  TrustedProxies() = default;  // trusts nobody

  // Each entry is an address or a CIDR block: "10.0.0.0/8", "127.0.0.1", "::1/128",
  // "fd00::/8"; a bare address is /32 (IPv4) or /128 (IPv6); spaces around an entry are
  // ignored. An IPv4 block also matches the IPv4-mapped IPv6 form of its addresses, and an
  // IPv6 block that covers ::ffff:0:0/96 (such as ::/0) matches IPv4 addresses. Fails with
  // one line naming the bad entry: not an address, a prefix length out of range, or host
  // bits set ("10.0.0.1/8": the line suggests "10.0.0.0/8").
  static std::expected<TrustedProxies, std::string> parse(std::span<const std::string> cidrs);

  bool empty() const { return networks_.empty(); }
  bool trusts(const IpAddress& address) const;

 private:
  struct Network {
    std::array<std::uint8_t, 16> prefix;  // host bits zero
    int bits;                             // prefix length in IPv6 terms (IPv4 /n is 96 + n)
  };
  std::vector<Network> networks_;
};

// The request's forwarding headers: every field line of each, in the order received.
// A caller that wants only one of the two headers honoured (a proxy that appends to
// X-Forwarded-For but passes the client's Forwarded through untouched, see client_address)
// passes only that one.
struct ForwardedHeaders {
  std::vector<std::string_view> forwarded;
  std::vector<std::string_view> x_forwarded_for;
};

// At most this many list entries (Forwarded elements, X-Forwarded-For addresses) are
// read; more is an error.
inline constexpr std::size_t kMaxForwardedEntries = 64;

// The client's address, in IpAddress's canonical text (an IPv4-mapped peer such as
// "::ffff:192.0.2.1" gives "192.0.2.1").
//
// `peer` is the socket peer's address as text (IPv4 or IPv6 without brackets or port; an
// IPv6 zone such as "%eth0" is ignored). When the peer is not trusted, it is the client
// and the headers' contents are ignored. When it is trusted, the forwarded list is:
//   - the for= values of all Forwarded elements, if any element has one (an element
//     without for= is a hop that did not say whom it heard from);
//   - otherwise the X-Forwarded-For entries (IPv4 or bare IPv6; "[v6]", "[v6]:port" and
//     "v4:port" are accepted too);
// each header's lines joined in order, empty list elements ignored. The list is walked
// from the right, skipping trusted addresses: the first untrusted one is the client. If
// every entry is trusted, the left-most is; if the list is empty, the peer is. Ports are
// dropped.
//
// Errors (one line; the server answers 400 and counts nothing):
//   - any malformed Forwarded header, WHOEVER sent it, trusted or not: bad syntax (RFC
//     7239 §4: `for="[2001:db8::1]:4711"` must be quoted, IPv6 must be in brackets), a
//     for= that is not a node (IP address, "unknown" or "_obfuscated", optional port), a
//     registered parameter (for, by, host, proto) twice in one element, or more than
//     kMaxForwardedEntries elements. Its syntax is checked even when its contents are not
//     used, so a request gets the same answer however it reaches the server;
//   - from a trusted peer, a walk that reaches a hop it cannot place: "unknown", an
//     obfuscated node, a Forwarded element without for=, or an X-Forwarded-For entry that
//     is not an address (fail closed rather than guess);
//   - from a trusted peer, more than kMaxForwardedEntries X-Forwarded-For entries;
//   - a `peer` that is not an address.
// Entries left of the client are not used, so an X-Forwarded-For entry there is not
// checked.
//
// The trusted proxies must append to the header that is used: Forwarded is preferred when
// it names anyone, so behind a proxy that appends only to X-Forwarded-For, a client could
// send its own Forwarded header and choose its address. Pass only x_forwarded_for in that
// case (or have the proxy remove Forwarded), and the other way round.
std::expected<std::string, std::string> client_address(std::string_view peer,
                                                       const ForwardedHeaders& headers,
                                                       const TrustedProxies& proxies);

// The key to rate-limit `address` (client_address's result) under: an IPv4 address as it
// is, an IPv6 address as its /64 network ("2001:db8:1:2::/64"), since one IPv6 host
// usually owns a whole /64 and could otherwise take a fresh bucket for every request.
// Text that is not an address is returned unchanged.
std::string rate_limit_key(std::string_view address);

}  // namespace counting::policy
