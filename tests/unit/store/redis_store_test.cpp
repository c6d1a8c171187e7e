// The Redis store against a real redis-server (started here on a free port, in a temporary
// folder): random batches give hit for hit the results of the memory store, which applies
// store::decide_hits, so count_batch.lua keeps the same rules; and the URL form.
#include "store/redis/redis_store.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <random>
#include <thread>

#include "store/memory/memory_store.hpp"
#include "store/redis/redis_url.hpp"
#include "support/add_results.hpp"
#include "support/keep_days_contract.hpp"
#include "support/max_counters_contract.hpp"
#include "support/no_history_contract.hpp"

extern char** environ;

namespace store {
namespace {

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

// redis-server on a free port of 127.0.0.1, without persistence, killed at the end.
class RedisProcess {
 public:
  RedisProcess() : port_(free_port()) {
    dir_ = std::filesystem::temp_directory_path() / ("vc-redis-unit-" + std::to_string(port_));
    std::filesystem::create_directories(dir_);
    const std::string port = std::to_string(port_);
    const std::string dir = dir_.string();
    const char* argv[] = {"redis-server", "--port",    port.c_str(), "--bind", "127.0.0.1",
                          "--dir",        dir.c_str(), "--save",     "",       "--appendonly",
                          "no",           nullptr};
    if (::posix_spawnp(&pid_, "redis-server", nullptr, nullptr, const_cast<char**>(argv),
                       environ) != 0) {
      pid_ = -1;
    }
  }
  ~RedisProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }
  bool started() const { return pid_ > 0; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
  std::filesystem::path dir_;
};

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.started()) << "redis-server is missing (scripts/install-deps test)";
    auto config = redis::parse_redis_url(redis_.url());
    ASSERT_TRUE(config) << config.error();
    store_ = std::make_unique<RedisStore>(*config);
    for (int i = 0; i < 200 && !store_->ping(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_TRUE(store_->ping());
  }

  RedisProcess redis_;
  std::unique_ptr<RedisStore> store_;
};

TEST_F(RedisStoreTest, RandomBatchesGiveTheResultsOfDecideHits) {
  MemoryStore reference;
  std::mt19937 random(20261127);
  const std::vector<std::string> keys = {"a", "b/c", "d"};
  const std::vector<std::string> visitors = {"", "v1", "v2", "v3", "v4"};
  const std::vector<std::string> tokens = {"", "", "", "k1", "k2", "k3"};
  std::int64_t now = 1767268800;  // 2026-01-01T12:00:00Z
  for (int round = 0; round < 200; ++round) {
    // Mostly forward, sometimes a second back: a fleet's clocks disagree a little.
    now += std::uniform_int_distribution<int>(-1, 40)(random);
    const std::string day = round < 100 ? "2026-01-01" : "2026-01-02";
    std::vector<std::vector<Hit>> hits(keys.size());
    std::vector<KeyHits> batch_keys;
    for (std::size_t k = 0; k < keys.size(); ++k) {
      const int n = std::uniform_int_distribution<int>(0, 5)(random);
      for (int h = 0; h < n; ++h) {
        hits[k].push_back({visitors[random() % visitors.size()], tokens[random() % tokens.size()]});
      }
      if (!hits[k].empty()) batch_keys.push_back({keys[k], hits[k]});
    }
    const Batch batch{.day = day,
                      .now = now,
                      .repeat_window = round % 3 == 0 ? 0 : 30,
                      // Redis expires keys by the real clock: the marks must outlive the test.
                      .marker_expires = std::time(nullptr) + 86400,
                      .keys = batch_keys};
    const auto expected = testing_support::add_results(reference, batch);
    const auto actual = testing_support::add_results(*store_, batch);
    ASSERT_TRUE(actual) << actual.error().message;
    std::string described;
    for (const KeyHits& key : batch_keys) {
      described += std::string(key.key) + ":";
      for (const Hit& hit : key.hits) {
        described += " (" + std::string(hit.visitor) + "," + std::string(hit.idempotency_key) + ")";
      }
      described += "\n";
    }
    ASSERT_EQ(*actual, *expected) << "round " << round << " at " << now << " window "
                                  << batch.repeat_window << "\n"
                                  << described;
  }
  for (const std::string& key : keys) {
    EXPECT_EQ(*store_->get(key), *reference.get(key)) << key;
    EXPECT_EQ(store_->history(key, "2026-01-01", "2026-01-02")->size(), 2U) << key;
  }
}

TEST_F(RedisStoreTest, MaxCountersRefusesNewCounters) {
  testing_support::expect_max_counters_kept(*store_);
}

TEST_F(RedisStoreTest, WithoutHistoryNoDayFieldIsWritten) {
  testing_support::expect_no_history_kept(*store_);
}

TEST_F(RedisStoreTest, WithoutCreateCountersOnlyTheOwnerMakesCounters) {
  testing_support::expect_owner_created_counters_kept(*store_);
}

// 1,200 counters, 100 per forget_days.lua call: 12 full chunks and an empty one.
TEST_F(RedisStoreTest, KeepDaysDeletesOlderDayFieldsAndKeepsTheTotals) {
  testing_support::expect_keep_days_kept(*store_, 13);
}

TEST_F(RedisStoreTest, OwnerCallsKeepTheirContracts) {
  const std::vector<CounterRecord> records = {
      {"a", {10, 4}, {{"2026-01-01", {3, 1}}, {"2026-01-05", {7, 3}}}},
      {"b/c", {2, 2}, {}},
      {"b/d", {5, 5}, {{"2026-01-03", {5, 5}}}}};
  ASSERT_TRUE(store_->import(records, ImportMode::set));
  ASSERT_TRUE(store_->import(records, ImportMode::set));
  std::vector<CounterRecord> dumped;
  ASSERT_TRUE(
      store_->dump([&](CounterRecord&& r, std::size_t) { dumped.push_back(std::move(r)); }));
  EXPECT_EQ(dumped, records);
  auto page = store_->list("b/", "", 1);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->counters.size(), 1U);
  EXPECT_EQ(page->counters[0], (CounterInfo{"b/c", {2, 2}, ""}));
  EXPECT_EQ(page->next, "b/c");
  EXPECT_EQ(store_->list("b/", "b/c", 1)->counters[0].key, "b/d");
  EXPECT_EQ(store_->list("", "", 10)->counters[0].last_day, "2026-01-05");
  ASSERT_TRUE(store_->set_totals("a", 100, std::nullopt));
  EXPECT_EQ(**store_->get("a"), (Totals{100, 4}));
  EXPECT_EQ(store_->remove("a"), true);
  EXPECT_EQ(store_->remove("a"), false);
  EXPECT_FALSE(*store_->get("a"));
  EXPECT_EQ(store_->list("", "", 10)->counters.size(), 2U);
}

TEST(RedisUrl, ReadsEveryPart) {
  auto config = redis::parse_redis_url(
      "redis://app:s%40cret@cache.internal:6380/3?prefix=site1:&timeout_ms=250");
  ASSERT_TRUE(config) << config.error();
  EXPECT_EQ(config->host, "cache.internal");
  EXPECT_EQ(config->port, 6380);
  EXPECT_EQ(config->user, "app");
  EXPECT_EQ(config->password, "s@cret");
  EXPECT_EQ(config->db, 3);
  EXPECT_EQ(config->prefix, "site1:");
  EXPECT_EQ(config->timeout, std::chrono::milliseconds(250));
  auto defaults = redis::parse_redis_url("redis://[::1]");
  ASSERT_TRUE(defaults) << defaults.error();
  EXPECT_EQ(defaults->host, "::1");
  EXPECT_EQ(defaults->port, 6379);
  EXPECT_EQ(defaults->prefix, "vc:");
  EXPECT_FALSE(defaults->tls);
  auto tls = redis::parse_redis_url("rediss://redis.internal:6380?ca_file=/etc/redis/ca.pem");
  ASSERT_TRUE(tls) << tls.error();
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->ca_file, "/etc/redis/ca.pem");
}

TEST(RedisUrl, RefusesWhatItCannotUse) {
  for (const char* url :
       {"redis://", "redis://h:0", "redis://h/16", "redis://h/x", "redis://h?db=1",
        "redis://h?prefix=a%20b", "redis://h?timeout_ms=0", "redis://user@h",
        "redis://h?ca_file=/ca.pem", "rediss://h?ca_file=", "http://h", "redis://h%00x"}) {
    EXPECT_FALSE(redis::parse_redis_url(url)) << url;
  }
  const auto error = redis::parse_redis_url("redis://u:topsecret@h:1/x").error();
  EXPECT_EQ(error.find("topsecret"), std::string::npos) << error;
}

}  // namespace
}  // namespace store
