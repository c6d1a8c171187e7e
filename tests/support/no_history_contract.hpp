// The contract of store::Batch::history = false (the classic profile), as a test body every
// store's test runs on an empty store: hits raise the counter's views and write no day row,
// while a batch with history on the same store still does.
#pragma once

#include <gtest/gtest.h>

#include "store/store.hpp"
#include "support/add_results.hpp"

namespace testing_support {

inline void expect_no_history_kept(store::Store& store) {
  const HitBatch classic({{"classic", {"", "", ""}}}, {.history = false});
  const auto results = add_one(store, classic);
  ASSERT_TRUE(results.has_value()) << results.error().message;
  EXPECT_EQ(results->back().totals, (store::Totals{.views = 3, .visitors = 0}));
  EXPECT_EQ(store.get("classic").value(), (store::Totals{.views = 3, .visitors = 0}));
  EXPECT_TRUE(store.history("classic", "2025-12-01", "2026-01-31").value().empty());
  // The same store keeps days for a batch that asks for them.
  const HitBatch full({{"full", {""}}});
  ASSERT_TRUE(add_one(store, full).has_value());
  EXPECT_EQ(store.history("full", "2025-12-01", "2026-01-31").value().size(), 1U);
}

}  // namespace testing_support
