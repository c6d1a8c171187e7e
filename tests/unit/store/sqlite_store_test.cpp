// SQLite store on real files: batches and their per-hit totals, visitors once per key and
// day, the repeat window, untracked hits, daily rows, visitor marks and salts (across reopen
// and forget_before), persistence, the schema migration from version 1 and the refusal of
// a newer one, all-or-nothing batches, and start-up failures. The file is also read with
// plain sqlite3, to check what is stored.
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "support/add_results.hpp"

namespace store {
namespace {

using testing_support::add_all;
using testing_support::add_one;
using testing_support::add_results;
using testing_support::BatchAt;
using testing_support::HitBatch;

constexpr std::int64_t kDay1Noon = 1767268800;  // 2026-01-01T12:00:00Z
const BatchAt kDay1{.day = "2026-01-01", .now = kDay1Noon, .window = 0};
const BatchAt kDay2{.day = "2026-01-02", .now = kDay1Noon + 86400, .window = 0};
const BatchAt kDay3{.day = "2026-01-03", .now = kDay1Noon + 2 * 86400, .window = 0};

std::vector<Totals> totals_of(const std::vector<HitResult>& results) {
  std::vector<Totals> totals;
  for (const HitResult& result : results) totals.push_back(result.totals);
  return totals;
}

std::vector<Seen> seen_of(const std::vector<HitResult>& results) {
  std::vector<Seen> seen;
  for (const HitResult& result : results) seen.push_back(result.seen);
  return seen;
}

// A plain sqlite3 connection to the store's file, beside the store's own.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb() { sqlite3_close(db_); }

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (error != nullptr ? error : "?");
    }
    sqlite3_free(error);
  }

  // Every row of a query, its columns joined by '|' (NULL as "NULL").
  std::vector<std::string> rows(const std::string& sql) {
    std::vector<std::string> rows;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return rows;
    }
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        if (i > 0) row += '|';
        const auto* text = sqlite3_column_text(stmt, i);
        row += text != nullptr ? reinterpret_cast<const char*>(text) : "NULL";
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return rows;
  }

  std::int64_t number(const std::string& sql) {
    const std::vector<std::string> found = rows(sql);
    if (found.size() != 1) {
      ADD_FAILURE() << sql << ": " << found.size() << " rows";
      return -1;
    }
    return std::stoll(found.front());
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vc-sqlite-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path path() const { return dir_ / "nested" / "counter.db"; }

  // The store at path(); a failure to open fails the test (by an exception, which gtest
  // reports) rather than letting it go on without a store.
  std::unique_ptr<SqliteStore> open(SyncMode sync = SyncMode::full) {
    auto opened = SqliteStore::open(path().string(), sync);
    if (!opened) throw std::runtime_error("cannot open the store: " + opened.error());
    return std::move(*opened);
  }

  std::filesystem::path dir_;
};

TEST_F(SqliteStoreTest, BatchReturnsEachHitsTotalsInOrder) {
  auto db = open();
  const HitBatch first({{"a", {"x", "y", "z"}}, {"b", {"x"}}}, kDay1);
  const auto one = add_results(*db, first).value();
  ASSERT_EQ(one.size(), 2U);
  EXPECT_EQ(totals_of(one[0]), (std::vector<Totals>{{.views = 1, .visitors = 1},
                                                    {.views = 2, .visitors = 2},
                                                    {.views = 3, .visitors = 3}}));
  EXPECT_EQ(totals_of(one[1]), (std::vector<Totals>{{.views = 1, .visitors = 1}}));
  const HitBatch second({{"b", {"y", "z"}}, {"a", {"w"}}, {"c", {"", ""}}}, kDay1);
  const auto two = add_results(*db, second).value();
  EXPECT_EQ(totals_of(two[0]),
            (std::vector<Totals>{{.views = 2, .visitors = 2}, {.views = 3, .visitors = 3}}));
  EXPECT_EQ(totals_of(two[1]), (std::vector<Totals>{{.views = 4, .visitors = 4}}));
  EXPECT_EQ(totals_of(two[2]),
            (std::vector<Totals>{{.views = 1, .visitors = 0}, {.views = 2, .visitors = 0}}));
  EXPECT_EQ(db->get("a").value(), (Totals{.views = 4, .visitors = 4}));
  EXPECT_EQ(db->get("missing").value(), std::nullopt);
  EXPECT_TRUE(db->ping().has_value());
}

TEST_F(SqliteStoreTest, VisitorsCountOncePerKeyPerDayViewsEveryHit) {
  auto db = open();
  const HitBatch first({{"a", {"v1", "v1", "v2"}}, {"b", {"v1"}}}, kDay1);
  const auto one = add_results(*db, first).value();
  EXPECT_EQ(seen_of(one[0]),
            (std::vector<Seen>{Seen::new_visitor, Seen::returning, Seen::new_visitor}));
  EXPECT_EQ(seen_of(one[1]), std::vector<Seen>{Seen::new_visitor});  // another key
  const HitBatch later({{"a", {"v1", "v3", "v2"}}}, {.day = kDay1.day, .now = kDay1Noon + 3600});
  EXPECT_EQ(seen_of(add_one(*db, later).value()),
            (std::vector<Seen>{Seen::returning, Seen::new_visitor, Seen::returning}));
  EXPECT_EQ(db->get("a").value(), (Totals{.views = 6, .visitors = 3}));
  EXPECT_EQ(db->get("b").value(), (Totals{.views = 1, .visitors = 1}));
}

TEST_F(SqliteStoreTest, RepeatWindowIgnoresAVisitorSeenWithinIt) {
  auto db = open();
  auto hit_at = [&](std::int64_t seconds) {
    const HitBatch batch({{"k", {"v"}}},
                         {.day = kDay1.day, .now = kDay1Noon + seconds, .window = 60});
    return add_one(*db, batch).value().at(0);
  };
  EXPECT_EQ(hit_at(0), (HitResult{Seen::new_visitor, {.views = 1, .visitors = 1}}));
  EXPECT_EQ(hit_at(30), (HitResult{Seen::repeat, {.views = 1, .visitors = 1}}));
  EXPECT_EQ(db->get("k").value(), (Totals{.views = 1, .visitors = 1}));  // nothing counted
  // The window runs from when the visitor was last counted (0), not from the repeat (30).
  EXPECT_EQ(hit_at(60), (HitResult{Seen::returning, {.views = 2, .visitors = 1}}));
  EXPECT_EQ(hit_at(100), (HitResult{Seen::repeat, {.views = 2, .visitors = 1}}));
  EXPECT_EQ(hit_at(120), (HitResult{Seen::returning, {.views = 3, .visitors = 1}}));
  EXPECT_EQ(db->get("k").value(), (Totals{.views = 3, .visitors = 1}));
  RawDb raw(path());
  EXPECT_EQ(raw.rows("SELECT day, views, visitors FROM days WHERE key = 'k'"),
            std::vector<std::string>{"2026-01-01|3|1"});
}

// Without a repeat window nothing reads a mark's time, so a returning visitor's hit leaves
// its mark as it is: no write for the marks table on every view (bench/durable_bench.py's
// visitors profile). With a window the time moves to the hit that counted.
TEST_F(SqliteStoreTest, AReturningVisitorRewritesItsMarkOnlyForARepeatWindow) {
  auto db = open();
  RawDb raw(path());
  const std::pair<std::int64_t, std::string> windows[] = {{0, "k0"}, {60, "k60"}};
  for (const auto& [window, key] : windows) {
    const HitBatch first({{key, {"v"}}}, {.day = kDay1.day, .now = kDay1Noon, .window = window});
    add_one(*db, first).value();
    const HitBatch later({{key, {"v"}}},
                         {.day = kDay1.day, .now = kDay1Noon + 600, .window = window});
    EXPECT_EQ(add_one(*db, later).value().at(0).seen, Seen::returning);
    const std::int64_t stamped = window == 0 ? kDay1Noon : kDay1Noon + 600;
    EXPECT_EQ(raw.rows("SELECT seen FROM marks WHERE key = '" + key + "'"),
              std::vector<std::string>{std::to_string(stamped)});
  }
  EXPECT_EQ(db->get("k0").value(), (Totals{.views = 2, .visitors = 1}));
}

TEST_F(SqliteStoreTest, UntrackedHitsCountViewsOnly) {
  auto db = open();
  const HitBatch batch({{"k", {"", "", ""}}}, {.day = kDay1.day, .now = kDay1Noon, .window = 60});
  const auto results = add_one(*db, batch).value();
  EXPECT_EQ(seen_of(results),
            (std::vector<Seen>{Seen::returning, Seen::returning, Seen::returning}));
  EXPECT_EQ(db->get("k").value(), (Totals{.views = 3, .visitors = 0}));
  RawDb raw(path());
  EXPECT_EQ(raw.number("SELECT count(*) FROM marks"), 0);
}

TEST_F(SqliteStoreTest, DailyRowsSumToTheTotalsGained) {
  auto db = open();
  std::map<std::string, Totals> expected;  // "key|day" -> what the batches gained
  auto add = [&](const HitBatch& hits) {
    const Batch& batch = hits;
    const auto results = add_results(*db, batch).value();
    for (std::size_t i = 0; i < results.size(); ++i) {
      const Totals gain = gained(results[i]);
      Totals& row = expected[std::string(batch.keys[i].key) + "|" + std::string(batch.day)];
      row.views += gain.views;
      row.visitors += gain.visitors;
    }
  };
  const BatchAt windowed{.day = kDay1.day, .now = kDay1Noon, .window = 600};
  add(HitBatch({{"a", {"v1", "v2", "v1", ""}}, {"b", {"v1"}}}, windowed));
  add(HitBatch({{"a", {"v3", "v1"}}}, {.day = kDay1.day, .now = kDay1Noon + 60, .window = 600}));
  add(HitBatch({{"a", {"v1", "v4"}}, {"b", {"", "v1"}}}, kDay2));
  add(HitBatch({{"b", {"v2", "v2"}}}, kDay3));

  RawDb raw(path());
  std::vector<std::string> want;
  for (const auto& [key_day, totals] : expected) {
    want.push_back(key_day + "|" + std::to_string(totals.views) + "|" +
                   std::to_string(totals.visitors));
  }
  EXPECT_EQ(raw.rows("SELECT key, day, views, visitors FROM days ORDER BY key, day"), want);
  EXPECT_EQ(want,
            (std::vector<std::string>{"a|2026-01-01|4|3", "a|2026-01-02|2|2", "b|2026-01-01|1|1",
                                      "b|2026-01-02|2|1", "b|2026-01-03|2|1"}));
  for (const char* key : {"a", "b"}) {
    const std::string sum = "SELECT sum(views) || '|' || sum(visitors) FROM days WHERE key = '" +
                            std::string(key) + "'";
    const Totals totals = db->get(key).value().value();
    EXPECT_EQ(raw.rows(sum), std::vector<std::string>{std::to_string(totals.views) + "|" +
                                                      std::to_string(totals.visitors)})
        << key;
  }
}

TEST_F(SqliteStoreTest, TheSameVisitorIsNewAgainTheNextDay) {
  auto db = open();
  const HitBatch today({{"k", {"v", "v"}}}, kDay1);
  EXPECT_EQ(seen_of(add_one(*db, today).value()),
            (std::vector<Seen>{Seen::new_visitor, Seen::returning}));
  const HitBatch tomorrow({{"k", {"v"}}}, kDay2);
  EXPECT_EQ(add_one(*db, tomorrow).value(),
            (std::vector<HitResult>{{Seen::new_visitor, {.views = 3, .visitors = 2}}}));
}

TEST_F(SqliteStoreTest, MarksSurviveReopen) {
  {
    auto db = open();
    const HitBatch batch({{"k", {"v"}}}, kDay1);
    ASSERT_TRUE(add_one(*db, batch).has_value());
  }
  auto db = open(SyncMode::normal);
  const HitBatch again({{"k", {"v", "w"}}}, {.day = kDay1.day, .now = kDay1Noon + 10});
  EXPECT_EQ(seen_of(add_one(*db, again).value()),
            (std::vector<Seen>{Seen::returning, Seen::new_visitor}));
  const HitBatch windowed({{"k", {"v"}}}, {.day = kDay1.day, .now = kDay1Noon + 20, .window = 60});
  EXPECT_EQ(seen_of(add_one(*db, windowed).value()), std::vector<Seen>{Seen::repeat});
}

TEST_F(SqliteStoreTest, SaltIsStablePerDayAcrossCallsAndReopen) {
  std::string first;
  {
    auto db = open();
    first = db->salt(kDay1.day).value();
    EXPECT_EQ(first.size(), 32U);
    EXPECT_EQ(db->salt(kDay1.day).value(), first);
    const std::string next = db->salt(kDay2.day).value();
    EXPECT_EQ(next.size(), 32U);
    EXPECT_NE(next, first);
  }
  auto db = open();
  EXPECT_EQ(db->salt(kDay1.day).value(), first);
  RawDb raw(path());
  EXPECT_EQ(raw.rows("SELECT day, length(salt) FROM salts ORDER BY day"),
            (std::vector<std::string>{"2026-01-01|32", "2026-01-02|32"}));
}

TEST_F(SqliteStoreTest, ForgetBeforeDeletesEarlierSaltsAndMarksOnly) {
  auto db = open();
  std::string day2_salt;
  for (const BatchAt& at : {kDay1, kDay2, kDay3}) {
    const std::string salt = db->salt(at.day).value();
    if (at.day == kDay2.day) day2_salt = salt;
    const HitBatch batch({{"k", {"v", "w"}}}, at);
    ASSERT_TRUE(add_one(*db, batch).has_value());
  }
  EXPECT_EQ(db->forget_before(kDay2.day).value(), true);  // all done in one call
  RawDb raw(path());
  EXPECT_EQ(raw.rows("SELECT day FROM salts ORDER BY day"),
            (std::vector<std::string>{"2026-01-02", "2026-01-03"}));
  EXPECT_EQ(raw.rows("SELECT DISTINCT day FROM marks ORDER BY day"),
            (std::vector<std::string>{"2026-01-02", "2026-01-03"}));
  // The history stays.
  EXPECT_EQ(raw.number("SELECT count(*) FROM days WHERE key = 'k'"), 3);
  EXPECT_EQ(db->get("k").value(), (Totals{.views = 6, .visitors = 6}));
  EXPECT_EQ(db->salt(kDay2.day).value(), day2_salt);
  const HitBatch today({{"k", {"v"}}}, {.day = kDay2.day, .now = kDay2.now + 1});
  EXPECT_EQ(seen_of(add_one(*db, today).value()), std::vector<Seen>{Seen::returning});
}

TEST_F(SqliteStoreTest, ForgetBeforeDeletesManyMarksInBoundedChunks) {
  auto db = open();
  {
    RawDb raw(path());  // 5,000 marks of day 1 and one of day 2
    raw.exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)"
        " INSERT INTO marks (day, key, visitor, seen) SELECT '2026-01-01', 'k', i, 0 FROM n");
    raw.exec("INSERT INTO marks VALUES ('2026-01-02', 'k', 'v', 0)");
  }
  RawDb raw(path());
  std::vector<std::int64_t> left;
  for (int call = 0; call < 5; ++call) {
    const bool done = db->forget_before(kDay2.day).value();
    left.push_back(raw.number("SELECT count(*) FROM marks"));
    if (done) break;
  }
  EXPECT_EQ(left, (std::vector<std::int64_t>{3001, 1001, 1}));  // 2,000 a call, then done
}

TEST_F(SqliteStoreTest, FullSyncDefersToSyncAndNormalDoesNot) {
  auto full = open(SyncMode::full);
  EXPECT_TRUE(full->defers_sync());
  const HitBatch batch({{"a", {"v"}}}, kDay1);
  ASSERT_TRUE(add_results(*full, batch).has_value());
  EXPECT_TRUE(full->sync().has_value());
  full.reset();
  auto normal = open(SyncMode::normal);
  EXPECT_FALSE(normal->defers_sync());
  EXPECT_EQ(normal->get("a").value(), (Totals{.views = 1, .visitors = 1}));
}

TEST_F(SqliteStoreTest, CountsSurviveReopen) {
  {
    auto db = open();
    const HitBatch batch({{"visitors", {"a", "b", "a"}}}, kDay1);
    ASSERT_TRUE(add_results(*db, batch).has_value());
  }
  auto db = open(SyncMode::normal);
  const HitBatch batch({{"visitors", {"c"}}}, kDay1);
  EXPECT_EQ(add_one(*db, batch).value(),
            (std::vector<HitResult>{{Seen::new_visitor, {.views = 4, .visitors = 3}}}));
}

TEST_F(SqliteStoreTest, TheFileIsPlainSqlite) {
  {
    auto db = open();
    const HitBatch batch({{"home", {"a", "b", "", "a"}}}, kDay1);
    ASSERT_TRUE(add_results(*db, batch).has_value());
  }
  RawDb raw(path());
  EXPECT_EQ(raw.rows("SELECT count, visitors FROM counters WHERE id = 'home'"),
            std::vector<std::string>{"4|2"});
  EXPECT_EQ(raw.number("PRAGMA user_version"), 2);
  EXPECT_EQ(raw.rows("SELECT day, key, seen FROM marks ORDER BY visitor"),
            (std::vector<std::string>{"2026-01-01|home|" + std::to_string(kDay1Noon),
                                      "2026-01-01|home|" + std::to_string(kDay1Noon)}));
}

TEST_F(SqliteStoreTest, MigratesAVersion1File) {
  std::filesystem::create_directories(path().parent_path());
  {
    RawDb v1(path());
    v1.exec(
        "CREATE TABLE counters (id TEXT PRIMARY KEY NOT NULL, count INTEGER NOT NULL) "
        "WITHOUT ROWID;"
        "INSERT INTO counters (id, count) VALUES ('home', 41), ('blog/a', 7);");
    ASSERT_EQ(v1.number("PRAGMA user_version"), 0);
  }
  {
    // A command that only reads (export) refuses to upgrade it, and leaves it as it was.
    auto reading = SqliteStore::open(path().string(), SyncMode::full, /*create=*/false);
    ASSERT_FALSE(reading.has_value());
    EXPECT_NE(reading.error().find("schema version 0 is older"), std::string::npos)
        << reading.error();
    RawDb v1(path());
    EXPECT_EQ(v1.rows("SELECT name FROM sqlite_schema WHERE type = 'table'"),
              (std::vector<std::string>{"counters"}));
  }
  {
    auto db = open();
    EXPECT_EQ(db->get("home").value(), (Totals{.views = 41, .visitors = 0}));
    EXPECT_EQ(db->get("blog/a").value(), (Totals{.views = 7, .visitors = 0}));
    const HitBatch batch({{"home", {"v"}}}, kDay1);
    EXPECT_EQ(add_one(*db, batch).value(),
              (std::vector<HitResult>{{Seen::new_visitor, {.views = 42, .visitors = 1}}}));
  }
  RawDb raw(path());
  EXPECT_EQ(raw.number("PRAGMA user_version"), 2);
  EXPECT_EQ(raw.rows("SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN "
                     "('counters', 'days', 'marks', 'salts') ORDER BY name"),
            (std::vector<std::string>{"counters", "days", "marks", "salts"}));
  EXPECT_EQ(raw.rows("SELECT name FROM pragma_table_info('counters') ORDER BY cid"),
            (std::vector<std::string>{"id", "count", "visitors"}));
  auto again = open();  // a version 2 file opens as it is
  EXPECT_EQ(again->get("home").value(), (Totals{.views = 42, .visitors = 1}));
}

TEST_F(SqliteStoreTest, ANewerSchemaIsRefusedAtOpen) {
  std::filesystem::create_directories(path().parent_path());
  {
    RawDb newer(path());
    newer.exec("CREATE TABLE future (x); PRAGMA user_version = 99;");
  }
  auto opened = SqliteStore::open(path().string(), SyncMode::full);
  ASSERT_FALSE(opened.has_value());
  EXPECT_NE(opened.error().find("99"), std::string::npos) << opened.error();
  RawDb raw(path());
  EXPECT_EQ(raw.number("PRAGMA user_version"), 99);  // left as it was
  EXPECT_EQ(raw.rows("SELECT name FROM sqlite_schema WHERE type = 'table'"),
            std::vector<std::string>{"future"});
}

TEST_F(SqliteStoreTest, AFailedBatchChangesNothing) {
  auto db = open();
  const HitBatch before({{"a", {"v1"}}}, kDay1);
  ASSERT_TRUE(add_one(*db, before).has_value());
  {
    RawDb raw(path());
    raw.exec(
        "CREATE TRIGGER poison BEFORE INSERT ON counters WHEN NEW.id = 'poison' "
        "BEGIN SELECT RAISE(ABORT, 'poisoned'); END;");
  }
  // "a" is written first, then "poison" fails: the whole batch rolls back.
  const HitBatch failing({{"a", {"v2", "v1", ""}}, {"poison", {"v3"}}},
                         {.day = kDay1.day, .now = kDay1Noon + 5});
  const auto results = add_all(*db, failing);
  ASSERT_EQ(results.size(), 2U);
  for (const auto& result : results) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().kind, StoreError::Kind::failed);
    EXPECT_NE(result.error().message.find("poisoned"), std::string::npos) << result.error().message;
  }
  EXPECT_EQ(db->get("a").value(), (Totals{.views = 1, .visitors = 1}));
  EXPECT_EQ(db->get("poison").value(), std::nullopt);
  {
    RawDb raw(path());
    EXPECT_EQ(raw.rows("SELECT key, day, views, visitors FROM days"),
              std::vector<std::string>{"a|2026-01-01|1|1"});
    EXPECT_EQ(raw.number("SELECT count(*) FROM marks"), 1);
  }
  // The store still works, and v2 was never marked.
  const HitBatch after({{"a", {"v2"}}}, {.day = kDay1.day, .now = kDay1Noon + 6});
  EXPECT_EQ(add_one(*db, after).value(),
            (std::vector<HitResult>{{Seen::new_visitor, {.views = 2, .visitors = 2}}}));
}

TEST_F(SqliteStoreTest, CorruptFileFailsAtOpen) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "junk.db") << std::string(8192, 'x');
  auto opened = SqliteStore::open((dir_ / "junk.db").string(), SyncMode::full);
  ASSERT_FALSE(opened.has_value());
  EXPECT_NE(opened.error().find("not a database"), std::string::npos) << opened.error();
}

TEST_F(SqliteStoreTest, UnusablePathFailsAtOpen) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  auto opened = SqliteStore::open((dir_ / "file" / "counter.db").string(), SyncMode::full);
  ASSERT_FALSE(opened.has_value());
  EXPECT_NE(opened.error().find("cannot create"), std::string::npos) << opened.error();
}

TEST(MakeStore, ParsesUrls) {
  EXPECT_TRUE(make_store("memory:", {}).has_value());
  EXPECT_FALSE(make_store("sqlite:", {}).has_value());
  auto unknown = make_store("postgres://x", {});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().find("unknown store URL"), std::string::npos);
}

// Every store keeps fewer days when asked.
TEST(MakeStore, KeepDaysOnEveryStore) {
  const StoreOptions keep{.sync = SyncMode::full, .create = true, .keep_days = 30};
  const auto env = [](const char* name) -> const char* {
    const std::string_view n(name);
    if (n == "AWS_ACCESS_KEY_ID") return "AKIDEXAMPLE";
    if (n == "AWS_SECRET_ACCESS_KEY") return "secret";
    return nullptr;
  };
  for (const char* url : {"memory:", "redis://127.0.0.1:1",
                          "dynamodb://table?region=eu-west-1&endpoint=http://127.0.0.1:1"}) {
    EXPECT_TRUE(make_store(url, keep, env).has_value()) << url;
  }
}

// Commands that only read (export) never create a SQLite file or its folder.
TEST_F(SqliteStoreTest, WithoutCreateAMissingFileIsAnErrorAndNothingIsMade) {
  const std::string path = (dir_ / "sub" / "counter.db").string();
  auto missing = SqliteStore::open(path, SyncMode::full, /*create=*/false);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().find("no database at"), std::string::npos) << missing.error();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "sub"));
}

}  // namespace
}  // namespace store
