// random_bytes: the size asked for, and never the same bytes twice.
#include "util/crypto.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

namespace util {
namespace {

TEST(RandomBytes, GivesTheSizeAskedForAndNeverRepeats) {
  const std::optional<std::string> none = random_bytes(0);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::optional<std::string> bytes = random_bytes(32);
    ASSERT_TRUE(bytes.has_value());
    ASSERT_EQ(bytes->size(), 32u);
    seen.insert(*bytes);
  }
  EXPECT_EQ(seen.size(), 1000u);
  const std::optional<std::string> many = random_bytes(4096);  // more than one call may give
  ASSERT_TRUE(many.has_value());
  ASSERT_EQ(many->size(), 4096u);
  const std::set<char> values(many->begin(), many->end());
  EXPECT_GT(values.size(), 200u);  // the bytes are spread, not, say, all zero
}

}  // namespace
}  // namespace util
