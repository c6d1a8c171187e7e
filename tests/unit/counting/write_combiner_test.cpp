// Write combiner: exact distinct values under concurrency, merging into one batch, and
// all-or-nothing failure.
#include "counting/write_combiner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <set>

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
  std::vector<std::promise<bool>> answers(20);
  for (auto& answer : answers)
    combiner.hit("k", [&answer](auto v) { answer.set_value(v.has_value()); });
  for (auto& answer : answers) EXPECT_FALSE(answer.get_future().get());
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

}  // namespace
}  // namespace counting
