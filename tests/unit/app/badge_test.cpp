// Badge: query options, number formats, SVG drawing in every style and escaping, entity
// tags, routing. (tests/badges compares whole badges with shields' badge-maker.)
#include "app/badge.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "app/router.hpp"

namespace app {
namespace {

// The number right after the first occurrence of `prefix` in `svg`, or -1.
int number_after(const std::string& svg, std::string_view prefix) {
  const std::size_t at = svg.find(prefix);
  EXPECT_NE(at, std::string::npos) << prefix;
  if (at == std::string::npos) return -1;
  std::size_t end = at + prefix.size();
  while (end < svg.size() && std::isdigit(static_cast<unsigned char>(svg[end]))) ++end;
  return std::stoi(svg.substr(at + prefix.size(), end - at - prefix.size()));
}

TEST(BadgeQuery, DefaultsWhenEmpty) {
  for (const char* query : {"", "&", "&&"}) {
    const auto options = parse_badge_query(query);
    ASSERT_TRUE(options) << query;
    EXPECT_EQ(options->label, "visitors") << query;
    EXPECT_EQ(options->color, "#007ec6") << query;
    EXPECT_EQ(options->label_color, "#555") << query;
    EXPECT_EQ(options->style, BadgeStyle::flat) << query;
    EXPECT_FALSE(options->short_number) << query;
    EXPECT_TRUE(options->count) << query;
  }
}

// A misspelt or unknown option is refused, not ignored: ignoring it would count a hit the
// owner meant to style. A plain name is echoed; anything else is not.
TEST(BadgeQuery, UnknownOptionsAreRefused) {
  for (const char* query : {"colour=green", "cache=123", "x", "=z", "Label=views", "foo=bar"}) {
    const auto options = parse_badge_query(query);
    ASSERT_FALSE(options) << query;
    EXPECT_NE(options.error().find("label, color, labelColor, style, format, count and period"),
              std::string::npos)
        << query;
  }
  EXPECT_NE(parse_badge_query("colour=green").error().find("'colour'"), std::string::npos);
  EXPECT_EQ(parse_badge_query("%22%3E=1").error().find('"'), std::string::npos);
  EXPECT_FALSE(parse_badge_query("color=green&foo=1"));
}

TEST(BadgeQuery, Label) {
  EXPECT_EQ(parse_badge_query("label=page+views")->label, "page views");
  EXPECT_EQ(parse_badge_query("label=%3Cscript%3E")->label, "<script>");
  EXPECT_EQ(parse_badge_query("label=caf%C3%A9")->label, "caf\xc3\xa9");
  EXPECT_EQ(parse_badge_query("label=a&label=b")->label, "b");
  EXPECT_EQ(parse_badge_query("label=" + std::string(64, 'x'))->label.size(), 64u);
  // 64 code points of two bytes each are fine too.
  std::string accents;
  for (int i = 0; i < 64; ++i) accents += "%C3%A9";
  EXPECT_TRUE(parse_badge_query("label=" + accents));
}

TEST(BadgeQuery, BadLabels) {
  for (const std::string& query :
       std::vector<std::string>{"label=", "label=" + std::string(65, 'x'), "label=a%0Ab",
                                "label=%00", "label=%7F", "label=%C2%85", "label=%C3", "label=%FF",
                                "label=%C0%AF", "label=%ED%A0%80", "label=%zz"}) {
    const auto options = parse_badge_query(query);
    EXPECT_FALSE(options) << query;
  }
  EXPECT_NE(parse_badge_query("label=").error().find("label"), std::string::npos);
}

TEST(BadgeQuery, Colors) {
  EXPECT_EQ(parse_badge_query("color=brightgreen")->color, "#4c1");
  EXPECT_EQ(parse_badge_query("color=Orange")->color, "#fe7d37");
  EXPECT_EQ(parse_badge_query("color=informational")->color, "#007ec6");
  EXPECT_EQ(parse_badge_query("color=gray")->color, "#555");
  EXPECT_EQ(parse_badge_query("color=ff69B4")->color, "#ff69b4");
  EXPECT_EQ(parse_badge_query("color=%23abc")->color, "#abc");
  for (const char* query : {"color=", "color=nope", "color=12345", "color=ggg", "color=%23",
                            "color=red;x", "color=%2300ff0g"}) {
    EXPECT_FALSE(parse_badge_query(query)) << query;
  }
}

TEST(BadgeQuery, LabelColor) {
  EXPECT_EQ(parse_badge_query("labelColor=blue")->label_color, "#007ec6");
  EXPECT_EQ(parse_badge_query("labelColor=%23ABC")->label_color, "#abc");
  EXPECT_EQ(parse_badge_query("labelColor=123456&color=red")->color, "#e05d44");
  for (const char* query :
       {"labelColor=", "labelColor=purple", "labelColor=12", "labelcolor=red"}) {
    EXPECT_FALSE(parse_badge_query(query)) << query;
  }
  EXPECT_TRUE(parse_badge_query("labelColor=nope").error().starts_with("labelColor must be"));
  EXPECT_TRUE(parse_badge_query("color=nope").error().starts_with("color must be"));
}

TEST(BadgeQuery, StyleAndFormat) {
  EXPECT_EQ(parse_badge_query("style=flat")->style, BadgeStyle::flat);
  EXPECT_EQ(parse_badge_query("style=flat-square")->style, BadgeStyle::flat_square);
  EXPECT_EQ(parse_badge_query("style=plastic")->style, BadgeStyle::plastic);
  EXPECT_EQ(parse_badge_query("style=for-the-badge")->style, BadgeStyle::for_the_badge);
  EXPECT_EQ(parse_badge_query("style=social")->style, BadgeStyle::social);
  EXPECT_TRUE(parse_badge_query("format=short")->short_number);
  EXPECT_FALSE(parse_badge_query("format=short&format=full")->short_number);
  for (const char* query : {"style=", "style=Flat", "style=round", "style=flat_square",
                            "format=", "format=long", "format=SHORT"}) {
    EXPECT_FALSE(parse_badge_query(query)) << query;
  }
  EXPECT_EQ(parse_badge_query("style=round").error(),
            "style must be flat, flat-square, plastic, for-the-badge or social");
  EXPECT_EQ(parse_badge_query("format=long").error(), "format must be full or short");
}

TEST(BadgeQuery, Count) {
  EXPECT_FALSE(parse_badge_query("count=false")->count);
  EXPECT_FALSE(parse_badge_query("count=0")->count);
  EXPECT_TRUE(parse_badge_query("count=true")->count);
  EXPECT_TRUE(parse_badge_query("count=1")->count);
  for (const char* query : {"count=", "count=no", "count=FALSE", "count"}) {
    EXPECT_FALSE(parse_badge_query(query)) << query;
  }
}

TEST(BadgeFormat, ThousandsSeparators) {
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(1000), "1,000");
  EXPECT_EQ(format_count(1234), "1,234");
  EXPECT_EQ(format_count(123456789), "123,456,789");
  EXPECT_EQ(format_count(-1234567), "-1,234,567");
  EXPECT_EQ(format_count(INT64_MIN), "-9,223,372,036,854,775,808");
}

TEST(BadgeFormat, ShortAsShieldsMetric) {
  const std::pair<std::int64_t, const char*> cases[] = {
      {0, "0"},
      {999, "999"},
      {1000, "1k"},
      {1049, "1k"},  // 1.0k drops its 0
      {1050, "1.1k"},
      {1149, "1.1k"},
      {1150, "1.2k"},  // halves up
      {1234, "1.2k"},
      {9949, "9.9k"},
      {9950, "10k"},  // 9.95k rounds to 10: whole units from 10
      {34567, "35k"},
      {34499, "34k"},
      {999499, "999k"},
      {999500, "1M"},  // 1000k is 1M
      {5600000, "5.6M"},
      {123456789, "123M"},
      {1234567890, "1.2G"},
      {999999999999, "1T"},
      {9007199254740991, "9P"},
      {INT64_MAX, "9.2E"},
      {-1, "-1"},
      {-999, "-999"},
      {-1234, "-1.2k"},
      {-999500, "-1M"},
      {INT64_MIN, "-9.2E"},
  };
  for (const auto& [count, text] : cases) EXPECT_EQ(format_short(count), text) << count;
  BadgeOptions options;
  EXPECT_EQ(badge_number(options, 1234), "1,234");
  options.short_number = true;
  EXPECT_EQ(badge_number(options, 1234), "1.2k");
}

// The badge of `label` and `value` in `style` with the other options at their defaults.
std::string draw(BadgeStyle style, std::string label = "visitors", std::string_view value = "1,234",
                 std::string color = "#007ec6", std::string label_color = "#555") {
  BadgeOptions options;
  options.style = style;
  options.label = std::move(label);
  options.color = std::move(color);
  options.label_color = std::move(label_color);
  return render_badge(options, value);
}

constexpr std::string_view kRoot = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"";

TEST(BadgeSvg, EveryStyleHasShieldsGeometry) {
  // badge-maker 4.1.0's widths and heights for "visitors | 1,234".
  const std::pair<BadgeStyle, std::string_view> sizes[] = {
      {BadgeStyle::flat, R"(width="90" height="20")"},
      {BadgeStyle::flat_square, R"(width="90" height="20")"},
      {BadgeStyle::plastic, R"(width="90" height="18")"},
      {BadgeStyle::for_the_badge, R"(width="145.25" height="28")"},
      {BadgeStyle::social, R"(width="91" height="20")"},
  };
  for (const auto& [style, size] : sizes) {
    const std::string svg = draw(style);
    EXPECT_TRUE(svg.starts_with(kRoot)) << svg;
    EXPECT_NE(svg.find(size), std::string::npos) << svg;
    EXPECT_TRUE(svg.ends_with("</g></svg>")) << svg;
    EXPECT_NE(svg.find(R"(role="img" aria-label="visitors: 1,234")"), std::string::npos) << svg;
    EXPECT_NE(svg.find("<title>visitors: 1,234</title>"), std::string::npos) << svg;
  }
  EXPECT_NE(draw(BadgeStyle::flat).find(R"(rx="3")"), std::string::npos);
  EXPECT_NE(draw(BadgeStyle::plastic).find(R"(rx="4")"), std::string::npos);
  EXPECT_EQ(draw(BadgeStyle::flat_square).find("rx="), std::string::npos);
  EXPECT_EQ(draw(BadgeStyle::flat_square).find("aria-hidden"), std::string::npos);  // no shadow
}

TEST(BadgeSvg, ForTheBadgeAndSocialChangeTheCaseButNotTheTitle) {
  const std::string loud = draw(BadgeStyle::for_the_badge, "caf\xc3\xa9", "1.2k");
  EXPECT_NE(loud.find(">CAF\xc3\x89</text>"), std::string::npos) << loud;
  EXPECT_NE(loud.find(R"(font-weight="bold" x="810" y="175")"), std::string::npos) << loud;
  EXPECT_NE(loud.find(">1.2K</text>"), std::string::npos) << loud;
  // Widths in quarters of a pixel (1.25px of spacing a character), as badge-maker's.
  EXPECT_NE(
      draw(BadgeStyle::for_the_badge)
          .find(R"svg(x="1141.25" y="175" transform="scale(.1)" textLength="382.5">1,234<)svg"),
      std::string::npos);
  EXPECT_NE(loud.find("<title>caf\xc3\xa9: 1.2k</title>"), std::string::npos);
  const std::string social = draw(BadgeStyle::social, "stars");
  EXPECT_NE(social.find(">Stars</text>"), std::string::npos) << social;
  EXPECT_NE(social.find("<title>stars: 1,234</title>"), std::string::npos);
  // social has its own look: neither colour is used.
  const std::string coloured = draw(BadgeStyle::social, "stars", "1,234", "#e05d44", "#4c1");
  EXPECT_EQ(coloured, social);
}

TEST(BadgeSvg, LabelColorFillsTheLabelPart) {
  for (const BadgeStyle style : {BadgeStyle::flat, BadgeStyle::flat_square, BadgeStyle::plastic,
                                 BadgeStyle::for_the_badge}) {
    const std::string svg = draw(style, "v", "1", "#4c1", "#fe7d37");
    const std::size_t label = svg.find(R"(fill="#fe7d37"/>)");
    const std::size_t value = svg.find(R"(fill="#4c1"/>)");
    EXPECT_NE(label, std::string::npos) << svg;
    EXPECT_NE(value, std::string::npos) << svg;
    EXPECT_LT(label, value) << svg;
    EXPECT_EQ(svg.find(R"(fill="#555")"), std::string::npos) << svg;
  }
}

TEST(BadgeSvg, TwoPartsWithTitleAndRole) {
  const std::string svg = draw(BadgeStyle::flat);
  EXPECT_TRUE(svg.starts_with(R"(<svg xmlns="http://www.w3.org/2000/svg" )"));
  EXPECT_TRUE(svg.ends_with("</svg>"));
  EXPECT_NE(svg.find(R"(role="img" aria-label="visitors: 1,234")"), std::string::npos);
  EXPECT_NE(svg.find("<title>visitors: 1,234</title>"), std::string::npos);
  EXPECT_NE(svg.find(R"(fill="#555")"), std::string::npos);
  EXPECT_NE(svg.find(R"(fill="#007ec6")"), std::string::npos);
  EXPECT_NE(svg.find(">visitors</text>"), std::string::npos);
  EXPECT_NE(svg.find(">1,234</text>"), std::string::npos);
  EXPECT_EQ(number_after(svg, " height=\""), 20);
}

TEST(BadgeSvg, WidthsFitTheText) {
  const int label = number_after(draw(BadgeStyle::flat, "visitors", "1"), "<rect x=\"");
  // 11px Verdana: "visitors" is 39.71px, rounded down and up to odd (39), plus 5px a side.
  EXPECT_EQ(label, 49);
  const auto total = [](BadgeStyle style, std::string_view l, std::string_view v) {
    return number_after(draw(style, std::string(l), v), kRoot);
  };
  for (const BadgeStyle style : {BadgeStyle::flat, BadgeStyle::flat_square, BadgeStyle::plastic,
                                 BadgeStyle::for_the_badge, BadgeStyle::social}) {
    EXPECT_LT(total(style, "visitors", "1"), total(style, "visitors", "1,234,567"));
    EXPECT_LT(total(style, "iiii", "1"), total(style, "WWWW", "1"));
    EXPECT_LT(total(style, "ab", "1"), total(style, "\xe8\xa8\xaa\xe5\x95\x8f", "1"));  // wide CJK
  }
  // Each text is pinned (at ten times its size) to its part's width minus the padding.
  const std::string svg = draw(BadgeStyle::flat, "visitors", "42");
  const int label_w = number_after(svg, "<rect x=\"");  // where the value part starts
  EXPECT_EQ(number_after(svg, "textLength=\""), (label_w - 10) * 10);
}

TEST(BadgeSvg, EscapesEverything) {
  for (const BadgeStyle style : {BadgeStyle::flat, BadgeStyle::flat_square, BadgeStyle::plastic,
                                 BadgeStyle::for_the_badge, BadgeStyle::social}) {
    const std::string svg = draw(style, R"(<script>alert("x") & 'y'</script>)", "<1>");
    EXPECT_EQ(svg.find("<script"), std::string::npos) << svg;
    EXPECT_EQ(svg.find("<SCRIPT"), std::string::npos) << svg;
    EXPECT_EQ(svg.find("<1>"), std::string::npos) << svg;
    EXPECT_NE(svg.find("&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;: "
                       "&lt;1&gt;</title>"),
              std::string::npos)
        << svg;
    const std::string hostile = draw(style, "a", "1", R"("/><script>)", R"("/><script>)");
    EXPECT_EQ(hostile.find("<script"), std::string::npos) << hostile;
  }
}

// The fills of the texts that are not shadows, in order: the label's, then the value's.
std::vector<std::string> text_fills(const std::string& svg) {
  std::vector<std::string> fills;
  constexpr std::string_view kText = "<text fill=\"";
  for (std::size_t at = svg.find(kText); at != std::string::npos; at = svg.find(kText, at + 1)) {
    const std::size_t start = at + kText.size();
    fills.push_back(svg.substr(start, svg.find('"', start) - start));
  }
  return fills;
}

TEST(BadgeSvg, TextColorKeepsContrast) {
  using Fills = std::vector<std::string>;
  EXPECT_EQ(text_fills(draw(BadgeStyle::flat, "v", "1", "#007ec6")), (Fills{"#fff", "#fff"}));
  EXPECT_EQ(text_fills(draw(BadgeStyle::flat, "v", "1", "#dfb317")), (Fills{"#fff", "#333"}));
  EXPECT_EQ(text_fills(draw(BadgeStyle::plastic, "v", "1", "#fff")), (Fills{"#fff", "#333"}));
  EXPECT_EQ(text_fills(draw(BadgeStyle::for_the_badge, "v", "1", "#9f9f9f")),
            (Fills{"#fff", "#333"}));
  // The label part too: dark text on a light labelColor, over a light shadow.
  const std::string light_label = draw(BadgeStyle::flat, "v", "1", "#007ec6", "#fff");
  EXPECT_EQ(text_fills(light_label), (Fills{"#333", "#fff"}));
  EXPECT_NE(light_label.find(R"(<text aria-hidden="true" fill="#ccc" fill-opacity=".3")"),
            std::string::npos);
  EXPECT_NE(light_label.find(R"(<text aria-hidden="true" fill="#010101" fill-opacity=".3")"),
            std::string::npos);
}

TEST(BadgeEtag, QuotedHashOfTheBytes) {
  const std::string a = entity_tag("<svg>1</svg>");
  ASSERT_EQ(a.size(), 18u) << a;
  EXPECT_TRUE(a.front() == '"' && a.back() == '"') << a;
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef", 1), 17u) << a;
  EXPECT_EQ(a, entity_tag("<svg>1</svg>"));
  EXPECT_NE(a, entity_tag("<svg>2</svg>"));
  EXPECT_EQ(entity_tag(""), "\"cbf29ce484222325\"");  // FNV-1a offset basis
}

TEST(BadgeRoute, KeyBetweenPrefixAndSuffix) {
  EXPECT_EQ(route("/badge/visitors.svg").endpoint, Endpoint::badge);
  EXPECT_EQ(route("/badge/visitors.svg").encoded_key, "visitors");
  EXPECT_EQ(route("/badge/blog/a.b.svg").encoded_key, "blog/a.b");
  EXPECT_EQ(route("/badge/.svg").endpoint, Endpoint::badge);
  EXPECT_EQ(route("/badge/.svg").encoded_key, "");
  for (const char* path : {"/badge/x", "/badge/", "/badge.svg", "/badge/x.svg/", "/badges/x.svg"}) {
    EXPECT_EQ(route(path).endpoint, Endpoint::not_found) << path;
  }
  EXPECT_EQ(allowed_methods(Endpoint::badge), "GET, HEAD, OPTIONS");
  EXPECT_EQ(cors_methods(Endpoint::badge), "GET, OPTIONS");
  EXPECT_EQ(label(Endpoint::badge), "badge");
  EXPECT_EQ(route("/demo.css").endpoint, Endpoint::stylesheet);
}

}  // namespace
}  // namespace app
