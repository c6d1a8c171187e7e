// SQLite store on real files: batches, persistence across reopen, start-up failures.
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "store/store.hpp"
#include "support/add_results.hpp"

namespace store {
namespace {

using testing_support::add_values;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vc-sqlite-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SqliteStore> open(SyncMode sync = SyncMode::full) {
    auto opened = SqliteStore::open((dir_ / "nested" / "counter.db").string(), sync);
    EXPECT_TRUE(opened.has_value()) << opened.error();
    return std::move(*opened);
  }

  std::filesystem::path dir_;
};

TEST_F(SqliteStoreTest, BatchReturnsNewValuesInOrder) {
  auto db = open();
  const Increment first[] = {{"a", 3}, {"b", 1}};
  EXPECT_EQ(add_values(*db, first).value(), (std::vector<std::int64_t>{3, 1}));
  const Increment second[] = {{"b", 5}, {"a", 1}, {"c", 2}};
  EXPECT_EQ(add_values(*db, second).value(), (std::vector<std::int64_t>{6, 4, 2}));
  EXPECT_EQ(db->get("a").value(), 4);
  EXPECT_EQ(db->get("missing").value(), std::nullopt);
  EXPECT_TRUE(db->ping().has_value());
}

TEST_F(SqliteStoreTest, FullSyncDefersToSyncAndNormalDoesNot) {
  auto full = open(SyncMode::full);
  EXPECT_TRUE(full->defers_sync());
  const Increment batch[] = {{"a", 1}};
  ASSERT_TRUE(add_values(*full, batch).has_value());
  EXPECT_TRUE(full->sync().has_value());
  full.reset();
  auto normal = open(SyncMode::normal);
  EXPECT_FALSE(normal->defers_sync());
  EXPECT_EQ(normal->get("a").value(), 1);
}

TEST_F(SqliteStoreTest, CountsSurviveReopen) {
  {
    auto db = open();
    const Increment batch[] = {{"visitors", 41}};
    ASSERT_TRUE(add_values(*db, batch).has_value());
  }
  auto db = open(SyncMode::normal);
  const Increment batch[] = {{"visitors", 1}};
  EXPECT_EQ(add_values(*db, batch).value(), std::vector<std::int64_t>{42});
}

TEST_F(SqliteStoreTest, TheFileIsPlainSqlite) {
  {
    auto db = open();
    const Increment batch[] = {{"home", 7}};
    ASSERT_TRUE(add_values(*db, batch).has_value());
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "nested" / "counter.db").c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(raw, "SELECT count FROM counters WHERE id = 'home'", -1, &stmt, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), 7);
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
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

}  // namespace
}  // namespace store
