// A Store on one SQLite file: table `counters(id TEXT PRIMARY KEY, count INTEGER)` in WAL
// mode. A batch is one transaction, so a commit is one fsync however many hits it holds.
// Not thread-safe: one thread (the write combiner's worker) uses it.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "store/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace store {

class SqliteStore final : public Store {
 public:
  // Opens or creates the database at `path` (and its parent folder). Fails when the path
  // is unusable or the file is not an SQLite database.
  static std::expected<std::unique_ptr<SqliteStore>, std::string> open(const std::string& path,
                                                                       SyncMode sync);
  ~SqliteStore() override;

  StoreResult<std::vector<std::int64_t>> add(std::span<const Increment> batch) override;
  StoreResult<std::optional<std::int64_t>> get(std::string_view key) override;
  StoreResult<void> ping() override;

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  std::expected<void, std::string> prepare(SyncMode sync);
  StoreResult<std::int64_t> add_one(const Increment& inc);
  StoreError fail(std::string_view what) const;

  sqlite3* db_;
  sqlite3_stmt* upsert_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
};

}  // namespace store
