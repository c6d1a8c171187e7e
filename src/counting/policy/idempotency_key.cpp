// Idempotency-Key parsing: an RFC 9651 sf-string, bounded.
#include "counting/policy/idempotency_key.hpp"

#include "util/text.hpp"

namespace counting::policy {

std::expected<std::string, std::string> parse_idempotency_key(std::string_view header) {
  const auto bad = [](std::string_view why) {
    return std::unexpected("Idempotency-Key " + std::string(why) +
                           "; expected a quoted string of 1-128 printable ASCII characters, "
                           "e.g. \"8e03978e-40d5-43e8-bc93-6894a57f9324\"");
  };
  header = util::trim(header);
  if (header.size() < 2 || header.front() != '"' || header.back() != '"') {
    return bad("is not a quoted string");
  }
  const std::string_view inner = header.substr(1, header.size() - 2);
  std::string key;
  key.reserve(inner.size());
  for (std::size_t i = 0; i < inner.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(inner[i]);
    if (c < 0x20 || c > 0x7E) return bad("holds a byte that is not printable ASCII");
    if (c == '"') return bad("has an unescaped quote");
    if (c == '\\') {
      if (i + 1 == inner.size() || (inner[i + 1] != '"' && inner[i + 1] != '\\')) {
        return bad("has a bad escape");
      }
      ++i;
    }
    key += inner[i];
    if (key.size() > kMaxIdempotencyKeyBytes) return bad("is longer than 128 bytes");
  }
  if (key.empty()) return bad("is empty");
  return key;
}

}  // namespace counting::policy
