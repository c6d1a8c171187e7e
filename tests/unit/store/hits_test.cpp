// The counting rules every store shares (decide_hits, gained), on their own: new, returning
// and repeat visitors, the repeat window and its edge, untracked hits, a visitor twice in
// one batch, and the running totals each hit gets.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "support/add_results.hpp"

namespace store {
namespace {

using testing_support::BatchAt;
using testing_support::HitBatch;

constexpr std::int64_t kNow = 1'000'000;

// seen_at over a fixed table of when each visitor was last counted; records every lookup.
struct Marks {
  std::map<std::string, std::int64_t, std::less<>> last;
  std::vector<std::string> asked;

  std::optional<std::int64_t> operator()(std::string_view visitor) {
    asked.emplace_back(visitor);
    const auto it = last.find(visitor);
    if (it == last.end()) return std::nullopt;
    return it->second;
  }
};

std::vector<HitResult> decide(const HitBatch& hits, Totals before, Marks& marks) {
  const Batch& batch = hits;
  return decide_hits(batch, batch.keys[0], before,
                     [&marks](std::string_view visitor) { return marks(visitor); });
}

std::vector<Seen> seen_of(const std::vector<HitResult>& results) {
  std::vector<Seen> seen;
  for (const HitResult& result : results) seen.push_back(result.seen);
  return seen;
}

TEST(DecideHits, NewReturningAndRepeatByLastCounted) {
  Marks marks{.last = {{"old", kNow - 61}, {"recent", kNow - 59}}, .asked = {}};
  const HitBatch hits({{"k", {"fresh", "old", "recent"}}}, {.now = kNow, .window = 60});
  const auto results = decide(hits, {}, marks);
  EXPECT_EQ(seen_of(results),
            (std::vector<Seen>{Seen::new_visitor, Seen::returning, Seen::repeat}));
  EXPECT_EQ(marks.asked, (std::vector<std::string>{"fresh", "old", "recent"}));
  EXPECT_EQ(results.back().totals, (Totals{.views = 2, .visitors = 1}));
}

TEST(DecideHits, TheWindowEndsExactlyWindowSecondsLater) {
  Marks marks{.last = {{"edge", kNow - 60}, {"inside", kNow - 59}}, .asked = {}};
  const HitBatch hits({{"k", {"edge", "inside"}}}, {.now = kNow, .window = 60});
  EXPECT_EQ(seen_of(decide(hits, {}, marks)), (std::vector<Seen>{Seen::returning, Seen::repeat}));
}

TEST(DecideHits, WindowZeroNeverRepeats) {
  Marks marks{.last = {{"now", kNow}}, .asked = {}};
  const HitBatch hits({{"k", {"now", "now", "fresh", "fresh"}}}, {.now = kNow, .window = 0});
  const auto results = decide(hits, {}, marks);
  EXPECT_EQ(seen_of(results), (std::vector<Seen>{Seen::returning, Seen::returning,
                                                 Seen::new_visitor, Seen::returning}));
  EXPECT_EQ(results.back().totals, (Totals{.views = 4, .visitors = 1}));
}

// A mark a second ahead of this batch's clock: another process's clock is ahead (a fleet on
// one Redis), or this one's was set back. Without a window it is not a repeat; with one it is.
TEST(DecideHits, AMarkAheadOfTheClockRepeatsOnlyWithAWindow) {
  Marks marks{.last = {{"ahead", kNow + 1}}, .asked = {}};
  const HitBatch without({{"k", {"ahead"}}}, {.now = kNow, .window = 0});
  EXPECT_EQ(seen_of(decide(without, {}, marks)), (std::vector<Seen>{Seen::returning}));
  const HitBatch with({{"k", {"ahead"}}}, {.now = kNow, .window = 10});
  EXPECT_EQ(seen_of(decide(with, {}, marks)), (std::vector<Seen>{Seen::repeat}));
}

TEST(DecideHits, AVisitorTwiceInOneBatchIsNewOnceAndKnownWithoutAsking) {
  Marks repeat_marks;
  const HitBatch windowed({{"k", {"v", "v", "v"}}}, {.now = kNow, .window = 60});
  EXPECT_EQ(seen_of(decide(windowed, {}, repeat_marks)),
            (std::vector<Seen>{Seen::new_visitor, Seen::repeat, Seen::repeat}));
  EXPECT_EQ(repeat_marks.asked, std::vector<std::string>{"v"});  // only the first time

  Marks no_window_marks;
  const HitBatch unwindowed({{"k", {"v", "v", "v"}}}, {.now = kNow, .window = 0});
  const auto results = decide(unwindowed, {}, no_window_marks);
  EXPECT_EQ(seen_of(results),
            (std::vector<Seen>{Seen::new_visitor, Seen::returning, Seen::returning}));
  EXPECT_EQ(no_window_marks.asked, std::vector<std::string>{"v"});
  EXPECT_EQ(results.back().totals, (Totals{.views = 3, .visitors = 1}));
}

TEST(DecideHits, UntrackedHitsCountViewsOnlyAndNeverRepeat) {
  Marks marks;
  const HitBatch hits({{"k", {"", "", ""}}}, {.now = kNow, .window = 3600});
  const auto results = decide(hits, {.views = 7, .visitors = 2}, marks);
  EXPECT_EQ(seen_of(results),
            (std::vector<Seen>{Seen::returning, Seen::returning, Seen::returning}));
  EXPECT_TRUE(marks.asked.empty());
  EXPECT_EQ(results.back().totals, (Totals{.views = 10, .visitors = 2}));
}

TEST(DecideHits, CountedHitsGetConsecutiveDistinctTotals) {
  Marks marks{.last = {{"back", kNow - 7200}}, .asked = {}};
  const HitBatch hits({{"k", {"a", "b", "a", "", "back", "c"}}}, {.now = kNow, .window = 0});
  const auto results = decide(hits, {.views = 10, .visitors = 4}, marks);
  const std::vector<Totals> expected = {
      {.views = 11, .visitors = 5},  // a: new
      {.views = 12, .visitors = 6},  // b: new
      {.views = 13, .visitors = 6},  // a again
      {.views = 14, .visitors = 6},  // untracked
      {.views = 15, .visitors = 6},  // back: counted earlier today
      {.views = 16, .visitors = 7},  // c: new
  };
  ASSERT_EQ(results.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(results[i].totals, expected[i]) << i;
}

TEST(DecideHits, RepeatsCarryTheRunningTotals) {
  Marks marks{.last = {{"seen", kNow - 5}}, .asked = {}};
  const HitBatch hits({{"k", {"seen", "a", "a", "seen", "b"}}}, {.now = kNow, .window = 60});
  const auto results = decide(hits, {.views = 3, .visitors = 1}, marks);
  const std::vector<HitResult> expected = {
      {.seen = Seen::repeat, .totals = {.views = 3, .visitors = 1}},
      {.seen = Seen::new_visitor, .totals = {.views = 4, .visitors = 2}},
      {.seen = Seen::repeat, .totals = {.views = 4, .visitors = 2}},
      {.seen = Seen::repeat, .totals = {.views = 4, .visitors = 2}},
      {.seen = Seen::new_visitor, .totals = {.views = 5, .visitors = 3}},
  };
  EXPECT_EQ(results, expected);
}

TEST(DecideHits, OnlyTheGivenKeysHitsAreDecided) {
  Marks marks;
  const HitBatch hits({{"a", {"v"}}, {"b", {"v", "w"}}}, {.now = kNow, .window = 0});
  const Batch& batch = hits;
  const auto results = decide_hits(batch, batch.keys[1], {.views = 1, .visitors = 1},
                                   [&marks](std::string_view visitor) { return marks(visitor); });
  ASSERT_EQ(results.size(), 2U);
  EXPECT_EQ(results.back().totals, (Totals{.views = 3, .visitors = 3}));
  EXPECT_EQ(marks.asked, (std::vector<std::string>{"v", "w"}));
}

TEST(Gained, SumsWhatTheCountedHitsAdded) {
  EXPECT_EQ(gained({}), Totals{});
  const std::vector<HitResult> results = {
      {.seen = Seen::new_visitor, .totals = {.views = 100, .visitors = 100}},
      {.seen = Seen::repeat, .totals = {.views = 100, .visitors = 100}},
      {.seen = Seen::returning, .totals = {.views = 101, .visitors = 100}},
      {.seen = Seen::new_visitor, .totals = {.views = 102, .visitors = 101}},
  };
  EXPECT_EQ(gained(results), (Totals{.views = 3, .visitors = 2}));
}

TEST(Gained, MatchesTheTotalsDecideHitsEndsOn) {
  Marks marks{.last = {{"x", kNow - 30}, {"y", kNow - 90}}, .asked = {}};
  const HitBatch hits({{"k", {"x", "y", "", "z", "z", "x", ""}}}, {.now = kNow, .window = 60});
  const Totals before{.views = 40, .visitors = 9};
  const auto results = decide(hits, before, marks);
  const Totals gain = gained(results);
  EXPECT_EQ(gain, (Totals{.views = 4, .visitors = 1}));  // y, "", z, ""
  EXPECT_EQ(results.back().totals, (Totals{.views = before.views + gain.views,
                                           .visitors = before.visitors + gain.visitors}));
}

}  // namespace
}  // namespace store
