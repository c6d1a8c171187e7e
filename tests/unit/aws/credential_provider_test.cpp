// The refreshing credential provider with an injected wall clock: no refresh before it is
// due, a refresh once it is, a failed refresh that keeps the old credentials until they
// expire and then fails with the reason, and recovery; and the chain's first step.
#include "aws/credential_provider.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace aws {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

// A wall clock the test moves by hand, shared with the provider's thread.
class HandClock {
 public:
  Clock::time_point now() const {
    std::lock_guard lock(mutex_);
    return now_;
  }
  void advance(Clock::duration by) {
    std::lock_guard lock(mutex_);
    now_ += by;
  }

 private:
  mutable std::mutex mutex_;
  Clock::time_point now_ = Clock::time_point() + std::chrono::hours(24 * 365 * 56);
};

// Waits (on a condition, bounded) until `provider` hands out `key`.
bool hands_out(CredentialProvider& provider, const std::string& key) {
  for (int i = 0; i < 400; ++i) {
    auto current = provider.current();
    if (current && current->access_key_id == key) return true;
    std::this_thread::sleep_for(25ms);
  }
  return false;
}

TEST(RefreshingCredentials, RefreshesWhenDueAndKeepsOldOnesUntilTheyExpire) {
  HandClock clock;
  std::atomic<int> fetches{0};
  std::atomic<bool> failing{false};
  const auto fetch = [&]() -> std::expected<TemporaryCredentials, std::string> {
    const int n = ++fetches;
    if (failing) return std::unexpected("the metadata service is down");
    return TemporaryCredentials{.credentials = {.access_key_id = "AKID" + std::to_string(n),
                                                .secret_access_key = "s",
                                                .session_token = "t"},
                                .expires = clock.now() + 1h};
  };
  auto provider = refreshing_credentials(
      fetch, "test", {.ahead = 5min, .retry = 1s, .clock = [&] { return clock.now(); }});
  ASSERT_TRUE(provider) << provider.error();
  EXPECT_EQ((*provider)->current()->access_key_id, "AKID1");
  EXPECT_EQ((*provider)->source(), "test");

  // Due 5 minutes before expiry (at 55 min), whether the refresher reckons it before or after
  // this first step: at 50 min, 10 minutes are left, and half of them is still 5.
  clock.advance(50min);
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(fetches, 1);

  clock.advance(6min);  // due now
  EXPECT_TRUE(hands_out(**provider, "AKID2"));

  failing = true;
  clock.advance(56min);  // due again, and every refresh fails
  for (int i = 0; i < 400 && fetches < 3; ++i) std::this_thread::sleep_for(25ms);
  ASSERT_EQ(fetches, 3);
  EXPECT_EQ((*provider)->current()->access_key_id, "AKID2");  // not expired yet: still good
  clock.advance(5min);                                        // now past its expiry
  auto expired = (*provider)->current();
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().find("the metadata service is down"), std::string::npos);

  failing = false;  // the service is back: the next retry brings fresh credentials
  for (int i = 0; i < 400 && fetches < 4; ++i) std::this_thread::sleep_for(25ms);
  clock.advance(2s);
  for (int i = 0; i < 400 && !(*provider)->current(); ++i) std::this_thread::sleep_for(25ms);
  EXPECT_TRUE((*provider)->current().has_value());
}

TEST(RefreshingCredentials, AFirstFetchThatFailsIsAnError) {
  auto provider = refreshing_credentials(
      []() -> std::expected<TemporaryCredentials, std::string> {
        return std::unexpected("connection refused");
      },
      "IMDSv2");
  ASSERT_FALSE(provider);
  EXPECT_EQ(provider.error(), "IMDSv2: connection refused");
}

TEST(CredentialChain, TheEnvironmentComesFirstWithNoNetworkCall) {
  const auto env = [](const char* name) -> const char* {
    const std::string_view n = name;
    if (n == "AWS_ACCESS_KEY_ID") return "AKIDENV";
    if (n == "AWS_SECRET_ACCESS_KEY") return "secret";
    if (n == "AWS_EC2_METADATA_SERVICE_ENDPOINT") return "http://192.0.2.1";  // never reached
    return nullptr;
  };
  auto provider = default_credential_chain(env);
  ASSERT_TRUE(provider) << provider.error();
  EXPECT_EQ((*provider)->source(), "environment");
  EXPECT_EQ((*provider)->current()->access_key_id, "AKIDENV");
}

}  // namespace
}  // namespace aws
