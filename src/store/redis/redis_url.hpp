// The Redis store's configuration and its URL form,
//   redis://[[user]:password@]HOST:PORT[/DB][?prefix=vc:&timeout_ms=2000]
//   rediss://...[&ca_file=PATH]   the same over TLS
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
  bool tls = false;     // rediss://: TLS, the certificate and host name verified
  std::string ca_file;  // rediss://: the CA bundle; empty: util::find_ca_bundle's search
};

// Parses a store URL. The user, the password and the prefix are percent-decoded; DB is
// 0-15; prefix is 0-64 characters without spaces; timeout_ms is 1-60000; ca_file only with
// rediss://. Unknown parameters and a path other than /DB are refused with a one-line
// reason that never shows the password.
std::expected<RedisConfig, std::string> parse_redis_url(std::string_view url);

}  // namespace store::redis
