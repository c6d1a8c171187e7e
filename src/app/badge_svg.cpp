// The badge SVG in shields.io's styles: flat, flat-square and plastic share one layout
// (11px Verdana, 5px padding), for-the-badge and social have their own. As shields does,
// text is laid out at ten times its size under transform="scale(.1)", so that positions
// stay whole numbers, and each text is pinned to its measured width with textLength.
#include <array>
#include <cmath>
#include <optional>
#include <string>

#include "app/badge.hpp"
#include "app/badge_text.hpp"
#include "util/percent.hpp"

namespace app {
namespace {

using badge_text::Font;

constexpr std::string_view kVerdana = "Verdana,Geneva,'DejaVu Sans',sans-serif";
constexpr std::string_view kHelvetica = "'Helvetica Neue',Helvetica,Arial,sans-serif";

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

// `hundredths` / 100 as SVG writes a number: "12", "12.5", "12.25".
std::string decimal(long hundredths) {
  std::string out = hundredths < 0 ? "-" : "";
  const long magnitude = hundredths < 0 ? -hundredths : hundredths;
  out += std::to_string(magnitude / 100);
  if (const long cents = magnitude % 100; cents != 0) {
    out += '.';
    out += static_cast<char>('0' + cents / 10);
    if (cents % 10 != 0) out += static_cast<char>('0' + cents % 10);
  }
  return out;
}

std::string num(long value) { return std::to_string(value); }

// shields' text width: the measured width rounded down, then up to an odd number of pixels.
long odd_width(Font font, std::string_view text) {
  const auto width = static_cast<long>(std::floor(badge_text::width(font, text)));
  return width % 2 == 0 ? width + 1 : width;
}

// The root element and the text for screen readers ("label: value", escaped).
std::string open_svg(std::string_view width, int height, std::string_view title) {
  return R"(<svg xmlns="http://www.w3.org/2000/svg" width=")" + std::string(width) +
         R"(" height=")" + num(height) + R"(" role="img" aria-label=")" + std::string(title) +
         R"("><title>)" + std::string(title) + "</title>";
}

// Two rectangles side by side, the label's and the value's; `shine`: a gradient over both.
std::string two_parts(long left, long right, int height, const BadgeOptions& options, bool shine) {
  const std::string h = num(height);
  std::string out = R"(<rect width=")" + num(left) + R"(" height=")" + h + R"(" fill=")" +
                    xml_escape(options.label_color) + R"("/>)";
  out += R"(<rect x=")" + num(left) + R"(" width=")" + num(right) + R"(" height=")" + h +
         R"(" fill=")" + xml_escape(options.color) + R"("/>)";
  if (shine) {
    out += R"(<rect width=")" + num(left + right) + R"(" height=")" + h +
           R"svg(" fill="url(#shine)"/>)svg";
  }
  return out;
}

// A text centred at `x` (tenths of a pixel) on `fill`, with textLength `length` (tenths),
// in white or dark grey; `shadow`: first the same text 1px lower in a darker or lighter
// shade, hidden from screen readers.
std::string text_on(std::string_view text, long x, int y, long length, std::string_view fill,
                    bool shadow) {
  const bool dark = wants_dark_text(fill);
  const std::string at = R"( x=")" + num(x) + R"(" y=")";
  const std::string rest = R"svg(" transform="scale(.1)" textLength=")svg" + num(length) + R"(">)" +
                           std::string(text) + "</text>";
  std::string out;
  if (shadow) {
    out += R"(<text aria-hidden="true" fill=")" + std::string(dark ? "#ccc" : "#010101") +
           R"(" fill-opacity=".3")" + at + num(y + 10) + rest;
  }
  out += R"(<text fill=")" + std::string(dark ? "#333" : "#fff") + '"' + at + num(y) + rest;
  return out;
}

// flat, flat-square and plastic: 5px either side of each text, the label's text 1px right
// of its part's centre and the value's 1px left, as shields places them.
std::string flat_family(const BadgeOptions& options, std::string_view value,
                        std::string_view title) {
  const bool plastic = options.style == BadgeStyle::plastic;
  const bool square = options.style == BadgeStyle::flat_square;
  const int height = plastic ? 18 : 20;
  const int y = plastic ? 130 : 140;
  const long label_w = odd_width(Font::verdana_11, options.label);
  const long value_w = odd_width(Font::verdana_11, value);
  const long left = label_w + 10;
  const long right = value_w + 10;
  const std::string total = num(left + right);

  std::string svg = open_svg(total, height, title);
  if (square) {
    svg += R"(<g shape-rendering="crispEdges">)" + two_parts(left, right, height, options, false);
  } else {
    svg += R"(<linearGradient id="shine" x2="0" y2="100%">)";
    svg += plastic ? R"(<stop offset="0" stop-color="#fff" stop-opacity=".7"/>)"
                     R"(<stop offset=".1" stop-color="#aaa" stop-opacity=".1"/>)"
                     R"(<stop offset=".9" stop-color="#000" stop-opacity=".3"/>)"
                     R"(<stop offset="1" stop-color="#000" stop-opacity=".5"/>)"
                   : R"(<stop offset="0" stop-color="#bbb" stop-opacity=".1"/>)"
                     R"(<stop offset="1" stop-opacity=".1"/>)";
    svg += R"(</linearGradient><clipPath id="round"><rect width=")" + total + R"(" height=")" +
           num(height) + R"(" rx=")" + (plastic ? "4" : "3") + R"(" fill="#fff"/></clipPath>)";
    svg += R"svg(<g clip-path="url(#round)">)svg" + two_parts(left, right, height, options, true);
  }
  svg += R"(</g><g text-anchor="middle" font-family=")" + std::string(kVerdana) +
         R"(" text-rendering="geometricPrecision" font-size="110">)";
  svg += text_on(xml_escape(options.label), 60 + 5 * label_w, y, 10 * label_w, options.label_color,
                 !square);
  svg += text_on(xml_escape(value), 10 * left + 40 + 5 * value_w, y, 10 * value_w, options.color,
                 !square);
  return svg + "</g></svg>";
}

// for-the-badge: 28px high, both texts in capitals in 10px Verdana (the value bold), 12px
// either side, each text 1.25px wider per character for its letter spacing. Widths are in
// hundredths of a pixel: they are multiples of a quarter.
std::string for_the_badge(const BadgeOptions& options, std::string_view value,
                          std::string_view title) {
  const std::string label_text = badge_text::to_upper(options.label);
  const std::string value_text = badge_text::to_upper(value);
  const auto spaced = [](Font font, std::string_view text) {
    return 100 * static_cast<long>(std::floor(badge_text::width(font, text))) +
           125 * static_cast<long>(badge_text::utf16_length(text));
  };
  const long label_w = spaced(Font::verdana_10, label_text);
  const long value_w = spaced(Font::verdana_10_bold, value_text);
  const long left = label_w + 2400;
  const long right = value_w + 2400;

  std::string svg = open_svg(decimal(left + right), 28, title);
  svg += R"(<g shape-rendering="crispEdges"><rect width=")" + decimal(left) +
         R"(" height="28" fill=")" + xml_escape(options.label_color) + R"("/><rect x=")" +
         decimal(left) + R"(" width=")" + decimal(right) + R"(" height="28" fill=")" +
         xml_escape(options.color) + R"("/></g>)";
  svg += R"(<g text-anchor="middle" font-family=")" + std::string(kVerdana) +
         R"(" text-rendering="geometricPrecision" font-size="100">)";
  const auto text = [&](std::string_view content, long x, long length, std::string_view fill,
                        std::string_view weight) {
    return R"(<text fill=")" + std::string(wants_dark_text(fill) ? "#333" : "#fff") + '"' +
           std::string(weight) + R"( x=")" + decimal(x) +
           R"svg(" y="175" transform="scale(.1)" textLength=")svg" + decimal(length) + R"(">)" +
           xml_escape(content) + "</text>";
  };
  svg += text(label_text, 12000 + 5 * label_w, 10 * label_w, options.label_color, "");
  svg += text(value_text, 10 * (left + 1200) + 5 * value_w, 10 * value_w, options.color,
              R"( font-weight="bold")");
  return svg + "</g></svg>";
}

// social: GitHub's old button look, a light label and a speech bubble with the value, in bold
// 11px Helvetica; the colour options do not apply.
std::string social(const BadgeOptions& options, std::string_view value, std::string_view title) {
  const std::string label_text = badge_text::capitalize(options.label);
  const long label_w = odd_width(Font::helvetica_11_bold, label_text);
  const long value_w = odd_width(Font::helvetica_11_bold, value);
  const long label_box = label_w + 10;
  const long value_box = value_w + 8;
  const std::string bubble_x = num(label_box + 6) + ".5";

  std::string svg = open_svg(num(label_box + 7 + value_box), 20, title);
  svg += R"(<linearGradient id="shine" x2="0" y2="100%">)"
         R"(<stop offset="0" stop-color="#fcfcfc" stop-opacity="0"/>)"
         R"(<stop offset="1" stop-opacity=".1"/></linearGradient>)";
  svg += R"(<g stroke="#d5d5d5"><rect stroke="none" fill="#fcfcfc" x=".5" y=".5" width=")" +
         num(label_box) + R"(" height="19" rx="2"/>)";
  svg += R"(<rect x=")" + bubble_x + R"(" y=".5" width=")" + num(value_box) +
         R"(" height="19" rx="2" fill="#fafafa"/>)";
  svg +=
      R"(<rect x=")" + num(label_box + 6) + R"(" y="7.5" width=".5" height="5" stroke="#fafafa"/>)";
  svg += R"(<path d="M)" + bubble_x + R"( 6.5 l-3 3v1 l3 3" fill="#fafafa"/></g>)";
  svg += R"(<g aria-hidden="true" fill="#333" text-anchor="middle" font-family=")" +
         std::string(kHelvetica) +
         R"(" text-rendering="geometricPrecision" font-weight="700" font-size="110">)";
  svg += R"svg(<rect stroke="#d5d5d5" fill="url(#shine)" x=".5" y=".5" width=")svg" +
         num(label_box) + R"(" height="19" rx="2"/>)";
  const auto text = [](std::string_view content, long x, long length) {
    const std::string rest = R"svg(" transform="scale(.1)" textLength=")svg" + num(length) +
                             R"(">)" + xml_escape(content) + "</text>";
    return R"(<text aria-hidden="true" fill="#fff" x=")" + num(x) + R"(" y="150)" + rest +
           R"(<text x=")" + num(x) + R"(" y="140)" + rest;
  };
  svg += text(label_text, 50 + 5 * label_w, 10 * label_w);
  svg += text(value, 10 * label_box + 60 + 5 * value_box, 10 * value_w);
  return svg + "</g></svg>";
}

}  // namespace

std::string render_badge(const BadgeOptions& options, std::string_view value) {
  const std::string title = xml_escape(options.label) + ": " + xml_escape(value);
  switch (options.style) {
    case BadgeStyle::for_the_badge:
      return for_the_badge(options, value, title);
    case BadgeStyle::social:
      return social(options, value, title);
    case BadgeStyle::flat:
    case BadgeStyle::flat_square:
    case BadgeStyle::plastic:
      break;
  }
  return flat_family(options, value, title);
}

}  // namespace app
