// Badge options and SVG drawing.
#include "app/badge.hpp"

#include <array>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "app/key.hpp"
#include "app/query.hpp"
#include "util/percent.hpp"

namespace app {
namespace {

// Verdana's advance widths in font units (2048 per em) for ' ' (32) to '~' (126).
constexpr std::array<int, 95> kAsciiAdvance{
    720,  806,  940,  1676, 1302, 2204, 1488, 550,  930,  930,  1302, 1676, 745,  930,  745,  930,
    1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 930,  930,  1676, 1676, 1676, 1117,
    2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 862,  931,  1414, 1137, 1726, 1532, 1612,
    1236, 1612, 1424, 1395, 1237, 1499, 1401, 2025, 1403, 1251, 1405, 930,  930,  930,  1676, 1302,
    1302, 1229, 1264, 1055, 1264, 1192, 720,  1264, 1300, 559,  695,  1194, 559,  1994, 1300, 1229,
    1264, 1264, 869,  1054, 825,  1300, 1194, 1675, 1194, 1194, 1055, 1300, 930,  1300, 1676};
constexpr int kUnitsPerEm = 2048;
constexpr double kFontPx = 11;
constexpr int kPaddingPx = 6;  // each side of each part's text
constexpr std::string_view kLabelFill = "#555";

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

// The code points of `text`, or nullopt when it is not valid UTF-8 (overlong forms,
// surrogates and values past U+10FFFF included).
std::optional<std::vector<char32_t>> decode_utf8(std::string_view text) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    char32_t cp = lead;
    if (lead >= 0xc2 && lead <= 0xdf) {
      extra = 1;
      cp = lead & 0x1fu;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      extra = 2;
      cp = lead & 0x0fu;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      extra = 3;
      cp = lead & 0x07u;
    } else if (lead >= 0x80) {
      return std::nullopt;
    }
    if (i + extra >= text.size() && extra > 0) return std::nullopt;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0u) != 0x80u) return std::nullopt;
      cp = (cp << 6) | (next & 0x3fu);
    }
    const bool overlong = (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000);
    if (overlong || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return std::nullopt;
    out.push_back(cp);
    i += 1 + extra;
  }
  return out;
}

bool is_printable(char32_t cp) { return cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f); }

// Advance in font units: Verdana's for ASCII, a full em for East Asian wide characters
// and emoji, nothing for combining marks, an average letter for everything else.
int advance(char32_t cp) {
  if (cp >= 0x20 && cp <= 0x7e) return kAsciiAdvance[cp - 0x20];
  if (cp >= 0x300 && cp <= 0x36f) return 0;
  const bool wide = (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
                    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
                    (cp >= 0x1f300 && cp <= 0x1faff) || cp >= 0x20000;
  return wide ? kUnitsPerEm : 1300;
}

// Width of `text` in whole pixels at 11px, rounded up. Invalid UTF-8 counts per byte.
int text_width(std::string_view text) {
  long units = 0;
  if (auto cps = decode_utf8(text)) {
    for (const char32_t cp : *cps) units += advance(cp);
  } else {
    units = static_cast<long>(text.size()) * 1300;
  }
  return static_cast<int>(std::ceil(static_cast<double>(units) * kFontPx / kUnitsPerEm));
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Relative luminance (WCAG) of "#rgb" / "#rrggbb"; nullopt for anything else.
std::optional<double> luminance(std::string_view color) {
  if (!color.starts_with('#') || (color.size() != 4 && color.size() != 7)) return std::nullopt;
  const std::size_t step = color.size() == 4 ? 1 : 2;
  double sum = 0;
  constexpr std::array<double, 3> kWeights{0.2126, 0.7152, 0.0722};
  for (std::size_t i = 0; i < 3; ++i) {
    int value = 0;
    for (std::size_t k = 0; k < step; ++k) {
      const int digit = util::hex_value(color[1 + i * step + k]);
      if (digit < 0) return std::nullopt;
      value = value * 16 + digit;
    }
    if (step == 1) value *= 17;
    const double s = value / 255.0;
    sum += kWeights[i] * (s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4));
  }
  return sum;
}

// Dark text on light fills (yellow, lightgrey, user colours), white on the rest: whichever
// contrasts more.
bool wants_dark_text(std::string_view fill) {
  const auto l = luminance(fill);
  if (!l) return false;
  constexpr double kDarkText = 0.0331;  // #333
  return (*l + 0.05) / (kDarkText + 0.05) > 1.05 / (*l + 0.05);
}

// "12" or "12.5": half a whole number of pixels.
std::string half(int twice) { return std::to_string(twice / 2) + (twice % 2 ? ".5" : ""); }

std::string text_pair(std::string_view text, int left, int width, bool dark) {
  const std::string x = half(2 * left + width);
  const std::string length = std::to_string(width - 2 * kPaddingPx);
  std::string out;
  if (!dark) {
    out += R"(<text x=")" + x + R"(" y="15" fill="#010101" fill-opacity=".3" textLength=")" +
           length + R"(" lengthAdjust="spacing" aria-hidden="true">)" + std::string(text) +
           "</text>";
  }
  out += R"(<text x=")" + x + R"(" y="14" fill=")" + (dark ? "#333" : "#fff") +
         R"(" textLength=")" + length + R"(" lengthAdjust="spacing">)" + std::string(text) +
         "</text>";
  return out;
}

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

std::expected<void, std::string> apply_option(BadgeOptions& options, std::string_view name,
                                              std::string value) {
  if (name == "label") {
    const auto cps = decode_utf8(value);
    bool ok = cps && !cps->empty() && cps->size() <= kMaxBadgeLabel;
    for (std::size_t i = 0; ok && i < cps->size(); ++i) ok = is_printable((*cps)[i]);
    if (!ok) return std::unexpected("label must be 1-64 printable characters (UTF-8)");
    options.label = std::move(value);
  } else if (name == "color") {
    auto color = resolve_color(value);
    if (!color) {
      return std::unexpected(
          "color must be a name (brightgreen, green, yellowgreen, yellow, orange, red, blue, "
          "lightgrey, grey, informational, success, important, critical, inactive) or 3 or 6 "
          "hex digits such as 4c1 or 007ec6");
    }
    options.color = std::move(*color);
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

}  // namespace

std::expected<BadgeOptions, std::string> parse_badge_query(std::string_view query) {
  auto params = parse_query(query);
  if (!params) return std::unexpected(std::move(params.error()));
  if (auto known = only_known(*params, {"label", "color", "count", "period"},
                              "a badge takes label, color, count and period");
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
  const bool negative = count < 0;
  // Through unsigned, so the most negative value does not overflow.
  auto magnitude = static_cast<std::uint64_t>(count);
  if (negative) magnitude = ~magnitude + 1;
  const std::string digits = std::to_string(magnitude);
  std::string out = negative ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string render_badge(std::string_view label, std::string_view value, std::string_view color) {
  const int label_w = text_width(label) + 2 * kPaddingPx;
  const int value_w = text_width(value) + 2 * kPaddingPx;
  const std::string total = std::to_string(label_w + value_w);
  const std::string safe_label = xml_escape(label);
  const std::string safe_value = xml_escape(value);
  const std::string fill = xml_escape(color);
  const std::string title = safe_label + ": " + safe_value;

  std::string svg;
  svg.reserve(1200 + 4 * (safe_label.size() + safe_value.size()));
  svg += R"(<svg xmlns="http://www.w3.org/2000/svg" width=")" + total +
         R"(" height="20" role="img" aria-label=")" + title + R"(">)";
  svg += "<title>" + title + "</title>";
  svg += R"(<linearGradient id="shine" x2="0" y2="100%">)"
         R"(<stop offset="0" stop-color="#bbb" stop-opacity=".1"/>)"
         R"(<stop offset="1" stop-opacity=".1"/></linearGradient>)";
  svg += R"(<clipPath id="round"><rect width=")" + total +
         R"(" height="20" rx="3" fill="#fff"/></clipPath>)";
  svg += R"svg(<g clip-path="url(#round)">)svg";
  svg += R"(<rect width=")" + std::to_string(label_w) + R"(" height="20" fill=")" +
         std::string(kLabelFill) + R"("/>)";
  svg += R"(<rect x=")" + std::to_string(label_w) + R"(" width=")" + std::to_string(value_w) +
         R"(" height="20" fill=")" + fill + R"("/>)";
  svg += R"(<rect width=")" + total + R"svg(" height="20" fill="url(#shine)"/></g>)svg";
  svg += R"(<g text-anchor="middle" font-family="Verdana,Geneva,'DejaVu Sans',sans-serif" )"
         R"(font-size="11" text-rendering="geometricPrecision">)";
  svg += text_pair(safe_label, 0, label_w, false);
  svg += text_pair(safe_value, label_w, value_w, wants_dark_text(color));
  svg += "</g></svg>";
  return svg;
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
