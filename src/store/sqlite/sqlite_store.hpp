// A Store on one SQLite file in WAL mode, schema version 2 (`PRAGMA user_version`):
//   counters(id PRIMARY KEY, count, visitors)   the totals; `count` is the views
//   days(key, day, views, visitors)             the daily history
//   marks(day, key, visitor, seen)              visitors counted today, by salted id
//   salts(day PRIMARY KEY, salt)                each day's salt, deleted after its day
//   answers(key, idempotency_key, views, visitors, expires)   answers to Idempotency-Keys
// A version 1 file (counters(id, count) only) is upgraded in place when opened; a newer
// version is refused. A batch is one transaction: marks, day rows and totals together. With
// SyncMode::full the store defers its sync: a commit only writes the WAL (SQLite's
// synchronous=NORMAL, which keeps checkpoints safe) and sync() fdatasyncs the WAL file, making
// every commit written before it durable, exactly what synchronous=FULL does at each commit, but
// overlapped with the next batch. This relies on SQLite keeping one WAL file (inode) while the
// connection is open: true with the defaults used here (no journal_size_limit, no TRUNCATE
// checkpoints while it runs). One thread at a time (the write combiner's) uses it; sync() may
// run beside it.
//
// A failed sync halts the store (docs/architecture.md, "A failed sync"): Linux reports a
// write-back error once and then marks the lost pages clean, so a later sync "succeeds"
// without them. After a failed fdatasync of the WAL, or a failed sync inside one of SQLite's
// own checkpoints, every later add() and sync() fails (`halted`), and ping() says why, until
// the process restarts, and closing it skips the checkpoint. Opening writes the WAL over
// itself and fdatasyncs it under the write lock, before serving: what the page cache returns
// of it (what SQLite reads) is then what the disk holds, so a restart after a failed sync
// makes everything it serves durable first, or refuses to start.
#pragma once

#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "store/store.hpp"
#include "util/log_throttle.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace store {

class SqliteStore final : public Store {
 public:
  // Opens or creates the database at `path` (and its parent folder). Fails when the path
  // is unusable or the file is not an SQLite database, and, with `create` false (a command
  // that only reads), when there is no file at `path` or its schema is older (then it
  // neither creates nor upgrades anything).
  static std::expected<std::unique_ptr<SqliteStore>, std::string> open(const std::string& path,
                                                                       SyncMode sync,
                                                                       bool create = true);
  ~SqliteStore() override;

  // One transaction: every key or none. A failed commit reports `failed` to all.
  void add(const Batch& batch, const AddCallback& done) override;
  StoreResult<std::optional<Totals>> get(std::string_view key) override;
  StoreResult<std::string> salt(std::string_view day) override;
  StoreResult<bool> forget_before(std::string_view day) override;
  std::expected<void, std::string> keep_days(int days) override;
  StoreResult<std::vector<DayRow>> history(std::string_view key, std::string_view from,
                                           std::string_view to) override;
  StoreResult<CounterPage> list(std::string_view prefix, std::string_view after,
                                std::size_t limit) override;
  StoreResult<void> set_totals(std::string_view key, std::optional<std::int64_t> views,
                               std::optional<std::int64_t> visitors) override;
  // One transaction: the counter and its rows in days, marks and answers.
  StoreResult<bool> remove(std::string_view key) override;
  // One transaction for all the records.
  StoreResult<void> import(std::span<const CounterRecord> records, ImportMode mode) override;
  // Two ordered scans, of counters and of days, merged: memory stays bounded by one counter.
  StoreResult<void> dump(const DumpSink& each) override;
  StoreResult<void> ping() override;
  bool defers_sync() const override { return wal_fd_ >= 0; }
  bool in_process() const override { return true; }
  StoreResult<void> sync() override;

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  std::expected<void, std::string> open_wal(const std::string& path);
  // The WAL rewritten at start-up (see the file comment); then SQLite's automatic
  // checkpoints go through on_wal_commit().
  std::expected<void, std::string> make_durable(const std::string& path);
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int frames);
  // Stops every later write for good, logging `why` once.
  void halt(std::string why);
  // The error a halted store answers with, or nullopt.
  std::optional<StoreError> halted() const;
  std::expected<void, std::string> prepare();
  std::expected<void, std::string> migrate();
  // `created` counts the batch's new counters so far (for Batch::max_counters).
  StoreResult<std::vector<HitResult>> add_key(const Batch& batch, const KeyHits& key,
                                              std::size_t& created);
  // The batch's results per key (a key refused by max_counters among them), or the one
  // error that failed the whole transaction.
  StoreResult<std::vector<StoreResult<std::vector<HitResult>>>> apply(const Batch& batch);
  StoreResult<std::size_t> count_counters();
  StoreError fail(std::string_view what) const;
  // A statement prepared for one call, finalized when it goes out of scope.
  struct Finalize {
    void operator()(sqlite3_stmt* stmt) const;
  };
  using Statement = std::unique_ptr<sqlite3_stmt, Finalize>;
  StoreResult<Statement> statement(const char* sql) const;
  // Runs `body` in one IMMEDIATE transaction: committed when it succeeds, else rolled back.
  template <typename T>
  StoreResult<T> in_transaction(const std::function<StoreResult<T>()>& body);

  sqlite3* db_;
  sqlite3_stmt* add_totals_ = nullptr;
  sqlite3_stmt* add_day_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
  sqlite3_stmt* select_mark_ = nullptr;
  sqlite3_stmt* put_mark_ = nullptr;
  sqlite3_stmt* put_salt_ = nullptr;
  sqlite3_stmt* select_salt_ = nullptr;
  sqlite3_stmt* select_answer_ = nullptr;
  sqlite3_stmt* put_answer_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  int wal_fd_ = -1;  // the WAL file, for sync(); -1 with SyncMode::normal
  // Retention (keep_days): 0 keeps every day. The clean-up goes through the counters in key
  // order, a chunk per forget_before() call; the cursor is the last key done ("" to start).
  int keep_days_ = 0;
  bool upgrade_ = true;  // false: an older schema is refused, not upgraded (open's `create`)
  std::string retention_cursor_;
  // One chunk of retention: deletes the day rows before `first_kept` of the next counters
  // after the cursor. True when it reached the last counter.
  StoreResult<bool> forget_old_days(const std::string& first_kept);
  // How many counters the file holds, once counted; forgotten by the owner's changes.
  std::optional<std::size_t> counters_;
  util::LogThrottle failure_log_{util::log_to_stderr};  // failed batches (a full disk)
  mutable std::mutex halt_mutex_;
  std::string halted_;  // why the store halted; empty while it has not
};

}  // namespace store
