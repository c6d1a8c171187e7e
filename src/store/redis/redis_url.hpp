// The Redis store's configuration and its URL form,
//   redis://[[user]:password@]HOST:PORT[/DB][?prefix=vc:&timeout_ms=2000]
// Pure; safe on any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace store::redis {

struct RedisConfig {
  std::string host;  // a name or an address (IPv6 without brackets)
  std::uint16_t port = 6379;
  std::string user;                         // with a password: AUTH user password (Redis 6 ACLs)
  std::string password;                     // empty: no AUTH
  int db = 0;                               // SELECT db when not 0
  std::string prefix = "vc:";               // before every key this store writes
  std::chrono::milliseconds timeout{2000};  // connecting, and each request's answer
};

// Parses a store URL. The user, the password and the prefix are percent-decoded; DB is
// 0-15; prefix is 0-64 characters without spaces; timeout_ms is 1-60000. Unknown
// parameters, a path other than /DB, and `rediss://` are refused with a one-line reason
// (TLS needs a hiredis with TLS, which Debian 12 does not ship).
std::expected<RedisConfig, std::string> parse_redis_url(std::string_view url);

}  // namespace store::redis
