// Percent-decoding (RFC 3986 %XX escapes), strict: a malformed escape is an error, not
// text. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace util {

// The value of hex digit `c` (either case), or -1.
int hex_value(char c);

// Decodes every %XX escape (either case); '+' stays a plus. nullopt when an escape is
// malformed ("%", "%2", "%zz").
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace util
