// Where an HTTP client connects (aws::HttpClient): plain or TLS, host and port, parsed from
// an endpoint URL such as "https://dynamodb.eu-west-1.amazonaws.com" or
// "http://[::1]:8000". Pure; safe on any thread.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace aws {

struct Endpoint {
  bool tls = false;
  std::string host;  // a DNS name, an IPv4 address, or an IPv6 address without brackets
  std::uint16_t port = 80;

  // The Host header value: the host (IPv6 in brackets), plus ":port" when the port is not
  // the scheme's default.
  std::string host_header() const;
};

// Parses "http://host[:port]" or "https://host[:port]" (443 by default), optionally ending
// in "/", with util::parse_host_url. A path, query, fragment or user-info, an empty host
// and a port outside 1-65535 are refused with a one-line reason.
std::expected<Endpoint, std::string> parse_endpoint(std::string_view url);

}  // namespace aws
