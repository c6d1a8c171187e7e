// Key decoding and validation.
#include "app/key.hpp"

#include "util/percent.hpp"

namespace app {
namespace {

bool is_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '/';
}

}  // namespace

bool is_valid_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes) return false;
  for (char c : key) {
    if (!is_key_char(c)) return false;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = key.find('/', start);
    const std::string_view segment = key.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

std::optional<std::string> parse_key(std::string_view encoded) {
  if (encoded.size() > kMaxKeyBytes * 3) return std::nullopt;
  auto key = util::percent_decode(encoded);
  if (!key || !is_valid_key(*key)) return std::nullopt;
  return key;
}

}  // namespace app
