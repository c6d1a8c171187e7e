// Counter keys (docs/http-api.md): 1 to 128 bytes after percent-decoding, from
// `A-Z a-z 0-9 - . _ ~ /`, with no empty, `.` or `..` segment. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace app {

inline constexpr std::size_t kMaxKeyBytes = 128;
inline constexpr std::string_view kDefaultKey = "visitors";
inline constexpr std::string_view kKeyRule =
    "key must be 1-128 characters of A-Z a-z 0-9 - . _ ~ / with no empty, '.' or '..' segment";

// True when `key` (already decoded) keeps the key rules.
bool is_valid_key(std::string_view key);

// Decodes a key as it appears in a URL path and checks it; nullopt when either fails.
std::optional<std::string> parse_key(std::string_view encoded);

}  // namespace app
