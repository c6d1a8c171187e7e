// The owner's store operations on the memory store and on a real SQLite file alike: history
// ranges, listing by prefix with paging and last days, setting totals, removing a counter
// with everything of it, importing in both modes, and dumping in key order.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "store/memory/memory_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/add_results.hpp"
#include "support/keep_days_contract.hpp"
#include "support/max_counters_contract.hpp"
#include "support/no_history_contract.hpp"

namespace store {
namespace {

using testing_support::add_all;
using testing_support::HitBatch;

const std::vector<CounterRecord> kRecords = {
    {"a", {10, 4}, {{"2026-01-01", {3, 1}}, {"2026-01-05", {7, 3}}}},
    {"b/c", {2, 2}, {}},
    {"b/d", {5, 5}, {{"2026-01-03", {5, 5}}}},
    {"c", {1, 0}, {{"2025-12-31", {1, 0}}}},
};

class OwnerOpsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "memory") {
      store_ = std::make_unique<MemoryStore>();
      return;
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("vc-owner-ops-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto opened = SqliteStore::open((dir_ / "counter.db").string(), SyncMode::full);
    ASSERT_TRUE(opened) << opened.error();
    store_ = std::move(*opened);
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::vector<CounterRecord> dumped() {
    std::vector<CounterRecord> records;
    std::size_t announced = 0;
    auto done = store_->dump([&](CounterRecord&& record, std::size_t total) {
      announced = total;
      records.push_back(std::move(record));
    });
    EXPECT_TRUE(done);
    EXPECT_EQ(announced, records.size());
    return records;
  }

  std::unique_ptr<Store> store_;
  std::filesystem::path dir_;
};

TEST_P(OwnerOpsTest, ImportSetIsIdempotentAndDumpReturnsItInKeyOrder) {
  ASSERT_TRUE(store_->import(kRecords, ImportMode::set));
  ASSERT_TRUE(store_->import(kRecords, ImportMode::set));
  EXPECT_EQ(dumped(), kRecords);
  ASSERT_TRUE(store_->import(std::span(kRecords).first(1), ImportMode::add));
  const auto twice = dumped().front();
  EXPECT_EQ(twice.totals, (Totals{20, 8}));
  EXPECT_EQ(twice.days[1], (DayRow{"2026-01-05", {14, 6}}));
}

TEST_P(OwnerOpsTest, HistoryReturnsTheRowsInTheRange) {
  ASSERT_TRUE(store_->import(kRecords, ImportMode::set));
  auto rows = store_->history("a", "2026-01-02", "2026-01-31");
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, (std::vector<DayRow>{{"2026-01-05", {7, 3}}}));
  EXPECT_EQ(store_->history("a", "2026-01-01", "2026-01-05")->size(), 2U);
  EXPECT_TRUE(store_->history("zzz", "2026-01-01", "2026-01-05")->empty());
}

TEST_P(OwnerOpsTest, ListFiltersByPrefixPagesAndKnowsTheLastDay) {
  ASSERT_TRUE(store_->import(kRecords, ImportMode::set));
  auto all = store_->list("", "", 10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->counters.size(), 4U);
  EXPECT_EQ(all->counters[0], (CounterInfo{"a", {10, 4}, "2026-01-05"}));
  EXPECT_EQ(all->counters[1].last_day, "");
  EXPECT_EQ(all->next, "");
  auto first = store_->list("b/", "", 1);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->counters.size(), 1U);
  EXPECT_EQ(first->counters[0].key, "b/c");
  EXPECT_EQ(first->next, "b/c");
  auto second = store_->list("b/", first->next, 1);
  ASSERT_EQ(second->counters.size(), 1U);
  EXPECT_EQ(second->counters[0].key, "b/d");
  EXPECT_EQ(second->next, "");
}

TEST_P(OwnerOpsTest, SetTotalsChangesOnlyWhatIsGiven) {
  ASSERT_TRUE(store_->import(kRecords, ImportMode::set));
  ASSERT_TRUE(store_->set_totals("a", 1000, std::nullopt));
  EXPECT_EQ(**store_->get("a"), (Totals{1000, 4}));
  ASSERT_TRUE(store_->set_totals("new", std::nullopt, 7));
  EXPECT_EQ(**store_->get("new"), (Totals{0, 7}));
  EXPECT_EQ(store_->history("a", "2026-01-01", "2026-12-31")->size(), 2U);
}

TEST_P(OwnerOpsTest, RemoveTakesTheCounterItsHistoryAndItsMarks) {
  HitBatch batch({{"a", {"v1"}}, {"b/c", {"v2"}}}, {.day = "2026-01-05", .now = 100});
  add_all(*store_, batch.batch());
  ASSERT_TRUE(store_->import(kRecords, ImportMode::set));
  EXPECT_EQ(store_->remove("a"), true);
  EXPECT_EQ(store_->remove("a"), false);
  EXPECT_FALSE(*store_->get("a"));
  EXPECT_TRUE(store_->history("a", "2026-01-01", "2026-12-31")->empty());
  EXPECT_TRUE(*store_->get("b/c"));
  // The visitor counted on "a" that day is new again: its mark went with the counter.
  HitBatch again({{"a", {"v1"}}}, {.day = "2026-01-05", .now = 200});
  EXPECT_EQ(add_all(*store_, again.batch())[0]->front().seen, Seen::new_visitor);
}

TEST_P(OwnerOpsTest, MaxCountersRefusesNewCountersAndARemovalMakesRoom) {
  testing_support::expect_max_counters_kept(*store_);  // a, b, c, d, e
  const HitBatch refused({{"f", {"v1"}}}, {.max_counters = 5});
  EXPECT_FALSE(testing_support::add_one(*store_, refused).has_value());
  ASSERT_TRUE(store_->remove("a").value());
  const HitBatch room({{"f", {"v1"}}}, {.max_counters = 5});
  EXPECT_TRUE(testing_support::add_one(*store_, room).has_value());
}

TEST_P(OwnerOpsTest, WithoutHistoryNoDayRowIsWritten) {
  testing_support::expect_no_history_kept(*store_);
}

TEST_P(OwnerOpsTest, WithoutCreateCountersOnlyTheOwnerMakesCounters) {
  testing_support::expect_owner_created_counters_kept(*store_);
}

// 1,200 counters: the SQLite store goes through them 500 at a time.
TEST_P(OwnerOpsTest, KeepDaysDeletesOlderDayRowsAndKeepsTheTotals) {
  testing_support::expect_keep_days_kept(*store_, GetParam() == "sqlite" ? 3 : 1);
}

INSTANTIATE_TEST_SUITE_P(Stores, OwnerOpsTest, ::testing::Values("memory", "sqlite"));

}  // namespace
}  // namespace store
