// Write combiner: exact distinct values under concurrency, merging into one batch, each key's
// values to that key's waiters (also when a store reports keys out of order from its own
// threads), the pending bound, and failures that say whether a hit may have counted.
#include "counting/write_combiner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

#include "store/memory/memory_store.hpp"
#include "support/failing_store.hpp"

namespace counting {
namespace {

// Holds the first add() until released, so hits can pile up behind it.
class GateStore final : public store::Store {
 public:
  explicit GateStore(store::Store& inner) : inner_(inner) {}
  void add(std::span<const store::Increment> b, const store::AddCallback& done) override {
    if (calls_++ == 0) entered_.count_down();
    release_.wait();
    batches_.push_back(b.size() == 1 ? b[0].delta : -1);
    inner_.add(b, done);
  }
  store::StoreResult<std::optional<std::int64_t>> get(std::string_view k) override {
    return inner_.get(k);
  }
  store::StoreResult<void> ping() override { return {}; }

  std::latch entered_{1};
  std::latch release_{1};
  std::vector<std::int64_t> batches_;  // the delta of each single-key batch
  int calls_ = 0;                      // only the worker thread calls add()

 private:
  store::Store& inner_;
};

// A store that defers its sync, with sync() held until released and failing on demand.
class DeferredSyncStore final : public store::Store {
 public:
  explicit DeferredSyncStore(store::Store& inner) : inner_(inner) {}
  void add(std::span<const store::Increment> b, const store::AddCallback& done) override {
    inner_.add(b, done);
  }
  store::StoreResult<std::optional<std::int64_t>> get(std::string_view k) override {
    return inner_.get(k);
  }
  store::StoreResult<void> ping() override { return {}; }
  bool defers_sync() const override { return true; }
  store::StoreResult<void> sync() override {
    release_.wait();
    ++syncs_;
    if (fail_) return std::unexpected(store::StoreError{"disk gone"});
    return {};
  }

  std::latch release_{1};
  std::atomic<int> syncs_{0};
  bool fail_ = false;

 private:
  store::Store& inner_;
};

TEST(WriteCombiner, DeferredSyncAcknowledgesOnlyAfterTheSync) {
  store::MemoryStore memory;
  DeferredSyncStore deferred(memory);
  metrics::Registry metrics;
  WriteCombiner combiner(deferred, metrics);
  std::promise<std::int64_t> answer;
  combiner.hit("k", [&](auto v) { answer.set_value(v.value()); });
  std::promise<std::optional<std::int64_t>> read;
  combiner.read("k", [&](auto v) { read.set_value(v.value()); });
  EXPECT_EQ(read.get_future().get(), 1);  // applied...
  auto pending = answer.get_future();
  EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  EXPECT_EQ(deferred.syncs_, 0);  // ...but not acknowledged before its sync
  deferred.release_.count_down();
  EXPECT_EQ(pending.get(), 1);
  EXPECT_GE(deferred.syncs_, 1);
}

TEST(WriteCombiner, FailedSyncFailsTheHitsOfThatSync) {
  store::MemoryStore memory;
  DeferredSyncStore deferred(memory);
  deferred.fail_ = true;
  deferred.release_.count_down();
  metrics::Registry metrics;
  WriteCombiner combiner(deferred, metrics);
  std::vector<std::promise<store::StoreResult<std::int64_t>>> answers(20);
  for (auto& answer : answers) combiner.hit("k", [&answer](auto v) { answer.set_value(v); });
  // Applied but not made durable: the hits may or may not survive, so "unknown".
  for (auto& answer : answers) {
    auto value = answer.get_future().get();
    ASSERT_FALSE(value.has_value());
    EXPECT_EQ(value.error().kind, store::StoreError::Kind::outcome_unknown);
  }
  combiner.stop();
  EXPECT_NE(metrics.render().find("vc_hits_outcome_unknown_total 20\n"), std::string::npos);
}

TEST(WriteCombiner, ConcurrentHitsGetDistinctGapFreeValues) {
  store::MemoryStore memory;
  metrics::Registry metrics;
  WriteCombiner combiner(memory, metrics);
  constexpr int kThreads = 8, kHits = 500;
  std::mutex mutex;
  std::vector<std::int64_t> values;
  std::latch all_done(kThreads * kHits);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kHits; ++i) {
        combiner.hit("k", [&](store::StoreResult<std::int64_t> v) {
          std::lock_guard lock(mutex);
          values.push_back(v.value());
          all_done.count_down();
        });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  all_done.wait();
  std::ranges::sort(values);
  ASSERT_EQ(values.size(), std::size_t{kThreads * kHits});
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], std::int64_t(i) + 1);
  EXPECT_EQ(*memory.get("k").value(), kThreads * kHits);
}

TEST(WriteCombiner, HitsWaitingOnACommitBecomeOneIncrement) {
  store::MemoryStore memory;
  GateStore gate(memory);
  metrics::Registry metrics;
  WriteCombiner combiner(gate, metrics);
  std::vector<std::promise<std::int64_t>> answers(100);
  combiner.hit("k", [&](auto v) { answers[0].set_value(v.value()); });
  gate.entered_.wait();  // the first batch is inside the store
  for (std::size_t i = 1; i < answers.size(); ++i) {
    combiner.hit("k", [&answers, i](auto v) { answers[i].set_value(v.value()); });
  }
  gate.release_.count_down();
  std::set<std::int64_t> seen;
  for (auto& answer : answers) seen.insert(answer.get_future().get());
  EXPECT_EQ(gate.batches_, (std::vector<std::int64_t>{1, 99}));
  EXPECT_EQ(seen.size(), 100U);
  EXPECT_EQ(*seen.begin(), 1);
  EXPECT_EQ(*seen.rbegin(), 100);
}

TEST(WriteCombiner, FailedCommitFailsEveryWaiterAndChangesNothing) {
  store::MemoryStore memory;
  testing_support::FailingStore failing(memory);
  metrics::Registry metrics;
  WriteCombiner combiner(failing, metrics);
  failing.set_failing(true);
  std::vector<std::promise<bool>> answers(50);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    combiner.hit(i % 2 ? "a" : "b", [&answers, i](auto v) { answers[i].set_value(v.has_value()); });
  }
  for (auto& answer : answers) EXPECT_FALSE(answer.get_future().get());
  failing.set_failing(false);
  EXPECT_EQ(memory.get("a").value(), std::nullopt);
  EXPECT_EQ(memory.get("b").value(), std::nullopt);
}

TEST(WriteCombiner, ReadsSeeEarlierWrites) {
  store::MemoryStore memory;
  metrics::Registry metrics;
  WriteCombiner combiner(memory, metrics);
  combiner.hit("k", [](auto) {});
  combiner.hit("k", [](auto) {});
  std::promise<std::optional<std::int64_t>> read;
  combiner.read("k", [&](auto v) { read.set_value(v.value()); });
  EXPECT_EQ(read.get_future().get(), 2);
}

TEST(WriteCombiner, AfterStopCallsFailFast) {
  store::MemoryStore memory;
  metrics::Registry metrics;
  WriteCombiner combiner(memory, metrics);
  combiner.stop();
  bool failed = false;
  combiner.hit("k", [&](auto v) { failed = !v.has_value(); });
  EXPECT_TRUE(failed);
  EXPECT_EQ(memory.get("k").value(), std::nullopt);
}

// Reports a batch's keys in reverse order, each from a thread of its own, as a store that
// writes keys independently (DynamoDB) may.
class ScatteringStore final : public store::Store {
 public:
  explicit ScatteringStore(store::Store& inner) : inner_(inner) {}
  void add(std::span<const store::Increment> b, const store::AddCallback& done) override {
    std::vector<store::StoreResult<std::int64_t>> results(b.size());
    inner_.add(b, [&](std::size_t i, auto value) { results[i] = std::move(value); });
    std::vector<std::thread> threads;
    for (std::size_t i = b.size(); i-- > 0;) {
      threads.emplace_back([&done, &results, i] { done(i, results[i]); });
      threads.back().join();  // one at a time: the order is what is tested
    }
  }
  store::StoreResult<std::optional<std::int64_t>> get(std::string_view k) override {
    return inner_.get(k);
  }
  store::StoreResult<void> ping() override { return {}; }

 private:
  store::Store& inner_;
};

// Hits on several keys queued behind one commit form one multi-key batch; each key's
// waiters get exactly that key's values.
void expect_each_key_gets_its_own_values(store::Store& inner, GateStore& gate) {
  metrics::Registry metrics;
  WriteCombiner combiner(gate, metrics);
  std::promise<std::int64_t> first;
  combiner.hit("warm-up", [&](auto v) { first.set_value(v.value()); });
  gate.entered_.wait();
  const std::map<std::string, int> hits = {{"a", 3}, {"b", 5}, {"c", 1}, {"d/e", 4}};
  std::mutex mutex;
  std::map<std::string, std::vector<std::int64_t>> got;
  std::latch answered(13);
  for (const auto& [key, n] : hits) {
    for (int i = 0; i < n; ++i) {
      combiner.hit(key, [&, key](auto v) {
        std::lock_guard lock(mutex);
        got[key].push_back(v.value());
        answered.count_down();
      });
    }
  }
  gate.release_.count_down();
  EXPECT_EQ(first.get_future().get(), 1);
  answered.wait();
  EXPECT_EQ(gate.batches_.size(), 2U);
  EXPECT_EQ(gate.batches_[1], -1);  // the second batch held several keys
  for (const auto& [key, n] : hits) {
    std::vector<std::int64_t> expected(n);
    std::iota(expected.begin(), expected.end(), 1);
    std::ranges::sort(got[key]);
    EXPECT_EQ(got[key], expected) << key;
    EXPECT_EQ(*inner.get(key).value(), n) << key;
  }
}

TEST(WriteCombiner, MultiKeyBatchGivesEachKeyItsOwnValues) {
  store::MemoryStore memory;
  GateStore gate(memory);
  expect_each_key_gets_its_own_values(memory, gate);
}

TEST(WriteCombiner, KeysReportedOutOfOrderFromOtherThreadsStillMatch) {
  store::MemoryStore memory;
  ScatteringStore scattering(memory);
  GateStore gate(scattering);
  expect_each_key_gets_its_own_values(memory, gate);
}

TEST(WriteCombiner, PastMaxPendingHitsAndReadsAreShedAtOnce) {
  store::MemoryStore memory;
  GateStore gate(memory);
  metrics::Registry metrics;
  WriteCombiner combiner(gate, metrics, CombinerOptions{.max_pending = 3});
  std::vector<std::promise<bool>> held(3);
  for (auto& answer : held)
    combiner.hit("k", [&answer](auto v) { answer.set_value(v.has_value()); });
  gate.entered_.wait();
  std::optional<store::StoreError> shed_hit, shed_read;
  combiner.hit("k", [&](auto v) { shed_hit = v.error(); });  // answered before hit() returns
  combiner.read("k", [&](auto v) { shed_read = v.error(); });
  ASSERT_TRUE(shed_hit && shed_read);
  EXPECT_EQ(shed_hit->kind, store::StoreError::Kind::overloaded);
  EXPECT_EQ(shed_read->kind, store::StoreError::Kind::overloaded);
  bool healthy = false;
  combiner.ping([&](auto ok) { healthy = ok.has_value(); });  // pings are not bounded
  gate.release_.count_down();
  for (auto& answer : held) EXPECT_TRUE(answer.get_future().get());
  std::promise<std::int64_t> after;
  combiner.hit("k", [&](auto v) { after.set_value(v.value()); });  // room again
  EXPECT_EQ(after.get_future().get(), 4);
  combiner.stop();
  EXPECT_TRUE(healthy);
  EXPECT_NE(metrics.render().find("vc_shed_total 2\n"), std::string::npos);
  EXPECT_NE(metrics.render().find("vc_pending 0\n"), std::string::npos);
}

}  // namespace
}  // namespace counting
