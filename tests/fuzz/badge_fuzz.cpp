// Fuzz target: badge options and the SVG. Each input is the query string of a badge request.
// Invariants: accepted options have a 1-64 character printable UTF-8 label and colours
// "#" + 3 or 6 lower-case hex digits; the badge drawn from them, and one drawn in every
// style from the raw input as label, value and colours, has exactly the markup of a plain
// badge of that style (the same number of '<', '>', '"' and '\''), so no text can open,
// close or quote anything, and it names the label XML-escaped; format_count reads back as
// its number, format_short is its number to within rounding; entity tags are quoted hex.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

#include "app/badge.hpp"
#include "fuzz_check.hpp"

namespace {

using fuzz::check;

// What XML text stands for: the five entities the badge writes, undone. The inverse of the
// badge's escaping, so the check below does not restate the code it checks.
std::string unescaped(std::string_view text) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto* entity = std::ranges::find_if(
        kEntities, [&](const auto& e) { return text.substr(i).starts_with(e.first); });
    if (entity != std::end(kEntities)) {
      out += entity->second;
      i += entity->first.size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

// The markup characters of `svg`: text that is escaped adds none.
bool same_markup(std::string_view svg, std::string_view plain) {
  for (const char c : {'<', '>', '"', '\''}) {
    if (std::ranges::count(svg, c) != std::ranges::count(plain, c)) return false;
  }
  return true;
}

void check_badge(const app::BadgeOptions& options, std::string_view value) {
  const std::string svg = app::render_badge(options, value);
  // The same style and colours, so the same markup: only the texts differ.
  app::BadgeOptions plain = options;
  plain.label = "a";
  check(same_markup(svg, app::render_badge(plain, "1")), "escaped text adds no markup");
  const std::size_t open = svg.find("<title>");
  const std::size_t close = svg.find("</title>");
  check(open != std::string::npos && close != std::string::npos && open < close,
        "the badge has a title");
  const std::string_view title = std::string_view(svg).substr(open + 7, close - open - 7);
  check(unescaped(title) == options.label + ": " + std::string(value),
        "the title names the label and value, escaped");
  const std::string tag = app::entity_tag(svg);
  check(tag.size() == 18 && tag.front() == '"' && tag.back() == '"' &&
            tag.substr(1, 16).find_first_not_of("0123456789abcdef") == std::string::npos,
        "an entity tag is 16 hex digits in quotes");
}

bool is_color(std::string_view color) {
  return (color.size() == 4 || color.size() == 7) && color.front() == '#' &&
         color.substr(1).find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// format_short(number): digits, at most one decimal, and a metric prefix from 1,000 on, within
// 5% of the number (halves of the last digit shown).
void check_short(std::int64_t number) {
  const std::string text = app::format_short(number);
  std::string_view rest = text;
  const bool negative = rest.starts_with('-');
  if (negative) rest.remove_prefix(1);
  const std::size_t digits = rest.find_first_not_of("0123456789.");
  const std::string_view mantissa = rest.substr(0, digits);
  const std::string_view prefix = digits == std::string_view::npos ? "" : rest.substr(digits);
  check(negative == (number < 0), "format_short keeps the sign");
  check(prefix.size() <= 1 && (prefix.empty() || std::string_view("kMGTPE").find(prefix[0]) !=
                                                     std::string_view::npos),
        "format_short ends in at most one metric prefix");
  check(!mantissa.empty() && mantissa.size() <= 3, "format_short shows at most three digits");
  const long double magnitude = std::fabs(static_cast<long double>(number));
  long double shown = std::stold(std::string(mantissa));
  if (!prefix.empty()) {
    for (const char p : std::string_view("kMGTPE")) {
      shown *= 1000;
      if (p == prefix[0]) break;
    }
  }
  check(prefix.empty() ? shown == magnitude : std::fabs(shown - magnitude) <= magnitude / 20,
        "format_short is its number to within rounding");
  check(prefix.empty() == (magnitude < 1000), "format_short prefixes from 1,000 on");
}

bool printable_utf8_of_length(std::string_view text, std::size_t low, std::size_t high) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++count) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    if (lead < 0x20 || lead == 0x7f || (lead >= 0x80 && lead < 0xc2) || lead > 0xf4) return false;
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return false;
    }
    // C1 controls U+0080-U+009F are \xC2\x80-\xC2\x9F.
    if (lead == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0) return false;
    i += length;
  }
  return count >= low && count <= high;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);

  std::int64_t number = 0;
  std::memcpy(&number, data, std::min(size, sizeof number));
  const std::string count = app::format_count(number);
  const std::string digits = [&] {
    std::string out = count;
    std::erase(out, ',');
    return out;
  }();
  std::int64_t read_back = 0;
  const auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), read_back);
  check(error == std::errc() && end == digits.data() + digits.size() && read_back == number,
        "format_count reads back as its number");

  check_short(number);

  const auto options = app::parse_badge_query(query);
  if (options) {
    check(printable_utf8_of_length(options->label, 1, app::kMaxBadgeLabel),
          "a label is 1-64 printable UTF-8 characters");
    check(is_color(options->color) && is_color(options->label_color),
          "a colour is # and 3 or 6 lower-case hex digits");
    check_badge(*options, app::badge_number(*options, number));
  } else {
    check(!options.error().empty(), "a refused query has a reason");
  }
  for (const auto style :
       {app::BadgeStyle::flat, app::BadgeStyle::flat_square, app::BadgeStyle::plastic,
        app::BadgeStyle::for_the_badge, app::BadgeStyle::social}) {
    app::BadgeOptions raw;
    raw.label = std::string(query);
    raw.color = std::string(query);
    raw.label_color = std::string(query);
    raw.style = style;
    check_badge(raw, query);
  }
  return 0;
}
