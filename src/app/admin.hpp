// The owner's access: the admin token that guards the admin API and the dashboard
// (docs/owners.md). Without a configured token those routes do not exist (404).
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "app/message.hpp"

namespace app {

class AdminToken {
 public:
  // At least this many characters, so the token cannot be guessed.
  static constexpr std::size_t kMinLength = 16;

  // `token` with surrounding white space (a file's final newline) removed, or why it is
  // refused: shorter than kMinLength, or holding characters a header cannot carry.
  static std::expected<AdminToken, std::string> create(std::string_view token);

  // True when `authorization` (the header's value) is `Bearer <this token>`; the token is
  // compared in constant time.
  bool accepts(std::optional<std::string_view> authorization) const;

 private:
  explicit AdminToken(std::string token) : token_(std::move(token)) {}
  std::string token_;
};

// The 401 for a missing or wrong token, with `WWW-Authenticate: Bearer`.
Response unauthorized(bool token_sent);

}  // namespace app
