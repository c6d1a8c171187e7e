// The Idempotency-Key request header (IETF httpapi draft): a Structured Field String,
// `Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`. A counting request that
// carries one counts at most once per key and counter within 24 hours. Pure.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

namespace counting::policy {

inline constexpr std::size_t kMaxIdempotencyKeyBytes = 128;

// The key inside the quotes (escapes `\"` and `\\` undone): 1 to 128 bytes of printable
// ASCII. Anything else (no quotes, a control or non-ASCII byte, a bad escape, too long,
// empty) is an error saying what is expected.
std::expected<std::string, std::string> parse_idempotency_key(std::string_view header);

}  // namespace counting::policy
