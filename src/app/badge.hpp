// The README badge of GET /badge/{key}.svg (docs/http-api.md): its query options and a flat
// two-part SVG ("visitors | 1,234"), drawn from scratch. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace app {

inline constexpr std::size_t kMaxBadgeLabel = 64;  // code points

struct BadgeOptions {
  std::string label = "visitors";  // decoded text, 1-64 printable code points
  std::string color = "#007ec6";   // the value part's fill, always "#" + 3 or 6 hex digits
  bool count = true;               // false: show the current number without counting
  int period_days = 0;             // 7 or 30: show the views of the last days (today included)
                                   // instead of the total, without counting; 0: the total
};

// Parses the query string (without '?') of a badge request:
//   label=TEXT      left-hand text (percent-encoded UTF-8, '+' is a space)
//   color=C         a name (brightgreen green yellowgreen yellow orange red blue lightgrey
//                   grey gray informational success important critical inactive) or hex
//                   digits (3 or 6, with or without a leading '#' / %23)
//   count=false     show the number without counting (count=true is the default)
//   period=7d|30d   show the views of the last 7 or 30 UTC days, today included, instead of
//                   the total; reads without counting
// An unknown parameter fails, so that a misspelt option (colour=) never counts a hit the
// owner meant to style (no cache buster is needed: the badge is sent with no-cache). A later
// repeat of a parameter wins. A malformed escape, an unknown parameter or a bad value fails
// with a one-line reason for a 400.
std::expected<BadgeOptions, std::string> parse_badge_query(std::string_view query);

// "1,234" or "-5": the count with a comma every three digits.
std::string format_count(std::int64_t count);

// A flat badge: `label` on dark grey, `value` on `color` (a CSS color; it is escaped, not
// checked). Text is XML-escaped, so any label renders as text. Carries <title> and
// role="img" aria-label="label: value" for screen readers. Widths are estimated from
// Verdana's advance widths at 11px and pinned with textLength, so the text always fits.
std::string render_badge(std::string_view label, std::string_view value, std::string_view color);

// A strong ETag for `bytes`: a quoted 64-bit FNV-1a hash in hex.
std::string entity_tag(std::string_view bytes);

}  // namespace app
