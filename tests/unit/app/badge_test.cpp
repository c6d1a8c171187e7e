// Badge: query options, number format, SVG drawing and escaping, entity tags, routing.
#include "app/badge.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
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
    EXPECT_TRUE(options->count) << query;
  }
}

// A misspelt or unknown option is refused, not ignored: ignoring it would count a hit the
// owner meant to style. A plain name is echoed; anything else is not.
TEST(BadgeQuery, UnknownOptionsAreRefused) {
  for (const char* query : {"colour=green", "cache=123", "x", "=z", "Label=views", "foo=bar"}) {
    const auto options = parse_badge_query(query);
    ASSERT_FALSE(options) << query;
    EXPECT_NE(options.error().find("label, color, count and period"), std::string::npos) << query;
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

TEST(BadgeSvg, TwoPartsWithTitleAndRole) {
  const std::string svg = render_badge("visitors", "1,234", "#007ec6");
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
  const int label = number_after(render_badge("visitors", "1", "#4c1"), "<rect x=\"");
  // Verdana 11px: "visitors" is about 40px wide, plus padding.
  EXPECT_GE(label, 45);
  EXPECT_LE(label, 60);
  const auto total = [](std::string_view l, std::string_view v) {
    return number_after(render_badge(l, v, "#4c1"),
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"");
  };
  EXPECT_LT(total("visitors", "1"), total("visitors", "1,234,567"));
  EXPECT_LT(total("iiii", "1"), total("WWWW", "1"));
  EXPECT_LT(total("ab", "1"), total("\xe8\xa8\xaa\xe5\x95\x8f", "1"));  // wide CJK
  // Each text is pinned to its part's width minus the padding.
  const std::string svg = render_badge("visitors", "42", "#4c1");
  const int label_w = number_after(svg, "<rect x=\"");  // where the value part starts
  EXPECT_EQ(number_after(svg, "textLength=\""), label_w - 12);
}

TEST(BadgeSvg, EscapesEverything) {
  const std::string svg = render_badge(R"(<script>alert("x") & 'y'</script>)", "1", "#4c1");
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"),
            std::string::npos);
  const std::string hostile_color = render_badge("a", "1", R"("/><script>)");
  EXPECT_EQ(hostile_color.find("<script"), std::string::npos);
}

TEST(BadgeSvg, TextColorKeepsContrast) {
  EXPECT_NE(render_badge("v", "1", "#007ec6").find(R"(y="14" fill="#fff")"), std::string::npos);
  EXPECT_NE(render_badge("v", "1", "#dfb317").find(R"(y="14" fill="#333")"), std::string::npos);
  EXPECT_NE(render_badge("v", "1", "#fff").find(R"(y="14" fill="#333")"), std::string::npos);
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
