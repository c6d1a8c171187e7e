// Write combiner: exact distinct totals under concurrency (views, and visitors for distinct
// visitors), merging into one batch, each key's results to that key's waiters (also when a
// store reports keys out of order from its own threads), the pending bound, failures that
// say whether a hit may have counted (commit, sync and salt failures), visitor ids made
// with the UTC day's salt and its rotation at midnight (injected clock), the repeat window
// and untracked visitors.
#include "counting/write_combiner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <latch>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "counting/policy/visitor_id.hpp"
#include "store/memory/memory_store.hpp"
#include "support/failing_store.hpp"
#include "support/forwarding_store.hpp"

namespace counting {
namespace {

using namespace std::chrono_literals;
using store::HitResult;
using store::Seen;
using store::Totals;
using testing_support::FailingStore;

// A tracked visitor at `client`, with a browser's User-Agent.
Visitor visitor(std::string client) {
  Visitor who;
  who.client = std::move(client);
  who.user_agent = "Mozilla/5.0 (test)";
  return who;
}

// Options with a wall clock and a repeat window; the rest default.
CombinerOptions clocked(Clock clock, std::chrono::seconds repeat_window = 0s) {
  CombinerOptions options;
  options.clock = std::move(clock);
  options.repeat_window = repeat_window;
  return options;
}
// The same visitor every time: for tests about views, where who it is does not matter.
Visitor anyone() { return visitor("192.0.2.1"); }

// Counts one hit and waits for its answer.
store::StoreResult<HitResult> hit_and_wait(WriteCombiner& combiner, std::string key, Visitor who) {
  std::promise<store::StoreResult<HitResult>> answer;
  combiner.hit(std::move(key), std::move(who), [&](auto result) { answer.set_value(result); });
  return answer.get_future().get();
}

std::optional<Totals> read_and_wait(WriteCombiner& combiner, std::string key) {
  std::promise<std::optional<Totals>> answer;
  combiner.read(std::move(key), [&](auto totals) { answer.set_value(totals.value()); });
  return answer.get_future().get();
}

// The value of an unlabelled metric in Prometheus text, or -1 when it is missing.
std::int64_t metric(const std::string& text, const std::string& name) {
  const std::size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + name.size() + 2));
}

// A wall clock the test sets; read by the combiner's worker.
class FakeClock {
 public:
  explicit FakeClock(std::chrono::sys_seconds start) : now_(start.time_since_epoch().count()) {}
  void advance(std::chrono::seconds by) { now_ += by.count(); }
  std::int64_t seconds() const { return now_; }
  Clock clock() {
    return [this] { return std::chrono::system_clock::time_point(std::chrono::seconds(now_)); };
  }

 private:
  std::atomic<std::int64_t> now_;
};

// Passes everything to an inner store and records the batches, salts and clean-ups asked.
class RecordingStore final : public testing_support::ForwardingStore {
 public:
  struct Recorded {
    std::string day;
    std::int64_t now = 0;
    std::int64_t repeat_window = 0;
    std::int64_t marker_expires = 0;
    std::map<std::string, std::vector<std::string>> visitors;  // by key, in order
  };

  explicit RecordingStore(store::Store& inner) : ForwardingStore(inner) {}
  void add(const store::Batch& b, const store::AddCallback& done) override {
    Recorded recorded{.day = std::string(b.day),
                      .now = b.now,
                      .repeat_window = b.repeat_window,
                      .marker_expires = b.marker_expires,
                      .visitors = {}};
    for (const store::KeyHits& key : b.keys) {
      auto& visitors = recorded.visitors[std::string(key.key)];
      for (const store::Hit& hit : key.hits) visitors.emplace_back(hit.visitor);
    }
    {
      std::lock_guard lock(mutex_);
      batches_.push_back(std::move(recorded));
    }
    inner_.add(b, done);
  }
  store::StoreResult<std::optional<Totals>> get(std::string_view k) override {
    return inner_.get(k);
  }
  store::StoreResult<std::string> salt(std::string_view day) override {
    auto salt = inner_.salt(day);
    std::lock_guard lock(mutex_);
    salts_.emplace_back(day, salt.value_or(""));
    return salt;
  }
  store::StoreResult<bool> forget_before(std::string_view day) override {
    {
      std::lock_guard lock(mutex_);
      forgotten_.emplace_back(day);
    }
    return inner_.forget_before(day);
  }
  store::StoreResult<void> ping() override { return inner_.ping(); }

  std::vector<Recorded> batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  std::vector<std::pair<std::string, std::string>> salts() const {  // (day, salt) per call
    std::lock_guard lock(mutex_);
    return salts_;
  }
  std::vector<std::string> forgotten() const {
    std::lock_guard lock(mutex_);
    return forgotten_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Recorded> batches_;
  std::vector<std::pair<std::string, std::string>> salts_;
  std::vector<std::string> forgotten_;
};

// Holds the first add() until released, so hits can pile up behind it.
class GateStore final : public testing_support::ForwardingStore {
 public:
  explicit GateStore(store::Store& inner) : ForwardingStore(inner) {}
  void add(const store::Batch& b, const store::AddCallback& done) override {
    if (calls_++ == 0) entered_.count_down();
    release_.wait();
    batches_.push_back(b.keys.size() == 1 ? std::int64_t(b.keys[0].hits.size()) : -1);
    inner_.add(b, done);
  }
  store::StoreResult<std::optional<Totals>> get(std::string_view k) override {
    return inner_.get(k);
  }
  store::StoreResult<std::string> salt(std::string_view day) override { return inner_.salt(day); }
  store::StoreResult<bool> forget_before(std::string_view day) override {
    return inner_.forget_before(day);
  }
  store::StoreResult<void> ping() override { return {}; }

  std::latch entered_{1};
  std::latch release_{1};
  std::vector<std::int64_t> batches_;  // the hits of each single-key batch, -1 for several keys
  int calls_ = 0;                      // only the worker thread calls add()

 private:
};

// A store that defers its sync, with sync() held until released and failing on demand.
class DeferredSyncStore final : public testing_support::ForwardingStore {
 public:
  explicit DeferredSyncStore(store::Store& inner) : ForwardingStore(inner) {}
  void add(const store::Batch& b, const store::AddCallback& done) override {
    inner_.add(b, done);
    ++adds_;
  }
  store::StoreResult<std::optional<Totals>> get(std::string_view k) override {
    return inner_.get(k);
  }
  store::StoreResult<std::string> salt(std::string_view day) override { return inner_.salt(day); }
  store::StoreResult<bool> forget_before(std::string_view day) override {
    return inner_.forget_before(day);
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
  std::atomic<int> adds_{0};
  bool fail_ = false;

 private:
};

TEST(WriteCombiner, DeferredSyncAcknowledgesOnlyAfterTheSync) {
  store::MemoryStore memory;
  DeferredSyncStore deferred(memory);
  metrics::Registry metrics;
  WriteCombiner combiner(deferred, metrics);
  std::promise<HitResult> answer;
  combiner.hit("k", anyone(), [&](auto v) { answer.set_value(v.value()); });
  EXPECT_EQ(read_and_wait(combiner, "k"), (Totals{.views = 1, .visitors = 1}));  // applied...
  auto pending = answer.get_future();
  EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  EXPECT_EQ(deferred.syncs_, 0);  // ...but not acknowledged before its sync
  deferred.release_.count_down();
  EXPECT_EQ(pending.get(), (HitResult{Seen::new_visitor, {.views = 1, .visitors = 1}}));
  EXPECT_GE(deferred.syncs_, 1);
}

// Every sync is measured: /metrics has how many there were, how long they took and how many
// hits they made durable, and the thread that runs them is named for `top -H` and the bench.
TEST(WriteCombiner, SyncsAreMeasuredAndRunOnANamedThread) {
  store::MemoryStore memory;
  DeferredSyncStore deferred(memory);
  metrics::Registry metrics;
  WriteCombiner combiner(deferred, metrics);
  std::vector<std::promise<store::StoreResult<HitResult>>> answers(20);
  for (auto& answer : answers) {
    combiner.hit("k", anyone(), [&answer](auto v) { answer.set_value(v); });
  }
  deferred.release_.count_down();
  for (auto& answer : answers) ASSERT_TRUE(answer.get_future().get().has_value());
  const std::string text = metrics.render();
  EXPECT_NE(text.find("vc_store_sync_hits_sum 20\n"), std::string::npos) << text;
  EXPECT_NE(
      text.find("vc_store_sync_seconds_count " + std::to_string(deferred.syncs_.load()) + "\n"),
      std::string::npos)
      << text;
  std::set<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.insert(name);
  }
  EXPECT_TRUE(names.contains("vc-syncer"));
}

TEST(WriteCombiner, FailedSyncFailsTheHitsOfThatSync) {
  store::MemoryStore memory;
  DeferredSyncStore deferred(memory);
  deferred.fail_ = true;
  deferred.release_.count_down();
  metrics::Registry metrics;
  WriteCombiner combiner(deferred, metrics);
  std::vector<std::promise<store::StoreResult<HitResult>>> answers(20);
  for (auto& answer : answers) {
    combiner.hit("k", anyone(), [&answer](auto v) { answer.set_value(v); });
  }
  // Applied but not made durable: the hits may or may not survive, so "unknown".
  for (auto& answer : answers) {
    auto value = answer.get_future().get();
    ASSERT_FALSE(value.has_value());
    EXPECT_EQ(value.error().kind, store::StoreError::Kind::outcome_unknown);
  }
  combiner.stop();
  EXPECT_NE(metrics.render().find("vc_hits_outcome_unknown_total 20\n"), std::string::npos);
}

// `senders` threads each count `hits_each` hits on one key at once: every hit gets its own value,
// with no gap, and the store ends at their number.
void expect_distinct_gap_free_values(WriteCombiner& combiner, store::Store& store, int senders,
                                     int hits_each) {
  std::mutex mutex;
  std::vector<std::int64_t> values;
  std::latch all_done(senders * hits_each);
  std::vector<std::thread> threads;
  for (int t = 0; t < senders; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < hits_each; ++i) {
        combiner.hit("k", anyone(), [&](store::StoreResult<HitResult> v) {
          std::lock_guard lock(mutex);
          values.push_back(v.value().totals.views);
          all_done.count_down();
        });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  all_done.wait();
  std::ranges::sort(values);
  ASSERT_EQ(values.size(), static_cast<std::size_t>(senders * hits_each));
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], std::int64_t(i) + 1);
  combiner.stop();  // the store is the combiner's until then
  EXPECT_EQ(*store.get("k").value(), (Totals{.views = senders * hits_each, .visitors = 1}));
}

TEST(WriteCombiner, ConcurrentHitsGetDistinctGapFreeValues) {
  store::MemoryStore memory;
  metrics::Registry metrics;
  WriteCombiner combiner(memory, metrics);
  expect_distinct_gap_free_values(combiner, memory, 8, 500);
}

// Every thread sends each of its visitors twice in a row: the first counts a visitor, the
// second only a view, and the answers are as distinct as separate atomic increments.
TEST(WriteCombiner, ConcurrentDistinctVisitorsGetExactDistinctTotals) {
  store::MemoryStore memory;
  metrics::Registry metrics;
  WriteCombiner combiner(memory, metrics);
  constexpr int kThreads = 8, kVisitors = 200;
  constexpr std::int64_t kDistinct = kThreads * kVisitors;
  std::mutex mutex;
  std::vector<HitResult> results;
  std::latch all_done(2 * kDistinct);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kVisitors; ++i) {
        for (int twice = 0; twice < 2; ++twice) {
          combiner.hit("k", visitor("10.0." + std::to_string(t) + "." + std::to_string(i)),
                       [&](store::StoreResult<HitResult> v) {
                         std::lock_guard lock(mutex);
                         results.push_back(v.value());
                         all_done.count_down();
                       });
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  all_done.wait();
  std::set<std::int64_t> views, new_visitors;
  for (const HitResult& result : results) {
    views.insert(result.totals.views);
    EXPECT_NE(result.seen, Seen::repeat);
    EXPECT_LE(result.totals.visitors, result.totals.views);
    if (result.seen == Seen::new_visitor) new_visitors.insert(result.totals.visitors);
  }
  ASSERT_EQ(views.size(), std::size_t(2 * kDistinct));  // distinct...
  EXPECT_EQ(*views.begin(), 1);                         // ...and gap-free
  EXPECT_EQ(*views.rbegin(), 2 * kDistinct);
  ASSERT_EQ(new_visitors.size(), std::size_t(kDistinct));
  EXPECT_EQ(*new_visitors.begin(), 1);
  EXPECT_EQ(*new_visitors.rbegin(), kDistinct);
  EXPECT_EQ(*memory.get("k").value(), (Totals{.views = 2 * kDistinct, .visitors = kDistinct}));
}

TEST(WriteCombiner, HitsWaitingOnACommitBecomeOneBatch) {
  store::MemoryStore memory;
  GateStore gate(memory);
  metrics::Registry metrics;
  WriteCombiner combiner(gate, metrics);
  std::vector<std::promise<std::int64_t>> answers(100);
  combiner.hit("k", anyone(), [&](auto v) { answers[0].set_value(v.value().totals.views); });
  gate.entered_.wait();  // the first batch is inside the store
  for (std::size_t i = 1; i < answers.size(); ++i) {
    combiner.hit("k", anyone(),
                 [&answers, i](auto v) { answers[i].set_value(v.value().totals.views); });
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
  FailingStore failing(memory);
  metrics::Registry metrics;
  WriteCombiner combiner(failing, metrics);
  failing.set_failing(FailingStore::Call::add, true);
  std::vector<std::promise<store::StoreResult<HitResult>>> answers(50);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    combiner.hit(i % 2 ? "a" : "b", anyone(), [&answers, i](auto v) { answers[i].set_value(v); });
  }
  for (auto& answer : answers) {
    const auto result = answer.get_future().get();
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().kind, store::StoreError::Kind::failed);
  }
  EXPECT_GE(failing.add_calls(), 1);
  failing.set_failing(false);
  EXPECT_EQ(memory.get("a").value(), std::nullopt);
  EXPECT_EQ(memory.get("b").value(), std::nullopt);
}

TEST(WriteCombiner, ASaltFailureFailsTheBatchesHitsAsNotCounted) {
  store::MemoryStore memory;
  FailingStore failing(memory);
  metrics::Registry metrics;
  WriteCombiner combiner(failing, metrics);
  failing.set_failing(FailingStore::Call::salt, true);
  std::vector<std::promise<store::StoreResult<HitResult>>> answers(10);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    combiner.hit(i % 2 ? "a" : "b", visitor("203.0.113." + std::to_string(i)),
                 [&answers, i](auto v) { answers[i].set_value(v); });
  }
  for (auto& answer : answers) {
    const auto result = answer.get_future().get();
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().kind, store::StoreError::Kind::failed);  // not counted
  }
  EXPECT_GE(failing.calls(FailingStore::Call::salt), 1);
  EXPECT_EQ(failing.add_calls(), 0);  // nothing reached the store
  EXPECT_EQ(memory.get("a").value(), std::nullopt);
  const std::string text = metrics.render();
  EXPECT_EQ(metric(text, "vc_hits_total"), 0) << text;
  EXPECT_GE(metric(text, "vc_failed_batches_total"), 1) << text;
  EXPECT_EQ(metric(text, "vc_hits_outcome_unknown_total"), 0) << text;
  // The salt is asked again for the next batch.
  failing.set_failing(FailingStore::Call::salt, false);
  EXPECT_EQ(hit_and_wait(combiner, "a", visitor("203.0.113.1")).value(),
            (HitResult{Seen::new_visitor, {.views = 1, .visitors = 1}}));
}

TEST(WriteCombiner, VisitorIdsUseTheDaysSaltWhichRotatesAtUtcMidnight) {
  store::MemoryStore memory;
  RecordingStore recording(memory);
  metrics::Registry metrics;
  FakeClock wall(std::chrono::sys_days{std::chrono::year{2026} / 1 / 1} + 23h + 59min + 58s);
  WriteCombiner combiner(recording, metrics, clocked(wall.clock()));
  const Visitor alice = visitor("198.51.100.7");

  EXPECT_EQ(hit_and_wait(combiner, "k", alice).value(),
            (HitResult{Seen::new_visitor, {.views = 1, .visitors = 1}}));
  wall.advance(1s);  // 23:59:59, the same day
  EXPECT_EQ(hit_and_wait(combiner, "k", alice).value(),
            (HitResult{Seen::returning, {.views = 2, .visitors = 1}}));
  wall.advance(2s);  // 00:00:01 on 2026-01-02
  std::promise<std::pair<HitResult, std::size_t>> first_of_day;
  combiner.hit("k", alice, [&](auto v) {  // on the combiner's thread, inside the commit
    first_of_day.set_value({v.value(), memory.marks()});
  });
  const auto [result, marks_when_answered] = first_of_day.get_future().get();
  EXPECT_EQ(result, (HitResult{Seen::new_visitor, {.views = 3, .visitors = 2}}));
  // The day's first batch is answered before yesterday is forgotten: its mark was there.
  EXPECT_EQ(marks_when_answered, 2U);
  read_and_wait(combiner, "k");  // queued after the commit, so after the forgetting too

  // One salt per day, asked when the day changed, and the days before it forgotten.
  const auto salts = recording.salts();
  ASSERT_EQ(salts.size(), 2U);
  EXPECT_EQ(salts[0].first, "2026-01-01");
  EXPECT_EQ(salts[1].first, "2026-01-02");
  EXPECT_NE(salts[0].second, salts[1].second);
  EXPECT_EQ(recording.forgotten(), (std::vector<std::string>{"2026-01-01", "2026-01-02"}));

  const auto batches = recording.batches();
  ASSERT_EQ(batches.size(), 3U);
  EXPECT_EQ(batches[0].day, "2026-01-01");
  EXPECT_EQ(batches[1].day, "2026-01-01");
  EXPECT_EQ(batches[2].day, "2026-01-02");
  EXPECT_EQ(batches[2].now, wall.seconds());
  const std::int64_t jan3 =
      std::chrono::sys_seconds{std::chrono::sys_days{std::chrono::year{2026} / 1 / 3}}
          .time_since_epoch()
          .count();
  EXPECT_EQ(batches[2].marker_expires, jan3);
  // The id is the visitor's HMAC under that day's salt: the same all day, another the next.
  const std::string day1_id = batches[0].visitors.at("k").at(0);
  const std::string day2_id = batches[2].visitors.at("k").at(0);
  EXPECT_EQ(day1_id, policy::visitor_id(salts[0].second, alice.client, alice.user_agent, "k"));
  EXPECT_EQ(batches[1].visitors.at("k").at(0), day1_id);
  EXPECT_EQ(day2_id, policy::visitor_id(salts[1].second, alice.client, alice.user_agent, "k"));
  EXPECT_NE(day1_id, day2_id);
  // Yesterday's marks went with its salt; the history stays.
  EXPECT_EQ(memory.marks(), 1U);
  EXPECT_EQ(memory.day_row("k", "2026-01-01"), (Totals{.views = 2, .visitors = 1}));
  EXPECT_EQ(memory.day_row("k", "2026-01-02"), (Totals{.views = 1, .visitors = 1}));
}

TEST(WriteCombiner, AClockSteppingBackAcrossMidnightNeverCountsIntoADayThatIsOver) {
  store::MemoryStore memory;
  RecordingStore recording(memory);
  metrics::Registry metrics;
  FakeClock wall(std::chrono::sys_days{std::chrono::year{2026} / 1 / 2} + 5s);
  WriteCombiner combiner(recording, metrics, clocked(wall.clock()));
  const Visitor alice = visitor("198.51.100.7");
  EXPECT_EQ(hit_and_wait(combiner, "k", alice).value(),
            (HitResult{Seen::new_visitor, {.views = 1, .visitors = 1}}));
  wall.advance(-10s);                                    // back to 23:59:55 on 2026-01-01
  EXPECT_EQ(hit_and_wait(combiner, "k", alice).value(),  // the same visitor, the same day
            (HitResult{Seen::returning, {.views = 2, .visitors = 1}}));
  combiner.stop();
  ASSERT_EQ(recording.salts().size(), 1U);  // no salt made again for the day that is over
  EXPECT_EQ(recording.salts()[0].first, "2026-01-02");
  const auto batches = recording.batches();
  ASSERT_EQ(batches.size(), 2U);
  EXPECT_EQ(batches[1].day, "2026-01-02");
  EXPECT_EQ(batches[1].now, wall.seconds() + 5);  // the start of 2026-01-02
  EXPECT_EQ(memory.day_row("k", "2026-01-01"), Totals{});
}

TEST(WriteCombiner, DeletingTheDaysBeforeIsRetriedAfterEachBatchUntilDone) {
  store::MemoryStore memory;
  FailingStore failing(memory);
  RecordingStore recording(failing);
  metrics::Registry metrics;
  FakeClock wall(std::chrono::sys_days{std::chrono::year{2026} / 1 / 2} + 1h);
  WriteCombiner combiner(recording, metrics, clocked(wall.clock()));
  // Each hit, then a read queued behind it: the delete after its batch has run by then.
  const auto hit_then_settle = [&] {
    EXPECT_TRUE(hit_and_wait(combiner, "k", anyone()).has_value());
    read_and_wait(combiner, "k");
  };
  failing.set_failing(FailingStore::Call::forget_before, true);
  for (int i = 0; i < 3; ++i) hit_then_settle();
  failing.set_failing(FailingStore::Call::forget_before, false);
  hit_then_settle();  // this one's delete succeeds
  hit_then_settle();  // nothing left to do
  combiner.stop();
  EXPECT_EQ(recording.forgotten(), std::vector<std::string>(4, "2026-01-02"));
}

TEST(WriteCombiner, RepeatWindowComesFromTheOptions) {
  store::MemoryStore memory;
  RecordingStore recording(memory);
  metrics::Registry metrics;
  FakeClock wall(std::chrono::sys_days{std::chrono::year{2026} / 3 / 1} + 12h);
  WriteCombiner combiner(recording, metrics, clocked(wall.clock(), 60s));
  const Visitor alice = visitor("198.51.100.7");
  EXPECT_EQ(hit_and_wait(combiner, "k", alice).value(),
            (HitResult{Seen::new_visitor, {.views = 1, .visitors = 1}}));
  wall.advance(30s);
  EXPECT_EQ(hit_and_wait(combiner, "k", alice).value(),
            (HitResult{Seen::repeat, {.views = 1, .visitors = 1}}));
  EXPECT_EQ(hit_and_wait(combiner, "k", visitor("198.51.100.8")).value(),
            (HitResult{Seen::new_visitor, {.views = 2, .visitors = 2}}));
  EXPECT_EQ(hit_and_wait(combiner, "other", alice).value(),  // the window is per counter
            (HitResult{Seen::new_visitor, {.views = 1, .visitors = 1}}));
  wall.advance(31s);
  EXPECT_EQ(hit_and_wait(combiner, "k", alice).value(),
            (HitResult{Seen::returning, {.views = 3, .visitors = 2}}));
  EXPECT_EQ(recording.batches().at(0).repeat_window, 60);
  combiner.stop();
  const std::string text = metrics.render();
  EXPECT_NE(text.find("vc_hits_total 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vc_hits_ignored_total{reason=\"repeat\"} 1\n"), std::string::npos) << text;
}

TEST(WriteCombiner, UntrackedVisitorsCountViewsButNoVisitors) {
  store::MemoryStore memory;
  RecordingStore recording(memory);
  metrics::Registry metrics;
  WriteCombiner combiner(recording, metrics, clocked({}, 3600s));
  Visitor proxy = visitor("140.82.115.1");
  proxy.user_agent = "github-camo (1)";
  proxy.tracked = false;
  for (std::int64_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(hit_and_wait(combiner, "k", proxy).value(),
              (HitResult{Seen::returning, {.views = i, .visitors = 0}}));
  }
  EXPECT_EQ(memory.marks(), 0U);
  for (const auto& batch : recording.batches()) {
    for (const std::string& id : batch.visitors.at("k")) EXPECT_EQ(id, "");
  }
  // No visitor id to make, so no salt asked for (the classic profile never asks one).
  EXPECT_TRUE(recording.salts().empty());
  // The same address and agent, tracked, is a visitor.
  Visitor tracked = proxy;
  tracked.tracked = true;
  EXPECT_EQ(hit_and_wait(combiner, "k", tracked).value(),
            (HitResult{Seen::new_visitor, {.views = 4, .visitors = 1}}));
  EXPECT_EQ(recording.salts().size(), 1U);
}

TEST(WriteCombiner, PrefetchSaltAsksForTodaysSaltBeforeAnyHitAndTheHitUsesIt) {
  store::MemoryStore memory;
  RecordingStore recording(memory);
  metrics::Registry metrics;
  FakeClock wall(std::chrono::sys_days{std::chrono::year{2026} / 3 / 4} + 12h);
  WriteCombiner combiner(recording, metrics, clocked(wall.clock()));
  combiner.prefetch_salt();
  read_and_wait(combiner, "k");  // queued after the prefetch, so answered after it
  ASSERT_EQ(recording.salts().size(), 1U);
  EXPECT_EQ(recording.salts()[0].first, "2026-03-04");
  EXPECT_TRUE(recording.batches().empty());
  EXPECT_EQ(hit_and_wait(combiner, "k", anyone()).value(),
            (HitResult{Seen::new_visitor, {.views = 1, .visitors = 1}}));
  EXPECT_EQ(recording.salts().size(), 1U);  // the hit took the fetched one
}

TEST(WriteCombiner, APrefetchThatFailsIsForgottenAndTheFirstHitAsksAgain) {
  store::MemoryStore memory;
  FailingStore failing(memory);
  metrics::Registry metrics;
  WriteCombiner combiner(failing, metrics);
  failing.set_failing(FailingStore::Call::salt, true);
  combiner.prefetch_salt();
  read_and_wait(combiner, "k");
  EXPECT_EQ(failing.calls(FailingStore::Call::salt), 1);
  failing.set_failing(FailingStore::Call::salt, false);
  EXPECT_EQ(hit_and_wait(combiner, "k", anyone()).value(),
            (HitResult{Seen::new_visitor, {.views = 1, .visitors = 1}}));
  EXPECT_EQ(failing.calls(FailingStore::Call::salt), 2);
}

TEST(WriteCombiner, APrefetchAfterStopAsksTheStoreNothing) {
  store::MemoryStore memory;
  FailingStore counting_calls(memory);
  metrics::Registry metrics;
  WriteCombiner combiner(counting_calls, metrics);
  combiner.stop();
  combiner.prefetch_salt();
  EXPECT_EQ(counting_calls.calls(FailingStore::Call::salt), 0);
}

TEST(WriteCombiner, WithoutHistoryNoDayRowIsWritten) {
  store::MemoryStore memory;
  metrics::Registry metrics;
  FakeClock wall(std::chrono::sys_days{std::chrono::year{2026} / 3 / 4} + 12h);
  CombinerOptions options = clocked(wall.clock());
  options.history = false;
  WriteCombiner combiner(memory, metrics, std::move(options));
  Visitor untracked = anyone();
  untracked.tracked = false;
  EXPECT_EQ(hit_and_wait(combiner, "k", untracked).value(),
            (HitResult{Seen::returning, {.views = 1, .visitors = 0}}));
  EXPECT_EQ(read_and_wait(combiner, "k"), (Totals{.views = 1, .visitors = 0}));
  EXPECT_TRUE(memory.history("k", "2026-03-01", "2026-03-31").value().empty());
}

TEST(WriteCombiner, ReadsSeeEarlierWrites) {
  store::MemoryStore memory;
  metrics::Registry metrics;
  WriteCombiner combiner(memory, metrics);
  combiner.hit("k", visitor("192.0.2.1"), [](auto) {});
  combiner.hit("k", visitor("192.0.2.2"), [](auto) {});
  combiner.hit("k", visitor("192.0.2.1"), [](auto) {});
  EXPECT_EQ(read_and_wait(combiner, "k"), (Totals{.views = 3, .visitors = 2}));
  EXPECT_EQ(read_and_wait(combiner, "never"), std::nullopt);
}

TEST(WriteCombiner, AfterStopCallsFailFast) {
  store::MemoryStore memory;
  metrics::Registry metrics;
  WriteCombiner combiner(memory, metrics);
  combiner.stop();
  bool failed = false;
  combiner.hit("k", anyone(), [&](auto v) { failed = !v.has_value(); });
  EXPECT_TRUE(failed);
  bool read_failed = false;
  combiner.read("k", [&](auto v) { read_failed = !v.has_value(); });
  EXPECT_TRUE(read_failed);
  EXPECT_EQ(memory.get("k").value(), std::nullopt);
}

// Reports a batch's keys in reverse order, each from a thread of its own, as a store that
// writes keys independently (DynamoDB) may.
class ScatteringStore final : public testing_support::ForwardingStore {
 public:
  explicit ScatteringStore(store::Store& inner) : ForwardingStore(inner) {}
  void add(const store::Batch& b, const store::AddCallback& done) override {
    std::vector<store::StoreResult<std::vector<HitResult>>> results(b.keys.size());
    inner_.add(b, [&](std::size_t i, auto value) { results[i] = std::move(value); });
    std::vector<std::thread> threads;
    for (std::size_t i = b.keys.size(); i-- > 0;) {
      threads.emplace_back([&done, &results, i] { done(i, results[i]); });
      threads.back().join();  // one at a time: the order is what is tested
    }
  }
  store::StoreResult<std::optional<Totals>> get(std::string_view k) override {
    return inner_.get(k);
  }
  store::StoreResult<std::string> salt(std::string_view day) override { return inner_.salt(day); }
  store::StoreResult<bool> forget_before(std::string_view day) override {
    return inner_.forget_before(day);
  }
  store::StoreResult<void> ping() override { return {}; }

 private:
};

// Hits on several keys queued behind one commit form one multi-key batch; each key's
// waiters get exactly that key's values.
void expect_each_key_gets_its_own_values(store::Store& inner, GateStore& gate) {
  metrics::Registry metrics;
  WriteCombiner combiner(gate, metrics);
  std::promise<std::int64_t> first;
  combiner.hit("warm-up", anyone(), [&](auto v) { first.set_value(v.value().totals.views); });
  gate.entered_.wait();
  const std::map<std::string, int> hits = {{"a", 3}, {"b", 5}, {"c", 1}, {"d/e", 4}};
  std::mutex mutex;
  std::map<std::string, std::vector<std::int64_t>> got;
  std::latch answered(13);
  for (const auto& [key, n] : hits) {
    for (int i = 0; i < n; ++i) {
      combiner.hit(key, visitor("192.0.2." + std::to_string(i)), [&, key](auto v) {
        std::lock_guard lock(mutex);
        got[key].push_back(v.value().totals.views);
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
    EXPECT_EQ(*inner.get(key).value(), (Totals{.views = n, .visitors = n})) << key;
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

TEST(WriteCombiner, AHitNotSentByItsDeadlineIsRefusedThenAndNeverApplied) {
  store::MemoryStore memory;
  GateStore gate(memory);
  metrics::Registry metrics;
  CombinerOptions options;
  options.queue_timeout = 50ms;
  WriteCombiner combiner(gate, metrics, std::move(options));
  std::promise<bool> first;
  combiner.hit("held", anyone(), [&](auto v) { first.set_value(v.has_value()); });
  gate.entered_.wait();  // the store holds the first batch: the next hits wait in the queue
  std::vector<std::promise<store::StoreError>> late(3);
  for (auto& answer : late) {
    combiner.hit("late", anyone(), [&answer](auto v) { answer.set_value(v.error()); });
  }
  for (auto& answer : late) {  // answered while the store still holds the first batch
    const store::StoreError error = answer.get_future().get();
    EXPECT_EQ(error.kind, store::StoreError::Kind::overloaded);
  }
  gate.release_.count_down();
  EXPECT_TRUE(first.get_future().get());
  EXPECT_EQ(hit_and_wait(combiner, "other", anyone()).value().totals.views, 1);
  combiner.stop();
  EXPECT_EQ(memory.get("late").value(), std::nullopt);  // never applied
  EXPECT_NE(metrics.render().find("vc_queue_timeouts_total 3\n"), std::string::npos);
  EXPECT_NE(metrics.render().find("vc_pending 0\n"), std::string::npos);
}

TEST(WriteCombiner, PastMaxPendingHitsAndReadsAreShedAtOnce) {
  store::MemoryStore memory;
  GateStore gate(memory);
  metrics::Registry metrics;
  CombinerOptions bounded;
  bounded.max_pending = 3;
  WriteCombiner combiner(gate, metrics, std::move(bounded));
  std::vector<std::promise<bool>> held(3);
  for (auto& answer : held) {
    combiner.hit("k", anyone(), [&answer](auto v) { answer.set_value(v.has_value()); });
  }
  gate.entered_.wait();
  std::optional<store::StoreError> shed_hit, shed_read;
  combiner.hit("k", anyone(), [&](auto v) { shed_hit = v.error(); });  // answered at once
  combiner.read("k", [&](auto v) { shed_read = v.error(); });
  ASSERT_TRUE(shed_hit && shed_read);
  EXPECT_EQ(shed_hit->kind, store::StoreError::Kind::overloaded);
  EXPECT_EQ(shed_read->kind, store::StoreError::Kind::overloaded);
  bool healthy = false;
  combiner.ping([&](Health health) { healthy = health == Health::ok; });  // pings are not bounded
  gate.release_.count_down();
  for (auto& answer : held) EXPECT_TRUE(answer.get_future().get());
  EXPECT_EQ(hit_and_wait(combiner, "k", anyone()).value().totals.views, 4);  // room again
  combiner.stop();
  EXPECT_TRUE(healthy);
  EXPECT_NE(metrics.render().find("vc_shed_total 2\n"), std::string::npos);
  EXPECT_NE(metrics.render().find("vc_pending 0\n"), std::string::npos);
}

// Stands in for the HTTP server's I/O threads: `threads` threads running posted work in
// order until destroyed.
class Loop {
 public:
  explicit Loop(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  ~Loop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& thread : threads_) thread.join();
  }
  Runner runner() {
    return [this](std::move_only_function<void()> work) {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(work));
      ++posted_;
      wake_.notify_one();
    };
  }
  int posted() {
    std::lock_guard lock(mutex_);
    return posted_;
  }

 private:
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto job = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::move_only_function<void()>> queue_;
  int posted_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

CombinerOptions on(Loop& loop) {
  CombinerOptions options;
  options.run_on = loop.runner();
  return options;
}

// Turns on two loop threads: never two at once (the store is not thread-safe), and the hits
// still get distinct, gap-free values.
TEST(WriteCombinerOnRunner, ConcurrentHitsGetDistinctGapFreeValues) {
  store::MemoryStore memory;
  metrics::Registry metrics;
  Loop loop(2);
  WriteCombiner combiner(memory, metrics, on(loop));
  expect_distinct_gap_free_values(combiner, memory, 4, 500);
  EXPECT_LT(loop.posted(), 4 * 500);  // one turn took many hits
}

// While a turn is in the store, new hits schedule no second turn; the next turn takes them
// all as one batch.
TEST(WriteCombinerOnRunner, HitsWaitingOnATurnBecomeOneBatch) {
  store::MemoryStore memory;
  GateStore gate(memory);
  metrics::Registry metrics;
  Loop loop(2);
  WriteCombiner combiner(gate, metrics, on(loop));
  std::vector<std::promise<std::int64_t>> answers(50);
  combiner.hit("k", anyone(), [&](auto v) { answers[0].set_value(v.value().totals.views); });
  gate.entered_.wait();
  for (std::size_t i = 1; i < answers.size(); ++i) {
    combiner.hit("k", anyone(),
                 [&answers, i](auto v) { answers[i].set_value(v.value().totals.views); });
  }
  EXPECT_EQ(loop.posted(), 1);
  gate.release_.count_down();
  std::set<std::int64_t> seen;
  for (auto& answer : answers) seen.insert(answer.get_future().get());
  EXPECT_EQ(gate.batches_, (std::vector<std::int64_t>{1, 49}));
  EXPECT_EQ(seen.size(), 50U);
  EXPECT_EQ(loop.posted(), 2);
}

// A slow sync: one batch more is applied behind it, then turns are held, so the hits after
// it wait in the queue, where their deadline refuses them, never applied.
TEST(WriteCombinerOnRunner, HitsDuringASlowSyncWaitInTheQueueAndMeetTheirDeadline) {
  store::MemoryStore memory;
  DeferredSyncStore deferred(memory);
  metrics::Registry metrics;
  Loop loop(1);
  CombinerOptions options = on(loop);
  options.queue_timeout = 100ms;  // a sync is slow after 25 ms
  WriteCombiner combiner(deferred, metrics, std::move(options));
  std::promise<bool> a, b;
  std::promise<store::StoreResult<HitResult>> c;
  combiner.hit("a", anyone(), [&](auto v) { a.set_value(v.has_value()); });
  while (deferred.adds_ < 1) std::this_thread::yield();
  std::this_thread::sleep_for(50ms);  // the sync of "a" (held) is slow now
  combiner.hit("b", anyone(), [&](auto v) { b.set_value(v.has_value()); });
  while (deferred.adds_ < 2) std::this_thread::yield();  // one batch more behind the sync
  combiner.hit("c", anyone(), [&](auto v) { c.set_value(std::move(v)); });
  auto c_answer = c.get_future();
  const bool answered_first = c_answer.wait_for(10s) == std::future_status::ready;
  EXPECT_EQ(deferred.adds_, 2);  // "c" was never applied
  deferred.release_.count_down();
  ASSERT_TRUE(answered_first) << "\"c\" waited for the slow sync, not for its deadline";
  const auto refused = c_answer.get();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, store::StoreError::Kind::overloaded);
  EXPECT_TRUE(a.get_future().get());
  EXPECT_TRUE(b.get_future().get());
  EXPECT_EQ(hit_and_wait(combiner, "d", anyone()).value().totals.views, 1);  // turns resumed
  combiner.stop();
  EXPECT_EQ(memory.get("c").value(), std::nullopt);
}

TEST(WriteCombinerOnRunner, DeferredSyncAcknowledgesOnlyAfterTheSync) {
  store::MemoryStore memory;
  DeferredSyncStore deferred(memory);
  metrics::Registry metrics;
  Loop loop(1);
  WriteCombiner combiner(deferred, metrics, on(loop));
  std::promise<HitResult> answer;
  combiner.hit("k", anyone(), [&](auto v) { answer.set_value(v.value()); });
  EXPECT_EQ(read_and_wait(combiner, "k"), (Totals{.views = 1, .visitors = 1}));  // applied...
  auto pending = answer.get_future();
  EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  deferred.release_.count_down();  // ...and acknowledged once synced
  EXPECT_EQ(pending.get(), (HitResult{Seen::new_visitor, {.views = 1, .visitors = 1}}));
}

// The server stops its threads before the combiner: stop() itself applies and answers what
// queued turns would have.
TEST(WriteCombinerOnRunner, StopAppliesWhatNoTurnRan) {
  store::MemoryStore memory;
  metrics::Registry metrics;
  std::vector<std::move_only_function<void()>> never_run;
  CombinerOptions options;
  options.run_on = [&](std::move_only_function<void()> work) {
    never_run.push_back(std::move(work));
  };
  WriteCombiner combiner(memory, metrics, std::move(options));
  std::vector<std::int64_t> views;
  for (int i = 0; i < 3; ++i) {
    combiner.hit("k", anyone(), [&](auto v) { views.push_back(v.value().totals.views); });
  }
  bool read = false;
  combiner.with_store([&](store::Store& s) { read = s.get("k").value().has_value(); });
  EXPECT_EQ(never_run.size(), 1U);
  EXPECT_TRUE(views.empty());
  combiner.stop();
  EXPECT_EQ(views, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_TRUE(read);
}

}  // namespace
}  // namespace counting
