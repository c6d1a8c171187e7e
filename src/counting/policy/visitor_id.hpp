// Who a visitor is, without storing who they are: a keyed hash of the day's salt, the
// client address, the User-Agent and the counter key. The salt is random per UTC day and
// deleted after it, so an id cannot be recomputed later or linked across days or counters.
// visitor_id() is pure and thread-safe; VisitorIds is one thread's.
#pragma once

#include <string>
#include <string_view>

#include "util/crypto.hpp"

namespace counting::policy {

// HMAC-SHA-256 keyed with `salt` over the address, the User-Agent and the key (separated
// by NUL, which none of them can hold), truncated to 128 bits: 32 lower-case hex digits.
// Different salts, addresses, agents or keys give unrelated ids.
std::string visitor_id(std::string_view salt, std::string_view client, std::string_view user_agent,
                       std::string_view key);

// The same ids for one salt, made many times over: the key is set up once (the write
// combiner keeps one per UTC day). Not thread-safe.
class VisitorIds {
 public:
  explicit VisitorIds(std::string_view salt);
  // visitor_id(salt, client, user_agent, key); "" only if OpenSSL fails.
  std::string id(std::string_view client, std::string_view user_agent, std::string_view key);

 private:
  util::HmacSha256 hmac_;
  std::string message_;  // reused, so making an id allocates only the id
};

}  // namespace counting::policy
