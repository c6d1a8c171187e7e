// SQLite Store: opening (schema and migration), batches (prepared statements, one
// IMMEDIATE transaction per batch), salts and clean-ups.
#include "store/sqlite/sqlite_store.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <system_error>
#include <unordered_set>

#include "store/sqlite/sqlite_helpers.hpp"
#include "util/crypto.hpp"
#include "util/utc_day.hpp"

namespace store {
namespace {

constexpr int kSchemaVersion = 2;
// Rows of a kind forget_before() deletes per call: a few milliseconds between two batches.
constexpr int kForgetChunk = 2000;

// From nothing or from version 1 (the classic counters table) to version 2. Idempotent.
constexpr const char* kMigrateToV2 =
    "CREATE TABLE IF NOT EXISTS counters ("
    " id TEXT PRIMARY KEY NOT NULL, count INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS days ("
    " key TEXT NOT NULL, day TEXT NOT NULL,"
    " views INTEGER NOT NULL, visitors INTEGER NOT NULL,"
    " PRIMARY KEY (key, day)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS marks ("
    " day TEXT NOT NULL, key TEXT NOT NULL, visitor TEXT NOT NULL, seen INTEGER NOT NULL,"
    " PRIMARY KEY (day, key, visitor)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS salts ("
    " day TEXT PRIMARY KEY NOT NULL, salt BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS answers ("
    " key TEXT NOT NULL, idempotency_key TEXT NOT NULL,"
    " views INTEGER NOT NULL, visitors INTEGER NOT NULL, expires INTEGER NOT NULL,"
    " PRIMARY KEY (key, idempotency_key)) WITHOUT ROWID;";

std::expected<void, std::string> make_parent_folder(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return {};
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return std::unexpected("cannot create " + parent.string() + ": " + ec.message());
  return {};
}

}  // namespace

using namespace sqlite_detail;

std::expected<std::unique_ptr<SqliteStore>, std::string> SqliteStore::open(const std::string& path,
                                                                           SyncMode sync,
                                                                           bool create) {
  if (!create) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      return std::unexpected("no database at " + path + " (this command never creates one)");
    }
  } else if (auto made = make_parent_folder(path); !made) {
    return std::unexpected(made.error());
  }
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  store->upgrade_ = create;  // a command that only reads neither creates nor upgrades
  if (rc != SQLITE_OK) {
    return std::unexpected("cannot open " + path + ": " +
                           (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  }
  if (auto ready = store->prepare(); !ready) {
    return std::unexpected("cannot use " + path + ": " + ready.error());
  }
  if (auto durable = store->make_durable(path); !durable) return std::unexpected(durable.error());
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
  if (auto done = migrate(); !done) return done;
  const std::pair<sqlite3_stmt**, const char*> statements[] = {
      {&add_totals_, kAddTotals},
      {&add_day_, kAddDay},
      {&select_, "SELECT count, visitors FROM counters WHERE id = ?1"},
      {&select_mark_, "SELECT seen FROM marks WHERE day = ?1 AND key = ?2 AND visitor = ?3"},
      {&put_mark_,
       "INSERT OR REPLACE INTO marks (day, key, visitor, seen) VALUES (?1, ?2, ?3, ?4)"},
      {&put_salt_, "INSERT OR IGNORE INTO salts (day, salt) VALUES (?1, ?2)"},
      {&select_answer_,
       "SELECT views, visitors FROM answers WHERE key = ?1 AND idempotency_key = ?2"
       " AND expires > ?3"},
      {&put_answer_,
       "INSERT OR REPLACE INTO answers (key, idempotency_key, views, visitors, expires)"
       " VALUES (?1, ?2, ?3, ?4, ?5)"},
      {&select_salt_, "SELECT salt FROM salts WHERE day = ?1"},
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

// Brings the file to kSchemaVersion in one transaction, or refuses a newer one.
std::expected<void, std::string> SqliteStore::migrate() {
  if (auto begun = exec(db_, "BEGIN IMMEDIATE"); !begun) return begun;
  auto rollback = [this](std::string why) {
    exec(db_, "ROLLBACK");
    return std::unexpected(std::move(why));
  };
  int version = 0;
  bool has_visitors = false;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    version = sqlite3_column_int(stmt, 0);
  }
  sqlite3_finalize(stmt);
  if (version > kSchemaVersion) {
    return rollback("schema version " + std::to_string(version) +
                    " is newer than this program's (" + std::to_string(kSchemaVersion) +
                    "); use a newer visitor-counter");
  }
  if (version == kSchemaVersion) return exec(db_, "COMMIT");
  if (!upgrade_) {
    return rollback("schema version " + std::to_string(version) +
                    " is older than this program's (" + std::to_string(kSchemaVersion) +
                    "); this command only reads: start `visitor-counter serve` on the file once "
                    "to upgrade it");
  }
  if (auto made = exec(db_, kMigrateToV2); !made) return rollback(made.error());
  if (sqlite3_prepare_v2(db_, "SELECT 1 FROM pragma_table_info('counters') WHERE name = 'visitors'",
                         -1, &stmt, nullptr) == SQLITE_OK) {
    has_visitors = sqlite3_step(stmt) == SQLITE_ROW;
  }
  sqlite3_finalize(stmt);
  if (!has_visitors) {
    auto added = exec(db_, "ALTER TABLE counters ADD COLUMN visitors INTEGER NOT NULL DEFAULT 0");
    if (!added) return rollback(added.error());
  }
  auto versioned = exec(db_, "PRAGMA user_version = " + std::to_string(kSchemaVersion));
  if (!versioned) return rollback(versioned.error());
  return exec(db_, "COMMIT");
}

SqliteStore::~SqliteStore() {
  for (sqlite3_stmt* stmt : {add_totals_, add_day_, select_, select_mark_, put_mark_, put_salt_,
                             select_salt_, select_answer_, put_answer_, begin_, commit_}) {
    sqlite3_finalize(stmt);
  }
  // Halted: no checkpoint at close. It would make the database file newer than what the disk
  // holds of the WAL, whose older frames a power cut could then lay over it. The next start
  // rewrites the WAL instead.
  if (halted()) sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  sqlite3_close(db_);
  if (wal_fd_ >= 0) ::close(wal_fd_);
}

StoreError SqliteStore::fail(std::string_view what) const {
  return StoreError{std::string(what) + ": " + sqlite3_errmsg(db_)};
}

StoreResult<std::vector<HitResult>> SqliteStore::add_key(const Batch& batch, const KeyHits& key,
                                                         std::size_t& created) {
  auto before = get(key.key);
  if (!before) return std::unexpected(before.error());
  if (!*before && !batch.create_counters) {
    return std::unexpected(
        StoreError{"only the owner creates counters", StoreError::Kind::refused});
  }
  if (!*before && batch.max_counters > 0) {  // a new counter, if any hit counts
    if (!counters_) {
      auto counted = count_counters();
      if (!counted) return std::unexpected(counted.error());
      counters_ = *counted;
    }
    if (*counters_ + created >= batch.max_counters) {
      return std::unexpected(StoreError{"too many counters", StoreError::Kind::refused});
    }
  }
  bool read_failed = false;
  auto seen_at = [&](std::string_view visitor) -> std::optional<std::int64_t> {
    bind_text(select_mark_, 1, batch.day);
    bind_text(select_mark_, 2, key.key);
    bind_text(select_mark_, 3, visitor);
    const int rc = sqlite3_step(select_mark_);
    std::optional<std::int64_t> seen;
    if (rc == SQLITE_ROW) seen = sqlite3_column_int64(select_mark_, 0);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) read_failed = true;
    sqlite3_reset(select_mark_);
    sqlite3_clear_bindings(select_mark_);
    return seen;
  };
  auto answered = [&](std::string_view token) -> std::optional<Answered> {
    bind_text(select_answer_, 1, key.key);
    bind_text(select_answer_, 2, token);
    sqlite3_bind_int64(select_answer_, 3, batch.now);
    const int rc = sqlite3_step(select_answer_);
    std::optional<Answered> known;
    if (rc == SQLITE_ROW) {
      known = Answered{.seen = Seen::replayed,
                       .totals = {.views = sqlite3_column_int64(select_answer_, 0),
                                  .visitors = sqlite3_column_int64(select_answer_, 1)}};
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) read_failed = true;
    sqlite3_reset(select_answer_);
    sqlite3_clear_bindings(select_answer_);
    return known;
  };
  std::vector<HitResult> results =
      decide_hits(batch, key, before->value_or(Totals{}), seen_at, answered);
  if (read_failed) return std::unexpected(fail("reading a visitor mark or an answer failed"));
  // One write per visitor, however many hits; none for a returning visitor when no repeat
  // window reads the mark's time: its mark already says what matters, that it came today.
  std::unordered_set<std::string_view> marked;
  for (std::size_t i = 0; i < key.hits.size(); ++i) {
    const Hit& hit = key.hits[i];
    const bool stamp = results[i].seen == Seen::new_visitor ||
                       (results[i].seen == Seen::returning && batch.repeat_window > 0);
    if (stamp && !hit.visitor.empty() && marked.insert(hit.visitor).second) {
      bind_text(put_mark_, 1, batch.day);
      bind_text(put_mark_, 2, key.key);
      bind_text(put_mark_, 3, hit.visitor);
      sqlite3_bind_int64(put_mark_, 4, batch.now);
      if (!step_done(put_mark_)) return std::unexpected(fail("writing a visitor mark failed"));
    }
    if (remembered(hit, results[i].seen)) {
      bind_text(put_answer_, 1, key.key);
      bind_text(put_answer_, 2, hit.idempotency_key);
      sqlite3_bind_int64(put_answer_, 3, results[i].totals.views);
      sqlite3_bind_int64(put_answer_, 4, results[i].totals.visitors);
      sqlite3_bind_int64(put_answer_, 5, batch.now + kIdempotencySeconds);
      if (!step_done(put_answer_)) return std::unexpected(fail("remembering an answer failed"));
    }
  }
  const Totals gain = gained(results);
  if (gain.views == 0) return results;  // only repeats
  if (!*before) ++created;
  bind_text(add_totals_, 1, key.key);
  sqlite3_bind_int64(add_totals_, 2, gain.views);
  sqlite3_bind_int64(add_totals_, 3, gain.visitors);
  if (!step_done(add_totals_)) return std::unexpected(fail("increment failed"));
  if (!batch.history) return results;
  bind_text(add_day_, 1, key.key);
  bind_text(add_day_, 2, batch.day);
  sqlite3_bind_int64(add_day_, 3, gain.views);
  sqlite3_bind_int64(add_day_, 4, gain.visitors);
  if (!step_done(add_day_)) return std::unexpected(fail("daily row update failed"));
  return results;
}

void SqliteStore::add(const Batch& batch, const AddCallback& done) {
  auto results = apply(batch);
  if (!results) {
    if (results.error().kind != StoreError::Kind::halted) {
      failure_log_.log("sqlite: a batch failed: " + results.error().message);
    }
    return report_batch(std::unexpected(results.error()), batch.keys.size(), done);
  }
  for (std::size_t i = 0; i < results->size(); ++i) done(i, std::move((*results)[i]));
}

StoreResult<std::vector<StoreResult<std::vector<HitResult>>>> SqliteStore::apply(
    const Batch& batch) {
  if (auto stopped = halted()) return std::unexpected(*stopped);
  if (!step_done(begin_)) return std::unexpected(fail("begin failed"));
  std::vector<StoreResult<std::vector<HitResult>>> results;
  results.reserve(batch.keys.size());
  std::size_t created = 0;  // new counters in this batch
  for (const KeyHits& key : batch.keys) {
    auto key_results = add_key(batch, key, created);
    if (!key_results && key_results.error().kind != StoreError::Kind::refused) {
      exec(db_, "ROLLBACK");
      return std::unexpected(key_results.error());
    }
    results.push_back(std::move(key_results));  // a refused key wrote nothing
  }
  if (!step_done(commit_)) {
    StoreError error = fail("commit failed");
    exec(db_, "ROLLBACK");
    return std::unexpected(error);
  }
  if (counters_) *counters_ += created;
  if (auto stopped = halted()) {  // by this commit's checkpoint: committed, maybe not durable
    return std::unexpected(StoreError{stopped->message, StoreError::Kind::outcome_unknown});
  }
  return results;
}

StoreResult<std::size_t> SqliteStore::count_counters() {
  auto stmt = statement("SELECT count(*) FROM counters");
  if (!stmt) return std::unexpected(stmt.error());
  if (sqlite3_step(stmt->get()) != SQLITE_ROW) return std::unexpected(fail("counting failed"));
  return static_cast<std::size_t>(sqlite3_column_int64(stmt->get(), 0));
}

StoreResult<std::optional<Totals>> SqliteStore::get(std::string_view key) {
  bind_text(select_, 1, key);
  const int rc = sqlite3_step(select_);
  std::optional<Totals> totals;
  if (rc == SQLITE_ROW) {
    totals = Totals{.views = sqlite3_column_int64(select_, 0),
                    .visitors = sqlite3_column_int64(select_, 1)};
  }
  sqlite3_reset(select_);
  sqlite3_clear_bindings(select_);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return std::unexpected(fail("read failed"));
  return totals;
}

StoreResult<std::string> SqliteStore::salt(std::string_view day) {
  if (auto stopped = halted()) return std::unexpected(*stopped);
  std::optional<std::string> fresh = util::random_bytes(32);
  if (!fresh) return std::unexpected(StoreError{"no random bytes for the day's salt"});
  bind_text(put_salt_, 1, day);
  sqlite3_bind_blob(put_salt_, 2, fresh->data(), static_cast<int>(fresh->size()), SQLITE_STATIC);
  if (!step_done(put_salt_)) return std::unexpected(fail("storing the day's salt failed"));
  bind_text(select_salt_, 1, day);
  const int rc = sqlite3_step(select_salt_);
  std::optional<std::string> salt;
  if (rc == SQLITE_ROW) {
    const auto* bytes = static_cast<const char*>(sqlite3_column_blob(select_salt_, 0));
    salt = std::string(bytes, static_cast<std::size_t>(sqlite3_column_bytes(select_salt_, 0)));
  }
  sqlite3_reset(select_salt_);
  sqlite3_clear_bindings(select_salt_);
  if (!salt) return std::unexpected(fail("reading the day's salt failed"));
  return *salt;
}

StoreResult<bool> SqliteStore::forget_before(std::string_view day) {
  // Salts (a few rows) first, then at most kForgetChunk marks of earlier days and as many
  // answers to Idempotency-Keys that expired by the day's start (the ones that expire later
  // today are ignored when read, and go tomorrow), each its own short transaction.
  if (auto stopped = halted()) return std::unexpected(*stopped);
  constexpr const char* kCleanUps[] = {
      "DELETE FROM salts WHERE day < ?1",
      "DELETE FROM marks WHERE (day, key, visitor) IN"
      " (SELECT day, key, visitor FROM marks WHERE day < ?1 LIMIT ?3)",
      "DELETE FROM answers WHERE (key, idempotency_key) IN"
      " (SELECT key, idempotency_key FROM answers WHERE expires <= ?2 LIMIT ?3)"};
  bool done = true;
  for (const char* sql : kCleanUps) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
      return std::unexpected(fail("cannot prepare a clean-up"));
    }
    if (sqlite3_bind_parameter_index(stmt, "?1") > 0) bind_text(stmt, 1, day);
    if (sqlite3_bind_parameter_index(stmt, "?2") > 0) {
      sqlite3_bind_int64(stmt, 2, util::day_start(day));
    }
    if (sqlite3_bind_parameter_index(stmt, "?3") > 0) sqlite3_bind_int64(stmt, 3, kForgetChunk);
    const int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return std::unexpected(fail("clean-up failed"));
    if (sqlite3_changes(db_) >= kForgetChunk) done = false;  // maybe more
  }
  if (keep_days_ > 0) {
    auto reached_end = forget_old_days(util::days_before(day, keep_days_ - 1));
    if (!reached_end) return std::unexpected(reached_end.error());
    if (!*reached_end) done = false;
  }
  return done;
}

std::expected<void, std::string> SqliteStore::keep_days(int days) {
  keep_days_ = days;
  return {};
}

StoreResult<bool> SqliteStore::forget_old_days(const std::string& first_kept) {
  // Counters in key order, kRetentionChunk at a time: each one's old rows are one range of
  // the primary key (key, day), so a chunk costs as many index seeks as it has counters,
  // whatever the size of the history. The counters' last key in the chunk is the cursor.
  constexpr int kRetentionChunk = 500;
  auto chunk = statement(
      "SELECT count(*), max(id) FROM"
      " (SELECT id FROM counters WHERE id > ?1 ORDER BY id LIMIT ?2)");
  auto remove = statement(
      "DELETE FROM days WHERE key IN"
      " (SELECT id FROM counters WHERE id > ?1 ORDER BY id LIMIT ?2) AND day < ?3");
  if (!chunk) return std::unexpected(chunk.error());
  if (!remove) return std::unexpected(remove.error());
  for (sqlite3_stmt* stmt : {chunk->get(), remove->get()}) {
    bind_text(stmt, 1, retention_cursor_);
    sqlite3_bind_int64(stmt, 2, kRetentionChunk);
  }
  bind_text(remove->get(), 3, first_kept);
  if (sqlite3_step(chunk->get()) != SQLITE_ROW) return std::unexpected(fail("retention failed"));
  const std::int64_t counters = sqlite3_column_int64(chunk->get(), 0);
  const auto* last = sqlite3_column_text(chunk->get(), 1);
  std::string next = last != nullptr ? reinterpret_cast<const char*>(last) : "";
  if (sqlite3_step(remove->get()) != SQLITE_DONE) {
    return std::unexpected(fail("deleting old days failed"));
  }
  const bool reached_end = counters < kRetentionChunk;
  retention_cursor_ = reached_end ? std::string() : std::move(next);
  return reached_end;
}

void SqliteStore::Finalize::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

StoreResult<SqliteStore::Statement> SqliteStore::statement(const char* sql) const {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return std::unexpected(fail("cannot prepare a statement"));
  }
  return Statement(stmt);
}

StoreResult<void> SqliteStore::ping() {
  if (auto stopped = halted()) return std::unexpected(*stopped);
  auto value = get("");
  if (!value) return std::unexpected(value.error());
  return {};
}

}  // namespace store
