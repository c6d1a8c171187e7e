// Small text helpers shared by the parsers of client-sent and configured text. Pure.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <concepts>
#include <optional>
#include <string_view>

namespace util {

// `text` without the spaces and tabs around it (HTTP's optional whitespace).
inline std::string_view trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// `text` without any white space around it, line ends included (a file's final newline).
inline std::string_view trim_whitespace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// All of `text` as a base-10 integer in [min, max]; nullopt for anything else (empty, a
// sign T cannot hold, other characters, out of range). Callers word their own errors.
template <std::integral T>
std::optional<T> bounded_number(std::string_view text, T min, T max) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

// ASCII case-insensitive equality, as HTTP compares header and parameter names.
inline bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::ranges::equal(
      a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

}  // namespace util
