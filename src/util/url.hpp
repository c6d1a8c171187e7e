// The project's one URL parser, on Boost.URL: the URLs that name a server
// (`scheme://host[:port]`: endpoints, origins, the public URL) and bare `host:port`
// authorities (the listen address, AWS_LAMBDA_RUNTIME_API). Strict: user-info, a path, a
// query or a fragment, an empty host and a bad port are refused with a one-line reason.
// Pure; safe on any thread.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace util {

struct HostPort {
  std::string scheme;  // lower-case; empty from parse_host_port
  // A name (percent-decoded, then only A-Z a-z 0-9 - . _), an IPv4 address, or an IPv6
  // address without its brackets.
  std::string host;
  bool ipv6 = false;
  std::optional<std::uint16_t> port;  // as written; absent when the text has none

  // The host as it appears in a URL or a Host header: IPv6 in brackets.
  std::string url_host() const;
};

// Parses `scheme://host[:port]` with nothing after the authority (not even "/"): any
// scheme, checked by the caller. A port must be 1-65535.
std::expected<HostPort, std::string> parse_host_url(std::string_view url);

// Parses `host:port` (IPv6 in brackets: `[::1]:8080`); the port is required, and must be
// 1-65535, or 0-65535 when `port_zero_ok`.
std::expected<HostPort, std::string> parse_host_port(std::string_view authority, bool port_zero_ok);

}  // namespace util
