// KeyPatterns: an exact list and a prefix list, both short, searched in order.
#include "counting/policy/key_patterns.hpp"

#include <algorithm>
#include <cctype>

namespace counting::policy {
namespace {

bool key_char(char ch) {
  return std::isalnum(static_cast<unsigned char>(ch)) != 0 ||
         std::string_view("-._~/").find(ch) != std::string_view::npos;
}

}  // namespace

std::expected<KeyPatterns, std::string> KeyPatterns::parse(std::span<const std::string> patterns) {
  KeyPatterns parsed;
  for (const std::string& pattern : patterns) {
    const bool prefix = pattern.ends_with('*');
    const std::string_view body = std::string_view(pattern).substr(0, pattern.size() - prefix);
    if (pattern.empty() || pattern.size() > 128 || !std::ranges::all_of(body, key_char)) {
      return std::unexpected("bad key pattern '" + pattern +
                             "': an exact key, or a prefix ending in * (blog/*), of 1-128 "
                             "characters of A-Z a-z 0-9 - . _ ~ /");
    }
    (prefix ? parsed.prefixes_ : parsed.exact_).emplace_back(body);
  }
  return parsed;
}

void KeyPatterns::merge(const KeyPatterns& other) {
  exact_.insert(exact_.end(), other.exact_.begin(), other.exact_.end());
  prefixes_.insert(prefixes_.end(), other.prefixes_.begin(), other.prefixes_.end());
}

bool KeyPatterns::allows(std::string_view key) const {
  if (empty()) return true;
  return std::ranges::find(exact_, key) != exact_.end() ||
         std::ranges::any_of(prefixes_, [key](const std::string& p) { return key.starts_with(p); });
}

std::string KeyPatterns::describe() const {
  std::string text;
  for (const std::string& key : exact_) text += (text.empty() ? "" : ",") + key;
  for (const std::string& prefix : prefixes_) text += (text.empty() ? "" : ",") + prefix + "*";
  return text;
}

}  // namespace counting::policy
