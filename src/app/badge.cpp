// Badge options and numbers (the SVG is badge_svg.cpp).
#include "app/badge.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <optional>
#include <utility>

#include "app/badge_text.hpp"
#include "app/query.hpp"
#include "util/percent.hpp"

namespace app {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 15> kNamedColors{{
    {"brightgreen", "#4c1"},
    {"green", "#97ca00"},
    {"yellowgreen", "#a4a61d"},
    {"yellow", "#dfb317"},
    {"orange", "#fe7d37"},
    {"red", "#e05d44"},
    {"blue", "#007ec6"},
    {"lightgrey", "#9f9f9f"},
    {"grey", "#555"},
    {"gray", "#555"},
    {"informational", "#007ec6"},
    {"success", "#4c1"},
    {"important", "#fe7d37"},
    {"critical", "#e05d44"},
    {"inactive", "#9f9f9f"},
}};

bool is_printable(char32_t cp) { return cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f); }

std::optional<std::string> resolve_color(std::string_view raw) {
  std::string color;
  for (const char c : raw) color += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  for (const auto& [name, hex] : kNamedColors) {
    if (color == name) return std::string(hex);
  }
  if (color.starts_with('#')) color.erase(0, 1);
  if (color.size() != 3 && color.size() != 6) return std::nullopt;
  for (const char c : color) {
    if (util::hex_value(c) < 0) return std::nullopt;
  }
  return "#" + color;
}

std::string color_rule(std::string_view name) {
  return std::string(name) +
         " must be a name (brightgreen, green, yellowgreen, yellow, orange, red, blue, "
         "lightgrey, grey, informational, success, important, critical, inactive) or 3 or 6 "
         "hex digits such as 4c1 or 007ec6";
}

std::expected<void, std::string> apply_option(BadgeOptions& options, std::string_view name,
                                              std::string value) {
  if (name == "label") {
    const auto cps = badge_text::decode_utf8(value);
    bool ok = cps && !cps->empty() && cps->size() <= kMaxBadgeLabel;
    for (std::size_t i = 0; ok && i < cps->size(); ++i) ok = is_printable((*cps)[i]);
    if (!ok) return std::unexpected("label must be 1-64 printable characters (UTF-8)");
    options.label = std::move(value);
  } else if (name == "color" || name == "labelColor") {
    auto color = resolve_color(value);
    if (!color) return std::unexpected(color_rule(name));
    (name == "color" ? options.color : options.label_color) = std::move(*color);
  } else if (name == "style") {
    constexpr std::pair<std::string_view, BadgeStyle> kStyles[] = {
        {"flat", BadgeStyle::flat},
        {"flat-square", BadgeStyle::flat_square},
        {"plastic", BadgeStyle::plastic},
        {"for-the-badge", BadgeStyle::for_the_badge},
        {"social", BadgeStyle::social}};
    const auto* style =
        std::ranges::find(kStyles, value, &std::pair<std::string_view, BadgeStyle>::first);
    if (style == std::end(kStyles)) {
      return std::unexpected("style must be flat, flat-square, plastic, for-the-badge or social");
    }
    options.style = style->second;
  } else if (name == "format") {
    if (value != "full" && value != "short") return std::unexpected("format must be full or short");
    options.short_number = value == "short";
  } else if (name == "count") {
    if (value != "true" && value != "false" && value != "1" && value != "0") {
      return std::unexpected("count must be true or false");
    }
    options.count = value == "true" || value == "1";
  } else if (name == "period") {
    if (value == "7d") {
      options.period_days = 7;
    } else if (value == "30d") {
      options.period_days = 30;
    } else {
      return std::unexpected("period must be 7d or 30d");
    }
  }
  return {};
}

// The magnitude of `count`, through unsigned so that the most negative value does not
// overflow.
std::uint64_t magnitude(std::int64_t count) {
  auto value = static_cast<std::uint64_t>(count);
  return count < 0 ? ~value + 1 : value;
}

}  // namespace

std::expected<BadgeOptions, std::string> parse_badge_query(std::string_view query) {
  auto params = parse_query(query);
  if (!params) return std::unexpected(std::move(params.error()));
  if (auto known = only_known(
          *params, {"label", "color", "labelColor", "style", "format", "count", "period"},
          "a badge takes label, color, labelColor, style, format, count and period");
      !known) {
    return std::unexpected(std::move(known.error()));
  }
  BadgeOptions options;
  for (auto& [name, value] : *params) {
    if (auto applied = apply_option(options, name, std::move(value)); !applied) {
      return std::unexpected(std::move(applied.error()));
    }
  }
  return options;
}

std::string format_count(std::int64_t count) {
  const std::string digits = std::to_string(magnitude(count));
  std::string out = count < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string format_short(std::int64_t count) {
  const std::uint64_t value = magnitude(count);
  std::string out = count < 0 ? "-" : "";
  if (value < 1000) return out + std::to_string(value);
  constexpr std::string_view kPrefixes = "kMGTPE";
  std::size_t prefix = 0;  // kPrefixes[prefix] is 1000^(prefix + 1)
  std::uint64_t unit = 1000;
  while (prefix + 1 < kPrefixes.size() && value / 1000 >= unit) {
    unit *= 1000;
    ++prefix;
  }
  // No sum below can overflow: value < 2^63 and unit <= 10^18.
  const std::uint64_t tenths = (value + unit / 20) / (unit / 10);
  if (tenths < 100) {
    out += std::to_string(tenths / 10);
    if (tenths % 10 != 0) {
      out += '.';
      out += static_cast<char>('0' + tenths % 10);
    }
    return out + kPrefixes[prefix];
  }
  const std::uint64_t whole = (value + unit / 2) / unit;
  if (whole >= 1000) return out + "1" + kPrefixes[prefix + 1];  // below 2^63: never past E
  return out + std::to_string(whole) + kPrefixes[prefix];
}

std::string badge_number(const BadgeOptions& options, std::int64_t count) {
  return options.short_number ? format_short(count) : format_count(count);
}

std::string entity_tag(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag = "\"";
  for (int shift = 60; shift >= 0; shift -= 4) tag += kHex[(hash >> shift) & 0xfu];
  return tag + "\"";
}

}  // namespace app
