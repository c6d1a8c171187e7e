// The admin token: creation rules and the constant-time check.
#include "app/admin.hpp"

#include <algorithm>

#include "app/json.hpp"
#include "util/crypto.hpp"
#include "util/text.hpp"

namespace app {

std::expected<AdminToken, std::string> AdminToken::create(std::string_view token) {
  token = util::trim_whitespace(token);  // a file's final newline, too
  if (token.size() < kMinLength) {
    return std::unexpected("the admin token must have at least " + std::to_string(kMinLength) +
                           " characters");
  }
  const bool printable = std::all_of(token.begin(), token.end(), [](char c) {
    return c > ' ' && c < 0x7f;  // visible ASCII: what a Bearer token may hold
  });
  if (!printable) return std::unexpected("the admin token must be visible ASCII, without spaces");
  return AdminToken(std::string(token));
}

bool AdminToken::accepts(std::optional<std::string_view> authorization) const {
  if (!authorization) return false;
  constexpr std::string_view kScheme = "bearer ";
  const std::string_view value = util::trim(*authorization);
  if (value.size() < kScheme.size() ||
      !util::equals_ignoring_case(value.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  return util::secret_equals(util::trim(value.substr(kScheme.size())), token_);
}

Response unauthorized(bool token_sent) {
  Response response = error_response(
      401, "unauthorized",
      token_sent ? "the admin token is wrong" : "send Authorization: Bearer <admin token>");
  response.set("WWW-Authenticate", token_sent
                                       ? R"(Bearer realm="visitor-counter", error="invalid_token")"
                                       : R"(Bearer realm="visitor-counter")");
  response.set("Cache-Control", "no-store");
  return response;
}

}  // namespace app
