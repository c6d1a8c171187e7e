// The README badge of GET /badge/{key}.svg (docs/http-api.md): its query options, the
// number it shows, and the SVG in shields.io's five styles (badge_svg.cpp), drawn from
// scratch with shields' geometry and text widths. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace app {

inline constexpr std::size_t kMaxBadgeLabel = 64;  // code points

enum class BadgeStyle { flat, flat_square, plastic, for_the_badge, social };

struct BadgeOptions {
  std::string label = "visitors";    // decoded text, 1-64 printable code points
  std::string color = "#007ec6";     // the value part's fill, always "#" + 3 or 6 hex digits
  std::string label_color = "#555";  // the label part's fill, the same form
  BadgeStyle style = BadgeStyle::flat;
  bool short_number = false;  // "1.2k" (format_short) instead of "1,234"
  bool count = true;          // false: show the current number without counting
  int period_days = 0;        // 7 or 30: show the views of the last days (today
                              // included) instead of the total, without counting
};

// Parses the query string (without '?') of a badge request:
//   label=TEXT        left-hand text (percent-encoded UTF-8, '+' is a space)
//   color=C           a name (brightgreen green yellowgreen yellow orange red blue lightgrey
//                     grey gray informational success important critical inactive) or hex
//                     digits (3 or 6, with or without a leading '#' / %23)
//   labelColor=C      the label part's fill, the same syntax (default grey, #555)
//   style=S           flat (default), flat-square, plastic, for-the-badge or social
//   format=full|short "1,234" (default) or "1.2k" (format_short)
//   count=false       show the number without counting (count=true is the default)
//   period=7d|30d     show the views of the last 7 or 30 UTC days, today included, instead
//                     of the total; reads without counting
// An unknown parameter fails, so that a misspelt option (colour=) never counts a hit the
// owner meant to style (no cache buster is needed: the badge is sent with no-cache). A later
// repeat of a parameter wins. A malformed escape, an unknown parameter or a bad value fails
// with a one-line reason for a 400.
std::expected<BadgeOptions, std::string> parse_badge_query(std::string_view query);

// "1,234" or "-5": the count with a comma every three digits.
std::string format_count(std::int64_t count);

// The count in at most three significant digits with a metric prefix, as shields writes
// numbers: below 1,000 as it is ("999"); else in the largest unit (k, M, G, T, P, E = 10^3
// ... 10^18) it reaches, with one decimal below 10 units ("1.2k") unless that decimal is 0
// ("1k"), whole units from 10 ("35k"). Rounded to the nearest, halves up (1,150 -> "1.2k",
// 1,149 -> "1.1k", 34,500 -> "35k"); a rounding that reaches 1,000 units moves to the next
// unit (999,500 -> "1M"). A negative count is its magnitude's text after '-'.
std::string format_short(std::int64_t count);

// The number a badge with `options` shows for `count`: format_short or format_count.
std::string badge_number(const BadgeOptions& options, std::int64_t count);

// The badge of `options.style`: `options.label` on `options.label_color`, `value` on
// `options.color` (CSS colours; they are escaped, not checked), with shields' geometry: its
// width is what shields' badge-maker gives for the same texts, to the pixel. for-the-badge
// writes both texts in capitals and social capitalizes the label (badge_text::to_upper);
// social has its own grey and white look and ignores both colours, as shields' does. Text
// is XML-escaped, so any label renders as text, and pinned with textLength, so it always
// fits. Text on a fill gets whichever of white and dark grey contrasts more (WCAG). The
// badge carries <title> and role="img" aria-label="label: value" (the texts as given,
// before any case change) for screen readers.
std::string render_badge(const BadgeOptions& options, std::string_view value);

// A strong ETag for `bytes`: a quoted 64-bit FNV-1a hash in hex.
std::string entity_tag(std::string_view bytes);

}  // namespace app
