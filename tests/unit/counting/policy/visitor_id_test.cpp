// Visitor ids: stable for the same inputs, unrelated across salts, addresses, agents and
// keys, and the exact truncated HMAC.
#include "counting/policy/visitor_id.hpp"

#include <gtest/gtest.h>

#include <set>
#include <span>
#include <string>

#include "util/crypto.hpp"

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

// One keyed set-up reused for many messages gives exactly the one-shot HMAC of each, also
// after a longer message and for an empty one (the key is kept, not re-derived).
TEST(VisitorIds, MatchTheOneShotHmacForEveryMessage) {
  const std::string salt = "0123456789abcdef0123456789abcdef";
  VisitorIds ids(salt);
  const std::string long_agent(5000, 'x');
  for (int i = 0; i < 200; ++i) {
    const std::string client = "198.51.100." + std::to_string(i % 256);
    const std::string agent = i % 7 == 0 ? long_agent : "Agent/" + std::to_string(i);
    const std::string key = i % 5 == 0 ? "" : "page-" + std::to_string(i);
    const auto digest =
        util::hmac_sha256(util::as_bytes(salt), client + '\0' + agent + '\0' + key).value();
    ASSERT_EQ(ids.id(client, agent, key), util::to_hex(std::span(digest.data(), 16))) << i;
  }
  EXPECT_EQ(ids.id("203.0.113.7", "Mozilla/5.0", "home"),
            visitor_id(salt, "203.0.113.7", "Mozilla/5.0", "home"));
  VisitorIds jefe("Jefe");
  EXPECT_EQ(jefe.id("203.0.113.7", "Mozilla/5.0", "home"), "4cdd753026ebd6127c93350503832d9e");
}

}  // namespace
}  // namespace counting::policy
