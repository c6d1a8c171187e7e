// SQLite Store: prepared statements, one IMMEDIATE transaction per batch.
#include "store/sqlite/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace store {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS counters ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " count INTEGER NOT NULL"
    ") WITHOUT ROWID";

constexpr const char* kUpsert =
    "INSERT INTO counters (id, count) VALUES (?1, ?2)"
    " ON CONFLICT (id) DO UPDATE SET count = count + excluded.count"
    " RETURNING count";

std::expected<void, std::string> exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return {};
  std::string message = error != nullptr ? error : sqlite3_errmsg(db);
  sqlite3_free(error);
  return std::unexpected(message);
}

// Runs a statement that returns no rows, then resets it for reuse.
bool step_done(sqlite3_stmt* stmt) {
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  return rc == SQLITE_DONE;
}

std::expected<void, std::string> make_parent_folder(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return {};
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return std::unexpected("cannot create " + parent.string() + ": " + ec.message());
  return {};
}

}  // namespace

std::expected<std::unique_ptr<SqliteStore>, std::string> SqliteStore::open(const std::string& path,
                                                                           SyncMode sync) {
  if (auto made = make_parent_folder(path); !made) return std::unexpected(made.error());
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  if (rc != SQLITE_OK) {
    return std::unexpected("cannot open " + path + ": " +
                           (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  }
  if (auto ready = store->prepare(); !ready) {
    return std::unexpected("cannot use " + path + ": " + ready.error());
  }
  if (sync == SyncMode::full) {
    if (auto wal = store->open_wal(path); !wal) return std::unexpected(wal.error());
  }
  return store;
}

std::expected<void, std::string> SqliteStore::prepare() {
  // Both modes commit with synchronous=NORMAL; SyncMode::full adds sync() (see the header).
  constexpr const char* kPragmas =
      "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";
  if (auto done = exec(db_, kPragmas); !done) return done;
  if (auto done = exec(db_, kSchema); !done) return done;
  const std::pair<sqlite3_stmt**, const char*> statements[] = {
      {&upsert_, kUpsert},
      {&select_, "SELECT count FROM counters WHERE id = ?1"},
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
  };
  for (const auto& [stmt, sql] : statements) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) != SQLITE_OK) {
      return std::unexpected(std::string(sqlite3_errmsg(db_)));
    }
  }
  return {};
}

// Opens the WAL file for sync() and makes its directory entry durable once.
std::expected<void, std::string> SqliteStore::open_wal(const std::string& path) {
  // A read makes SQLite create the WAL file if this connection has not yet.
  if (auto read = get(""); !read) return std::unexpected("cannot read " + path);
  const std::string wal = path + "-wal";
  wal_fd_ = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
  if (wal_fd_ < 0) return std::unexpected("cannot open " + wal + ": " + std::strerror(errno));
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  const int dir_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = dir_fd >= 0 && ::fsync(dir_fd) == 0;
  if (dir_fd >= 0) ::close(dir_fd);
  if (!synced) return std::unexpected("cannot sync folder " + folder.string());
  return {};
}

StoreResult<void> SqliteStore::sync() {
  if (wal_fd_ < 0) return {};
  if (::fdatasync(wal_fd_) != 0) {
    return std::unexpected(
        StoreError{std::string("WAL fdatasync failed: ") + std::strerror(errno)});
  }
  return {};
}

SqliteStore::~SqliteStore() {
  for (sqlite3_stmt* stmt : {upsert_, select_, begin_, commit_}) sqlite3_finalize(stmt);
  sqlite3_close(db_);
  if (wal_fd_ >= 0) ::close(wal_fd_);
}

StoreError SqliteStore::fail(std::string_view what) const {
  return StoreError{std::string(what) + ": " + sqlite3_errmsg(db_)};
}

StoreResult<std::int64_t> SqliteStore::add_one(const Increment& inc) {
  sqlite3_bind_text(upsert_, 1, inc.key.data(), static_cast<int>(inc.key.size()), SQLITE_STATIC);
  sqlite3_bind_int64(upsert_, 2, inc.delta);
  const int rc = sqlite3_step(upsert_);
  const std::int64_t value = rc == SQLITE_ROW ? sqlite3_column_int64(upsert_, 0) : 0;
  const bool done = rc == SQLITE_ROW && sqlite3_step(upsert_) == SQLITE_DONE;
  sqlite3_reset(upsert_);
  sqlite3_clear_bindings(upsert_);
  if (!done) return std::unexpected(fail("increment failed"));
  return value;
}

void SqliteStore::add(std::span<const Increment> batch, const AddCallback& done) {
  report_batch(apply(batch), batch.size(), done);
}

StoreResult<std::vector<std::int64_t>> SqliteStore::apply(std::span<const Increment> batch) {
  if (!step_done(begin_)) return std::unexpected(fail("begin failed"));
  std::vector<std::int64_t> values;
  values.reserve(batch.size());
  for (const Increment& inc : batch) {
    auto value = add_one(inc);
    if (!value) {
      exec(db_, "ROLLBACK");
      return std::unexpected(value.error());
    }
    values.push_back(*value);
  }
  if (!step_done(commit_)) {
    StoreError error = fail("commit failed");
    exec(db_, "ROLLBACK");
    return std::unexpected(error);
  }
  return values;
}

StoreResult<std::optional<std::int64_t>> SqliteStore::get(std::string_view key) {
  sqlite3_bind_text(select_, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  const int rc = sqlite3_step(select_);
  std::optional<std::int64_t> value;
  if (rc == SQLITE_ROW) value = sqlite3_column_int64(select_, 0);
  sqlite3_reset(select_);
  sqlite3_clear_bindings(select_);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return std::unexpected(fail("read failed"));
  return value;
}

StoreResult<void> SqliteStore::ping() {
  auto value = get("");
  if (!value) return std::unexpected(value.error());
  return {};
}

}  // namespace store
