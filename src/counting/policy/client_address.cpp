// The client address: inet_pton for the addresses, a strict RFC 7239 parser for Forwarded,
// a forgiving one for X-Forwarded-For (it has no spec), and the right-to-left walk.
#include "counting/policy/client_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "util/text.hpp"

namespace counting::policy {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// RFC 9110 tchar.
bool is_tchar(char c) {
  return is_digit(c) || is_alpha(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// Client-supplied text quoted in an error: at most 40 bytes, printable ASCII only.
std::string excerpt(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 40) out += "...";
  return "'" + out + "'";
}

std::optional<IpAddress> parse_v4(std::string_view text) {
  if (text.find(':') != std::string_view::npos) return std::nullopt;
  return IpAddress::parse(text);
}

std::optional<IpAddress> parse_v6(std::string_view text) {
  if (text.find(':') == std::string_view::npos) return std::nullopt;
  return IpAddress::parse(text);
}

// A port as RFC 7239 writes it: 1*5DIGIT, or an obfuscated "_..." one. XFF takes digits.
bool is_port(std::string_view text, bool allow_obfuscated) {
  if (allow_obfuscated && text.size() >= 2 && text[0] == '_') {
    return std::ranges::all_of(text.substr(1), [](char c) {
      return is_digit(c) || is_alpha(c) || c == '.' || c == '_' || c == '-';
    });
  }
  return !text.empty() && text.size() <= 5 && std::ranges::all_of(text, is_digit);
}

// One hop of the forwarded list.
struct Hop {
  enum class Kind { address, unknown, obfuscated, no_for, not_an_address } kind;
  IpAddress address;  // when kind == address
  std::string text;   // as written, for error messages
};

// RFC 7239 node: nodename [":" node-port], nodename = IPv4 / "[" IPv6 "]" / "unknown" /
// obfnode. nullopt when `text` is not one.
std::optional<Hop> parse_node(std::string_view text) {
  std::string_view name = text;
  std::string_view port;
  bool has_port = false;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    name = text.substr(0, close + 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return std::nullopt;
      has_port = true;
      port = rest.substr(1);
    }
  } else if (const std::size_t colon = text.find(':'); colon != std::string_view::npos) {
    name = text.substr(0, colon);
    has_port = true;
    port = text.substr(colon + 1);
  }
  if (has_port && !is_port(port, true)) return std::nullopt;

  if (name.starts_with('[') && name.ends_with(']')) {
    const auto address = parse_v6(name.substr(1, name.size() - 2));
    if (!address) return std::nullopt;
    return Hop{Hop::Kind::address, *address, std::string(text)};
  }
  if (util::equals_ignoring_case(name, "unknown"))
    return Hop{Hop::Kind::unknown, {}, std::string(text)};
  if (name.size() >= 2 && name[0] == '_') {
    if (!is_port(name, true)) return std::nullopt;  // same character set as obfport
    return Hop{Hop::Kind::obfuscated, {}, std::string(text)};
  }
  const auto address = parse_v4(name);
  if (!address) return std::nullopt;
  return Hop{Hop::Kind::address, *address, std::string(text)};
}

std::unexpected<std::string> malformed(std::string_view why) {
  return std::unexpected("malformed Forwarded header: " + std::string(why));
}

// Appends one hop per element of a Forwarded field line (RFC 7239 §4, with OWS also allowed
// around ";", which some proxies write).
std::expected<void, std::string> parse_forwarded_line(std::string_view line,
                                                      std::vector<Hop>& hops) {
  std::size_t pos = 0;
  const auto at = [&](char c) { return pos < line.size() && line[pos] == c; };
  const auto skip_ows = [&] {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  };
  while (true) {
    skip_ows();
    if (pos == line.size()) return {};
    if (at(',')) {  // empty list element
      ++pos;
      continue;
    }
    if (hops.size() == kMaxForwardedEntries) {
      return malformed("more than " + std::to_string(kMaxForwardedEntries) + " elements");
    }
    Hop hop{Hop::Kind::no_for, {}, {}};
    unsigned seen = 0;  // bit per registered parameter: for, by, host, proto
    while (true) {
      skip_ows();
      if (pos == line.size() || at(',')) break;
      if (at(';')) {  // empty pair
        ++pos;
        continue;
      }
      const std::size_t name_start = pos;
      while (pos < line.size() && is_tchar(line[pos])) ++pos;
      const std::string_view name = line.substr(name_start, pos - name_start);
      if (name.empty()) {
        return malformed("expected a parameter name at " + excerpt(line.substr(pos)));
      }
      if (!at('=')) return malformed("parameter " + excerpt(name) + " has no '=' value");
      ++pos;
      std::string value;
      if (at('"')) {
        ++pos;
        while (true) {
          if (pos == line.size()) return malformed("unterminated quoted string");
          const auto c = static_cast<unsigned char>(line[pos]);
          if (c == '"') break;
          if (c == '\\') {
            ++pos;
            if (pos == line.size()) return malformed("unterminated quoted string");
            const auto escaped = static_cast<unsigned char>(line[pos]);
            if (escaped != '\t' && (escaped < 0x20 || escaped == 0x7f)) {
              return malformed("control character in a quoted string");
            }
            value += line[pos++];
            continue;
          }
          if (c != '\t' && (c < 0x20 || c == 0x7f)) {
            return malformed("control character in a quoted string");
          }
          value += line[pos++];
        }
        ++pos;  // closing quote
      } else {
        const std::size_t value_start = pos;
        while (pos < line.size() && is_tchar(line[pos])) ++pos;
        value = line.substr(value_start, pos - value_start);
        if (value.empty()) {
          return malformed("parameter " + excerpt(name) +
                           " needs a token or a quoted string (an IPv6 address or a port "
                           "must be quoted)");
        }
      }
      static constexpr std::array<std::string_view, 4> kRegistered = {"for", "by", "host", "proto"};
      for (std::size_t i = 0; i < kRegistered.size(); ++i) {
        if (!util::equals_ignoring_case(name, kRegistered[i])) continue;
        if ((seen & (1U << i)) != 0) {
          return malformed("parameter '" + std::string(kRegistered[i]) + "' twice in one element");
        }
        seen |= 1U << i;
        if (i == 0) {
          auto node = parse_node(value);
          if (!node) {
            return malformed("for=" + excerpt(value) +
                             " is not an IP address (IPv6 in brackets), 'unknown' or an "
                             "_obfuscated node, with an optional port");
          }
          hop = *node;
        }
      }
      skip_ows();
      if (at(';')) {
        ++pos;
        continue;
      }
      if (pos == line.size() || at(',')) break;
      return malformed("unexpected " + excerpt(line.substr(pos, 1)) + " after parameter " +
                       excerpt(name));
    }
    hops.push_back(hop);
    if (at(',')) ++pos;
  }
}

// One X-Forwarded-For entry: an address, "[v6]", "[v6]:port" or "v4:port".
Hop parse_xff_entry(std::string_view text) {
  const Hop bad{Hop::Kind::not_an_address, {}, std::string(text)};
  std::optional<IpAddress> address;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return bad;
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && !(rest[0] == ':' && is_port(rest.substr(1), false))) return bad;
    address = parse_v6(text.substr(1, close - 1));
  } else if (std::ranges::count(text, ':') == 1) {
    const std::size_t colon = text.find(':');
    if (!is_port(text.substr(colon + 1), false)) return bad;
    address = parse_v4(text.substr(0, colon));
  } else {
    address = IpAddress::parse(text);
  }
  if (!address) return bad;
  return Hop{Hop::Kind::address, *address, std::string(text)};
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buffer) return std::nullopt;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress address;
  if (text.find(':') == std::string_view::npos) {
    std::array<std::uint8_t, 4> v4{};
    if (inet_pton(AF_INET, buffer, v4.data()) != 1) return std::nullopt;
    std::ranges::copy(kMappedPrefix, address.bytes_.begin());
    std::ranges::copy(v4, address.bytes_.begin() + 12);
  } else if (inet_pton(AF_INET6, buffer, address.bytes_.data()) != 1) {
    return std::nullopt;
  }
  return address;
}

bool IpAddress::is_v4() const {
  return std::ranges::equal(kMappedPrefix, std::span(bytes_).first(12));
}

std::string IpAddress::to_string() const {
  if (is_v4()) {
    return std::to_string(bytes_[12]) + '.' + std::to_string(bytes_[13]) + '.' +
           std::to_string(bytes_[14]) + '.' + std::to_string(bytes_[15]);
  }
  std::array<unsigned, 8> groups{};
  for (std::size_t i = 0; i < 8; ++i) groups[i] = bytes_[2 * i] * 256U + bytes_[2 * i + 1];
  // The first longest run of at least two zero groups (RFC 5952 §4.2).
  std::size_t best_start = 8;
  std::size_t best_length = 1;
  for (std::size_t i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < 8 && groups[end] == 0) ++end;
    if (end - i > best_length) {
      best_start = i;
      best_length = end - i;
    }
    i = end;
  }
  std::string out;
  char hex[8];
  for (std::size_t i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_length - 1;
      continue;
    }
    if (!out.empty() && !out.ends_with(':')) out += ':';
    const auto result = std::to_chars(hex, hex + sizeof hex, groups[i], 16);
    out.append(hex, result.ptr);
  }
  return out;
}

std::expected<TrustedProxies, std::string> TrustedProxies::parse(
    std::span<const std::string> cidrs) {
  TrustedProxies proxies;
  for (const std::string& entry : cidrs) {
    const std::string_view text = util::trim(entry);
    const auto bad = [&](std::string_view why) {
      return std::unexpected("bad trusted proxy " + excerpt(entry) + ": " + std::string(why));
    };
    const std::size_t slash = text.find('/');
    const auto address = IpAddress::parse(text.substr(0, slash));
    if (!address) {
      return bad("expected an IP address or a CIDR block such as 10.0.0.0/8 or fd00::/8");
    }
    const int offset = address->is_v4() && text.find(':') == std::string_view::npos ? 96 : 0;
    int bits = 128 - offset;
    if (slash != std::string_view::npos) {
      const std::string_view length = text.substr(slash + 1);
      const auto [end, error] = std::from_chars(length.data(), length.data() + length.size(), bits);
      if (length.empty() || !is_digit(length[0]) || error != std::errc() ||
          end != length.data() + length.size() || bits > 128 - offset) {
        return bad(offset != 0 ? "the prefix length must be 0 to 32"
                               : "the prefix length must be 0 to 128");
      }
    }
    Network network{address->bytes(), offset + bits};
    for (int bit = network.bits; bit < 128; ++bit) {
      network.prefix[static_cast<std::size_t>(bit / 8)] &=
          static_cast<std::uint8_t>(~(0x80U >> (bit % 8)));
    }
    if (network.prefix != address->bytes()) {
      return bad("host bits are set; did you mean " + IpAddress(network.prefix).to_string() + "/" +
                 std::to_string(bits) + "?");
    }
    proxies.networks_.push_back(network);
  }
  return proxies;
}

bool TrustedProxies::trusts(const IpAddress& address) const {
  return std::ranges::any_of(networks_, [&](const Network& network) {
    const auto& bytes = address.bytes();
    const auto whole = static_cast<std::size_t>(network.bits / 8);
    if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(whole),
                    network.prefix.begin())) {
      return false;
    }
    const int rest = network.bits % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xFF00U >> rest);
    return (bytes[whole] & mask) == network.prefix[whole];
  });
}

std::expected<std::string, std::string> client_address(std::string_view peer,
                                                       const ForwardedHeaders& headers,
                                                       const TrustedProxies& proxies) {
  std::string_view peer_text = peer;
  if (const std::size_t zone = peer_text.find('%');
      zone != std::string_view::npos && peer_text.find(':') != std::string_view::npos) {
    peer_text = peer_text.substr(0, zone);
  }
  const auto peer_address = IpAddress::parse(peer_text);
  if (!peer_address) return std::unexpected("peer " + excerpt(peer) + " is not an IP address");

  // Forwarded is checked whoever sent it; its contents are used only from a trusted peer.
  std::vector<Hop> hops;
  for (const std::string_view line : headers.forwarded) {
    if (auto parsed = parse_forwarded_line(line, hops); !parsed) {
      return std::unexpected(parsed.error());
    }
  }
  if (proxies.empty() || !proxies.trusts(*peer_address)) return peer_address->to_string();

  const bool use_forwarded =
      std::ranges::any_of(hops, [](const Hop& hop) { return hop.kind != Hop::Kind::no_for; });
  if (!use_forwarded) {
    hops.clear();
    for (const std::string_view line : headers.x_forwarded_for) {
      std::size_t start = 0;
      while (start <= line.size()) {
        std::size_t comma = line.find(',', start);
        if (comma == std::string_view::npos) comma = line.size();
        const std::string_view entry = util::trim(line.substr(start, comma - start));
        start = comma + 1;
        if (entry.empty()) continue;
        if (hops.size() == kMaxForwardedEntries) {
          return std::unexpected("X-Forwarded-For has more than " +
                                 std::to_string(kMaxForwardedEntries) + " entries");
        }
        hops.push_back(parse_xff_entry(entry));
      }
    }
  }
  if (hops.empty()) return peer_address->to_string();

  const char* header = use_forwarded ? "Forwarded" : "X-Forwarded-For";
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    switch (hop->kind) {
      case Hop::Kind::address:
        if (!proxies.trusts(hop->address)) return hop->address.to_string();
        continue;
      case Hop::Kind::unknown:
      case Hop::Kind::obfuscated:
        return std::unexpected(std::string(header) + " names " + excerpt(hop->text) +
                               " where the client address should be");
      case Hop::Kind::no_for:
        return std::unexpected(
            "a Forwarded element without for= where the client address should be");
      case Hop::Kind::not_an_address:
        return std::unexpected(std::string(header) + " entry " + excerpt(hop->text) +
                               " is not an IP address");
    }
  }
  return hops.front().address.to_string();  // every hop trusted: the left-most
}

std::string rate_limit_key(std::string_view address) {
  auto parsed = IpAddress::parse(address);
  if (!parsed) return std::string(address);
  if (parsed->is_v4()) return parsed->to_string();
  std::array<std::uint8_t, 16> bytes = parsed->bytes();
  std::fill(bytes.begin() + 8, bytes.end(), std::uint8_t{0});
  return IpAddress(bytes).to_string() + "/64";
}

}  // namespace counting::policy
