// Fuzz target: badge options and the SVG. Each input is the query string of a badge request.
// Invariants: accepted options have a 1-64 character printable UTF-8 label and a color
// "#" + 3 or 6 lower-case hex digits; the badge drawn from them, and one drawn from the raw
// input as label, value and color, has exactly the markup of a plain badge (the same number
// of '<', '>', '"' and '\''), so no text can open, close or quote anything, and it names the
// label XML-escaped; format_count reads back as its number; entity tags are quoted hex.
#include <algorithm>
#include <charconv>
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

void check_badge(std::string_view label, std::string_view value, std::string_view color) {
  const std::string svg = app::render_badge(label, value, color);
  // The same color, so the same text color: only the texts differ.
  check(same_markup(svg, app::render_badge("a", "1", color)), "escaped text adds no markup");
  const std::size_t open = svg.find("<title>");
  const std::size_t close = svg.find("</title>");
  check(open != std::string::npos && close != std::string::npos && open < close,
        "the badge has a title");
  const std::string_view title = std::string_view(svg).substr(open + 7, close - open - 7);
  check(unescaped(title) == std::string(label) + ": " + std::string(value),
        "the title names the label and value, escaped");
  const std::string tag = app::entity_tag(svg);
  check(tag.size() == 18 && tag.front() == '"' && tag.back() == '"' &&
            tag.substr(1, 16).find_first_not_of("0123456789abcdef") == std::string::npos,
        "an entity tag is 16 hex digits in quotes");
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

  const auto options = app::parse_badge_query(query);
  if (options) {
    check(printable_utf8_of_length(options->label, 1, app::kMaxBadgeLabel),
          "a label is 1-64 printable UTF-8 characters");
    const std::string_view color = options->color;
    check((color.size() == 4 || color.size() == 7) && color.front() == '#' &&
              color.substr(1).find_first_not_of("0123456789abcdef") == std::string_view::npos,
          "a color is # and 3 or 6 lower-case hex digits");
    check_badge(options->label, count, options->color);
  } else {
    check(!options.error().empty(), "a refused query has a reason");
  }
  check_badge(query, query, query);
  return 0;
}
