// Visitor ids: stable for the same inputs, unrelated across salts, addresses, agents and
// keys, and the exact truncated HMAC.
#include "counting/policy/visitor_id.hpp"

#include <gtest/gtest.h>

#include <set>

namespace counting::policy {
namespace {

TEST(VisitorId, SameInputsSameIdAndAnyChangeGivesAnother) {
  const std::string salt(32, 's');
  const std::string id = visitor_id(salt, "203.0.113.7", "Mozilla/5.0", "home");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(visitor_id(salt, "203.0.113.7", "Mozilla/5.0", "home"), id);
  const std::set<std::string> ids = {
      id,
      visitor_id(std::string(32, 't'), "203.0.113.7", "Mozilla/5.0", "home"),
      visitor_id(salt, "203.0.113.8", "Mozilla/5.0", "home"),
      visitor_id(salt, "203.0.113.7", "Mozilla/5.1", "home"),
      visitor_id(salt, "203.0.113.7", "Mozilla/5.0", "about"),
      // The fields are separated, so moving bytes between them changes the id.
      visitor_id(salt, "203.0.113.7M", "ozilla/5.0", "home"),
  };
  EXPECT_EQ(ids.size(), 6u);
}

TEST(VisitorId, IsTheTruncatedHmacOfTheFields) {
  // Python: hmac.new(b"Jefe", b"203.0.113.7\0Mozilla/5.0\0home", "sha256").hexdigest()[:32]
  EXPECT_EQ(visitor_id("Jefe", "203.0.113.7", "Mozilla/5.0", "home"),
            "4cdd753026ebd6127c93350503832d9e");
}

}  // namespace
}  // namespace counting::policy
