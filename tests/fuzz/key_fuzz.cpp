// Fuzz target: counter keys and percent-decoding. Each input is a key as it appears in a
// URL path. Invariants: an accepted key is 1-128 bytes of A-Z a-z 0-9 - . _ ~ / with no
// empty, '.' or '..' segment (checked here independently of app/key.cpp); parse_key
// accepts exactly what decodes to a valid key; percent_decode never grows its input,
// leaves text without '%' as it is, and undoes an encoding of every byte. Out-of-bounds
// reads are ASan's to catch (libFuzzer passes each input in a buffer of its exact size).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "app/key.hpp"
#include "fuzz_check.hpp"
#include "util/percent.hpp"

namespace {

using fuzz::check;

bool allowed_char(char c) {
  return std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")
             .find(c) != std::string_view::npos;
}

// The key rules, restated.
bool obeys_key_rules(std::string_view key) {
  if (key.empty() || key.size() > 128) return false;
  for (const char c : key) {
    if (!allowed_char(c)) return false;
  }
  std::string segment;
  for (const char c : std::string(key) + "/") {
    if (c != '/') {
      segment += c;
      continue;
    }
    if (segment.empty() || segment == "." || segment == "..") return false;
    segment.clear();
  }
  return true;
}

// Every byte as %XX, alternating upper- and lower-case hex digits.
std::string encode_all(std::string_view bytes) {
  static constexpr std::string_view kUpper = "0123456789ABCDEF";
  static constexpr std::string_view kLower = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const std::string_view digits = i % 2 == 0 ? kUpper : kLower;
    const auto byte = static_cast<unsigned char>(bytes[i]);
    out += '%';
    out += digits[byte >> 4];
    out += digits[byte & 0xF];
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view encoded(reinterpret_cast<const char*>(data), size);

  const std::optional<std::string> decoded = util::percent_decode(encoded);
  if (decoded) check(decoded->size() <= encoded.size(), "decoding never grows the text");
  if (encoded.find('%') == std::string_view::npos) {
    check(decoded == std::string(encoded), "text without '%' decodes to itself");
  }
  check(util::percent_decode(encode_all(encoded)) == std::string(encoded),
        "decoding undoes encoding every byte");

  check(app::is_valid_key(encoded) == obeys_key_rules(encoded), "is_valid_key is the key rules");
  const std::optional<std::string> key = app::parse_key(encoded);
  check(key.has_value() == (decoded && obeys_key_rules(*decoded)),
        "parse_key accepts exactly what decodes to a valid key");
  if (key) check(*key == *decoded, "parse_key gives the decoded key");
  return 0;
}
