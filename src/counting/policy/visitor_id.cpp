// Visitor ids: HMAC-SHA-256 keyed with the day's salt.
#include "counting/policy/visitor_id.hpp"

#include <span>

#include "util/crypto.hpp"

namespace counting::policy {

std::string visitor_id(std::string_view salt, std::string_view client, std::string_view user_agent,
                       std::string_view key) {
  std::string message;
  message.reserve(client.size() + user_agent.size() + key.size() + 2);
  message.append(client).append(1, '\0').append(user_agent).append(1, '\0').append(key);
  const auto digest = util::hmac_sha256(util::as_bytes(salt), message);
  if (!digest) return {};  // OpenSSL failed: the hit counts as an untracked view
  return util::to_hex(std::span(digest->data(), 16));
}

}  // namespace counting::policy
