// The export format: a record's line reads back to the same record, and every kind of bad
// line is refused with its line number; the key,count CSV.
#include "cli/transfer_format.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace cli {
namespace {

std::expected<std::vector<store::CounterRecord>, std::string> read(const std::string& text) {
  std::istringstream in(text);
  return read_records(in);
}

TEST(TransferFormat, ALineReadsBackToItsRecord) {
  const store::CounterRecord record{
      "blog/post", {120, 80}, {{"2026-11-01", {5, 3}}, {"2026-11-02", {0, 0}}}};
  EXPECT_EQ(record_line(record),
            R"({"key":"blog/post","views":120,"visitors":80,"days":[["2026-11-01",5,3],)"
            R"(["2026-11-02",0,0]]})");
  auto records = read(header_line() + "\n" + record_line(record) + "\r\n\n");
  ASSERT_TRUE(records) << records.error();
  EXPECT_EQ(*records, std::vector{record});
}

TEST(TransferFormat, MissingTotalsAndDaysAreZeroAndNone) {
  auto records = read(header_line() + "\n{\"key\":\"a\"}\n");
  ASSERT_TRUE(records) << records.error();
  EXPECT_EQ(records->front(), (store::CounterRecord{"a", {0, 0}, {}}));
}

TEST(TransferFormat, BadLinesAreRefusedWithTheirNumber) {
  const std::string head = header_line() + "\n{\"key\":\"ok\"}\n";
  const std::pair<std::string, std::string> cases[] = {
      {"{\"key\":\"a b\"}", "line 3: key must be"},
      {"{\"key\":\"a\",\"views\":-1}", "line 3: views must be a whole number"},
      {"{\"key\":\"a\",\"views\":1.5}", "line 3: views must be"},
      {"{\"key\":\"a\",\"visitors\":9007199254740992}", "line 3: visitors must be"},
      {"{\"key\":\"a\",\"colour\":1}", "line 3: unknown field 'colour'"},
      {"{\"views\":1}", "line 3: a counter needs its \"key\""},
      {"{\"key\":\"a\",\"days\":[[\"2026-02-30\",1,1]]}", "line 3: bad date '2026-02-30'"},
      {"{\"key\":\"a\",\"days\":[[\"2026-01-02\",1,1],[\"2026-01-01\",1,1]]}",
       "line 3: days must be in ascending order"},
      {"{\"key\":\"a\",\"days\":[[\"2026-01-02\",1]]}", "line 3: each day must be"},
      {"{\"key\":\"ok\"}", "line 3: counter 'ok' is already on line 2"},
      {"{\"key\":", "line 3: not JSON"},
      {"[]", "line 3: expected a JSON object"},
  };
  for (const auto& [line, message] : cases) {
    auto records = read(head + line + "\n");
    ASSERT_FALSE(records) << line;
    EXPECT_TRUE(records.error().starts_with(message)) << line << " -> " << records.error();
  }
}

TEST(TransferFormat, TheHeaderNamesFormatAndVersion) {
  EXPECT_EQ(header_line(), R"({"format":"visitor-counter","version":1})");
  EXPECT_TRUE(read("{\"format\":\"visitor-counter\",\"version\":2}\n")
                  .error()
                  .starts_with("line 1: this program reads format version 1"));
  EXPECT_TRUE(read("{\"key\":\"a\"}\n").error().starts_with("line 1: the first line must be"));
}

TEST(TransferFormat, CsvCountsBecomeViews) {
  auto records = read("key,count\nhome,10\n\"blog/a\", 5\r\n\n");
  ASSERT_TRUE(records) << records.error();
  EXPECT_EQ(*records,
            (std::vector<store::CounterRecord>{{"home", {10, 0}, {}}, {"blog/a", {5, 0}, {}}}));
  EXPECT_TRUE(read("home,10\nbad key,1\n").error().starts_with("line 2: key must be"));
  EXPECT_TRUE(read("home,-1\n").error().starts_with("line 1: count must be"));
  EXPECT_TRUE(read("home\n").error().starts_with("line 1: expected key,count"));
}

}  // namespace
}  // namespace cli
