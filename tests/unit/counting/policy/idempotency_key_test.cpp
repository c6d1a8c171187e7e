// Idempotency-Key parsing: quoted sf-strings, escapes, and every kind of bad value.
#include "counting/policy/idempotency_key.hpp"

#include <gtest/gtest.h>

namespace counting::policy {
namespace {

TEST(IdempotencyKey, QuotedStrings) {
  EXPECT_EQ(parse_idempotency_key("\"8e03978e-40d5-43e8-bc93-6894a57f9324\"").value(),
            "8e03978e-40d5-43e8-bc93-6894a57f9324");
  EXPECT_EQ(parse_idempotency_key("  \"a b\"\t").value(), "a b");
  EXPECT_EQ(parse_idempotency_key(R"("say \"hi\" \\ bye")").value(), R"(say "hi" \ bye)");
  EXPECT_EQ(parse_idempotency_key("\"" + std::string(128, 'k') + "\"").value(),
            std::string(128, 'k'));
}

TEST(IdempotencyKey, RefusesWhatIsNotAShortPrintableQuotedString) {
  const std::string bad[] = {
      "abc",                                // a token, not a string
      "\"abc",                              // unterminated
      "\"\"",                               // empty
      "\"" + std::string(129, 'k') + "\"",  // too long
      "\"caf\xc3\xa9\"",                    // not ASCII
      std::string("\"a\x01z\""),            // a control byte
      R"("a\nb")",                          // an escape sf-string does not have
      R"("a"b")",                           // a quote inside
      R"("ends\")",                         // the closing quote escaped
      "",
  };
  for (const std::string& header : bad) {
    const auto parsed = parse_idempotency_key(header);
    EXPECT_FALSE(parsed.has_value()) << header;
    if (!parsed) {
      EXPECT_NE(parsed.error().find("Idempotency-Key"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace counting::policy
