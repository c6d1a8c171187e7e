// Visitor ids: HMAC-SHA-256 keyed with the day's salt.
#include "counting/policy/visitor_id.hpp"

#include <span>

#include "util/crypto.hpp"

namespace counting::policy {

VisitorIds::VisitorIds(std::string_view salt) : hmac_(util::as_bytes(salt)) {}

std::string VisitorIds::id(std::string_view client, std::string_view user_agent,
                           std::string_view key) {
  message_.assign(client).append(1, '\0').append(user_agent).append(1, '\0').append(key);
  const auto digest = hmac_.sign(message_);
  if (!digest) return {};  // OpenSSL failed: the hit counts as an untracked view
  return util::to_hex(std::span(digest->data(), 16));
}

std::string visitor_id(std::string_view salt, std::string_view client, std::string_view user_agent,
                       std::string_view key) {
  return VisitorIds(salt).id(client, user_agent, key);
}

}  // namespace counting::policy
