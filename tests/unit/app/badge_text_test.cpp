// Badge text: UTF-8 decoding, shields' capitals, and widths from anafanafo's tables (the
// expected widths are what anafanafo 2.0.0 gives; tests/badges compares whole badges).
#include "app/badge_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace app::badge_text {
namespace {

TEST(BadgeText, DecodesUtf8AndRefusesTheRest) {
  EXPECT_EQ(decode_utf8("a\xc3\xa9\xe8\xa8\xaa\xf0\x9f\x91\x80"),
            std::u32string(U"a\u00e9\u8a2a\U0001f440"));
  for (const char* bad : {"\xc3", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    EXPECT_FALSE(decode_utf8(bad)) << bad;
  }
}

TEST(BadgeText, CapitalsAsJavaScriptWritesThem) {
  EXPECT_EQ(to_upper("visitors 1.2k"), "VISITORS 1.2K");
  EXPECT_EQ(to_upper("caf\xc3\xa9 stra\xc3\x9f"
                     "e"),
            "CAF\xc3\x89 STRASSE");  // é, ß -> SS
  EXPECT_EQ(to_upper("\xc5\x82\xc3\xb3"
                     "d\xc5\xba"),
            "\xc5\x81\xc3\x93"
            "D\xc5\xb9");                                       // łódź
  EXPECT_EQ(to_upper("\xc5\x89"), "\xca\xbcN");                 // ŉ -> ʼN
  EXPECT_EQ(to_upper("\xcf\x82\xce\xb1"), "\xce\xa3\xce\x91");  // ςα -> ΣΑ
  EXPECT_EQ(to_upper("\xce\x90"), "\xce\x99\xcc\x88\xcc\x81");  // ΐ: three characters
  EXPECT_EQ(to_upper("\xd0\xbc\xd0\xb8\xd1\x80"), "\xd0\x9c\xd0\x98\xd0\xa0");  // мир
  EXPECT_EQ(to_upper("\xe1\xbb\x87"), "\xe1\xbb\x86");                          // ệ
  // Outside the blocks it knows, and in text that is not UTF-8, nothing changes.
  EXPECT_EQ(to_upper("\xc7\x86 \xe8\xa8\xaa"), "\xc7\x86 \xe8\xa8\xaa");  // ǆ (Extended-B), 訪
  EXPECT_EQ(to_upper("a\xff"), "a\xff");
}

TEST(BadgeText, CapitalizeChangesTheFirstCharacterOnly) {
  EXPECT_EQ(capitalize("visitors"), "Visitors");
  EXPECT_EQ(capitalize("\xc3\xa9t\xc3\xa9"), "\xc3\x89t\xc3\xa9");
  EXPECT_EQ(capitalize("\xc3\x9f"), "SS");
  EXPECT_EQ(capitalize("\xf0\x9f\x91\x80 a"), "\xf0\x9f\x91\x80 a");
  EXPECT_EQ(capitalize(""), "");
}

TEST(BadgeText, WidthsAreAnafanafos) {
  // The sums JavaScript makes, to the last bit: badge widths round them down.
  EXPECT_DOUBLE_EQ(width(Font::verdana_11, "visitors"), 39.709999999999994);
  EXPECT_DOUBLE_EQ(width(Font::verdana_10, "VISITORS"), 49.92);
  EXPECT_DOUBLE_EQ(width(Font::verdana_10_bold, "1,234"), 32.050000000000004);
  EXPECT_DOUBLE_EQ(width(Font::helvetica_11_bold, "Visitors"), 39.3);
  EXPECT_DOUBLE_EQ(width(Font::verdana_11, "\xe8\xa8\xaa\xe5\x95\x8f\xe8\x80\x85"), 33);  // 訪問者
  // No width in the table (emoji, past U+FFFF): as wide as "m". Control characters: 0.
  EXPECT_DOUBLE_EQ(width(Font::verdana_11, "\xf0\x9f\x91\x80"), width(Font::verdana_11, "m"));
  EXPECT_DOUBLE_EQ(width(Font::verdana_11,
                         "\x01"
                         "a"),
                   width(Font::verdana_11, "a"));
  EXPECT_DOUBLE_EQ(width(Font::verdana_11, "\xff\xfe"), 2 * width(Font::verdana_11, "m"));
  EXPECT_EQ(table_advance(Font::verdana_11, 'm'), 1070);
  EXPECT_EQ(table_advance(Font::verdana_11, 0x1f440), -1);
}

TEST(BadgeText, Utf16Length) {
  EXPECT_EQ(utf16_length("abc"), 3u);
  EXPECT_EQ(utf16_length("\xc3\xa9\xe8\xa8\xaa"), 2u);
  EXPECT_EQ(utf16_length("\xf0\x9f\x91\x80"), 2u);
  EXPECT_EQ(utf16_length("\xff"), 1u);
}

}  // namespace
}  // namespace app::badge_text
