// The contract of store::Batch::max_counters and create_counters, as test bodies every
// store's test runs on an empty store: a new counter past the limit (or any new counter,
// without create_counters) is refused (`refused`, nothing written) while the batch's other
// keys and the existing counters go on.
#pragma once

#include <gtest/gtest.h>

#include "store/store.hpp"
#include "support/add_results.hpp"

namespace testing_support {

inline void expect_max_counters_kept(store::Store& store) {
  using Kind = store::StoreError::Kind;
  const BatchAt limit_two{.max_counters = 2};
  const HitBatch first({{"a", {"v1"}}, {"b", {"v1"}}}, limit_two);
  ASSERT_TRUE(add_results(store, first).has_value());
  // Two counters: a third is refused, the existing ones in the same batch count.
  const HitBatch second({{"a", {"v2"}}, {"c", {"v1", "v2"}}, {"b", {""}}}, limit_two);
  const std::vector<KeyResults> results = add_all(store, second);
  ASSERT_TRUE(results[0].has_value()) << results[0].error().message;
  EXPECT_EQ(results[0]->at(0).totals.views, 2);
  ASSERT_FALSE(results[1].has_value());
  EXPECT_EQ(results[1].error().kind, Kind::refused);
  ASSERT_TRUE(results[2].has_value()) << results[2].error().message;
  EXPECT_EQ(store.get("c").value(), std::nullopt);  // nothing of it written
  // A higher limit, or none, takes it.
  const HitBatch third({{"c", {"v1"}}}, {.max_counters = 3});
  EXPECT_TRUE(add_one(store, third).has_value());
  const HitBatch fourth({{"d", {"v1"}}, {"e", {"v1"}}}, {.max_counters = 4});
  const std::vector<KeyResults> last = add_all(store, fourth);  // the 4th fits, the 5th not
  EXPECT_TRUE(last[0].has_value());
  ASSERT_FALSE(last[1].has_value());
  EXPECT_EQ(last[1].error().kind, Kind::refused);
  const HitBatch unlimited({{"e", {"v1"}}});
  EXPECT_TRUE(add_one(store, unlimited).has_value());
}

// Without create_counters a hit never makes a counter; one the owner made (set_totals, as
// PUT /counters/KEY does) counts.
inline void expect_owner_created_counters_kept(store::Store& store) {
  const BatchAt owner_only{.create_counters = false};
  const HitBatch before({{"owned", {"v1"}}, {"new", {"v1"}}}, owner_only);
  for (const KeyResults& refused : add_all(store, before)) {
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().kind, store::StoreError::Kind::refused);
  }
  EXPECT_EQ(store.get("new").value(), std::nullopt);
  ASSERT_TRUE(store.set_totals("owned", 0, 0).has_value());  // the owner creates it
  const HitBatch after({{"owned", {"v1"}}, {"new", {"v1"}}}, owner_only);
  const std::vector<KeyResults> results = add_all(store, after);
  ASSERT_TRUE(results[0].has_value()) << results[0].error().message;
  EXPECT_EQ(results[0]->at(0).totals.views, 1);
  EXPECT_FALSE(results[1].has_value());
  EXPECT_EQ(store.get("new").value(), std::nullopt);
}

}  // namespace testing_support
