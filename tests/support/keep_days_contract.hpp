// The contract of store::Store::keep_days, as a test body every store's test runs on an
// empty store: --keep-days 30 on 2026-03-01 keeps the day rows of 2026-01-31 onwards and the
// totals, through forget_before() called until it reports that nothing is left (a store may
// take several calls: `chunks` is how many it should take for 1,200 counters); nothing is
// deleted without keep_days; the next day's pass starts again from the first counter.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/store.hpp"

namespace testing_support {

inline void expect_keep_days_kept(store::Store& store, int chunks) {
  std::vector<store::CounterRecord> records;
  for (int i = 0; i < 1200; ++i) {
    std::string key = std::to_string(10000 + i);  // "k" + ...: GCC 12's false -Wrestrict
    key.insert(0, 1, 'k');
    records.push_back({std::move(key),
                       {4, 4},
                       {{"2026-01-20", {1, 1}},
                        {"2026-01-30", {1, 1}},
                        {"2026-01-31", {1, 1}},
                        {"2026-02-28", {1, 1}}}});
  }
  ASSERT_TRUE(store.import(records, store::ImportMode::set));
  ASSERT_TRUE(store.forget_before("2026-03-01"));  // no retention yet: every day stays
  EXPECT_EQ(store.history("k10000", "2026-01-01", "2026-03-01")->size(), 4U);

  ASSERT_TRUE(store.keep_days(30));
  int calls = 1;
  for (auto done = store.forget_before("2026-03-01"); !done.value(); ++calls) {
    done = store.forget_before("2026-03-01");
  }
  EXPECT_EQ(calls, chunks);
  for (const store::CounterRecord& record : records) {
    const auto rows = store.history(record.key, "2026-01-01", "2026-03-01");
    ASSERT_EQ(rows->size(), 2U) << record.key;
    EXPECT_EQ(rows->front().day, "2026-01-31");
    EXPECT_EQ(store.get(record.key).value(), (store::Totals{4, 4}));
  }
  ASSERT_TRUE(store.forget_before("2026-03-02").has_value());
  EXPECT_EQ(store.history("k10000", "2026-01-01", "2026-03-02")->size(), 1U);
}

}  // namespace testing_support
