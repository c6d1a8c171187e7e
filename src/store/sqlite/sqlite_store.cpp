// SQLite Store: prepared statements, one IMMEDIATE transaction per batch.
#include "store/sqlite/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <unordered_set>

#include "util/crypto.hpp"
#include "util/durable_file.hpp"
#include "util/log_throttle.hpp"
#include "util/utc_day.hpp"

namespace store {
namespace {

constexpr int kSchemaVersion = 2;
// SQLite's default: a checkpoint once a commit leaves this many frames in the WAL.
constexpr int kCheckpointFrames = 1000;
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

constexpr const char* kAddTotals =
    "INSERT INTO counters (id, count, visitors) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (id) DO UPDATE SET count = count + excluded.count,"
    " visitors = visitors + excluded.visitors";
constexpr const char* kAddDay =
    "INSERT INTO days (key, day, views, visitors) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (key, day) DO UPDATE SET views = views + excluded.views,"
    " visitors = visitors + excluded.visitors";

void bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

// Runs a statement that returns no rows, then resets it for reuse.
bool step_done(sqlite3_stmt* stmt) {
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return rc == SQLITE_DONE;
}

std::expected<void, std::string> exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return {};
  std::string message = error != nullptr ? error : sqlite3_errmsg(db);
  sqlite3_free(error);
  return std::unexpected(message);
}

void bind_optional(sqlite3_stmt* stmt, int index, std::optional<std::int64_t> value) {
  if (value) {
    sqlite3_bind_int64(stmt, index, *value);
  } else {
    sqlite3_bind_null(stmt, index);
  }
}

std::string column_text(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return text == nullptr ? std::string() : std::string(text, sqlite3_column_bytes(stmt, column));
}

Totals column_totals(sqlite3_stmt* stmt, int first) {
  return {.views = sqlite3_column_int64(stmt, first),
          .visitors = sqlite3_column_int64(stmt, first + 1)};
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

// Opens the WAL file for sync() and makes its directory entry durable once.
std::expected<void, std::string> SqliteStore::open_wal(const std::string& path) {
  // A read makes SQLite create the WAL file if this connection has not yet.
  if (auto read = get(""); !read) return std::unexpected("cannot read " + path);
  const std::string wal = path + "-wal";
  wal_fd_ = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
  if (wal_fd_ < 0) return std::unexpected("cannot open " + wal + ": " + std::strerror(errno));
  return util::sync_folder_of(path);
}

// Under the write lock, so that no other connection appends to the WAL meanwhile.
std::expected<void, std::string> SqliteStore::make_durable(const std::string& path) {
  if (auto locked = exec(db_, "BEGIN IMMEDIATE"); !locked) {
    return std::unexpected("cannot lock " + path + ": " + locked.error());
  }
  auto rewritten = util::rewrite_durably(path + "-wal");
  exec(db_, "COMMIT");
  if (!rewritten) {
    return std::unexpected("cannot make the log of " + path + " durable before serving (" +
                           rewritten.error() + "): the disk may be failing");
  }
  sqlite3_wal_hook(db_, &SqliteStore::on_wal_commit, this);
  return {};
}

// SQLite's automatic checkpoint, with its result kept: a commit succeeded whatever the
// checkpoint after it did, but a failed sync in the checkpoint halts the store. A failed write
// or a full disk does not: the checkpoint copies the same frames again next time.
int SqliteStore::on_wal_commit(void* self, sqlite3* db, const char* name, int frames) {
  if (frames < kCheckpointFrames) return SQLITE_OK;
  if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) ==
      SQLITE_OK) {
    return SQLITE_OK;
  }
  const int error = sqlite3_extended_errcode(db);
  if (error == SQLITE_IOERR_FSYNC || error == SQLITE_IOERR_DIR_FSYNC) {
    static_cast<SqliteStore*>(self)->halt(std::string("a checkpoint's sync failed: ") +
                                          sqlite3_errmsg(db));
  }
  return SQLITE_OK;
}

void SqliteStore::halt(std::string why) {
  std::lock_guard lock(halt_mutex_);
  if (!halted_.empty()) return;
  halted_ = std::move(why);
  util::log_to_stderr("sqlite: " + halted_ +
                      "; the store has stopped writing: nothing more is counted until the "
                      "server restarts, which makes the log durable again first "
                      "(docs/troubleshooting.md)");
}

std::optional<StoreError> SqliteStore::halted() const {
  std::lock_guard lock(halt_mutex_);
  if (halted_.empty()) return std::nullopt;
  return StoreError{"halted after a failed sync: " + halted_, StoreError::Kind::halted};
}

StoreResult<void> SqliteStore::sync() {
  if (auto stopped = halted()) return std::unexpected(*stopped);
  if (wal_fd_ < 0) return {};
  if (::fdatasync(wal_fd_) != 0) {
    halt(std::string("fdatasync of the WAL failed: ") + std::strerror(errno));
    return std::unexpected(*halted());
  }
  return {};
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
  std::unordered_set<std::string_view> marked;  // one write per visitor, however many hits
  for (std::size_t i = 0; i < key.hits.size(); ++i) {
    const Hit& hit = key.hits[i];
    if (counted(results[i].seen) && !hit.visitor.empty() && marked.insert(hit.visitor).second) {
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
  return done;
}

template <typename T>
StoreResult<T> SqliteStore::in_transaction(const std::function<StoreResult<T>()>& body) {
  if (auto stopped = halted()) return std::unexpected(*stopped);
  if (!step_done(begin_)) return std::unexpected(fail("begin failed"));
  StoreResult<T> result = body();
  if (result && step_done(commit_)) return result;
  if (result) result = std::unexpected(fail("commit failed"));
  exec(db_, "ROLLBACK");
  return result;
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

StoreResult<std::vector<DayRow>> SqliteStore::history(std::string_view key, std::string_view from,
                                                      std::string_view to) {
  auto stmt = statement(
      "SELECT day, views, visitors FROM days WHERE key = ?1 AND day BETWEEN ?2 AND ?3"
      " ORDER BY day");
  if (!stmt) return std::unexpected(stmt.error());
  bind_text(stmt->get(), 1, key);
  bind_text(stmt->get(), 2, from);
  bind_text(stmt->get(), 3, to);
  std::vector<DayRow> rows;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    rows.push_back({column_text(stmt->get(), 0), column_totals(stmt->get(), 1)});
  }
  if (rc != SQLITE_DONE) return std::unexpected(fail("reading the history failed"));
  return rows;
}

StoreResult<CounterPage> SqliteStore::list(std::string_view prefix, std::string_view after,
                                           std::size_t limit) {
  auto stmt = statement(
      "SELECT id, count, visitors, (SELECT max(day) FROM days WHERE key = counters.id)"
      " FROM counters WHERE id >= ?1 AND id > ?2 ORDER BY id LIMIT ?3");
  if (!stmt) return std::unexpected(stmt.error());
  bind_text(stmt->get(), 1, prefix);
  bind_text(stmt->get(), 2, after);
  sqlite3_bind_int64(stmt->get(), 3, static_cast<std::int64_t>(limit) + 1);
  CounterPage page;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    std::string key = column_text(stmt->get(), 0);
    if (!key.starts_with(prefix)) break;
    if (page.counters.size() == limit) {
      if (page.counters.empty()) break;
      page.next = page.counters.back().key;
      break;
    }
    page.counters.push_back(
        {std::move(key), column_totals(stmt->get(), 1), column_text(stmt->get(), 3)});
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return std::unexpected(fail("listing failed"));
  return page;
}

StoreResult<void> SqliteStore::set_totals(std::string_view key, std::optional<std::int64_t> views,
                                          std::optional<std::int64_t> visitors) {
  counters_.reset();  // may add or remove counters
  if (auto stopped = halted()) return std::unexpected(*stopped);
  auto stmt = statement(
      "INSERT INTO counters (id, count, visitors) VALUES (?1, coalesce(?2, 0), coalesce(?3, 0))"
      " ON CONFLICT (id) DO UPDATE SET count = coalesce(?2, count),"
      " visitors = coalesce(?3, visitors)");
  if (!stmt) return std::unexpected(stmt.error());
  bind_text(stmt->get(), 1, key);
  bind_optional(stmt->get(), 2, views);
  bind_optional(stmt->get(), 3, visitors);
  if (sqlite3_step(stmt->get()) != SQLITE_DONE) return std::unexpected(fail("setting failed"));
  return {};
}

StoreResult<bool> SqliteStore::remove(std::string_view key) {
  counters_.reset();  // may add or remove counters
  return in_transaction<bool>([&]() -> StoreResult<bool> {
    bool existed = false;
    for (const char* sql :
         {"DELETE FROM counters WHERE id = ?1", "DELETE FROM days WHERE key = ?1",
          "DELETE FROM marks WHERE key = ?1", "DELETE FROM answers WHERE key = ?1"}) {
      auto stmt = statement(sql);
      if (!stmt) return std::unexpected(stmt.error());
      bind_text(stmt->get(), 1, key);
      if (sqlite3_step(stmt->get()) != SQLITE_DONE) return std::unexpected(fail("removal failed"));
      if (std::string_view(sql).starts_with("DELETE FROM counters")) {
        existed = sqlite3_changes(db_) > 0;
      }
    }
    return existed;
  });
}

StoreResult<void> SqliteStore::import(std::span<const CounterRecord> records, ImportMode mode) {
  counters_.reset();  // may add or remove counters
  const bool set = mode == ImportMode::set;
  auto put_totals = set ? statement(
                              "INSERT INTO counters (id, count, visitors) VALUES (?1, ?2, ?3)"
                              " ON CONFLICT (id) DO UPDATE SET count = excluded.count,"
                              " visitors = excluded.visitors")
                        : statement(kAddTotals);
  auto put_day = set ? statement(
                           "INSERT INTO days (key, day, views, visitors) VALUES (?1, ?2, ?3, ?4)"
                           " ON CONFLICT (key, day) DO UPDATE SET views = excluded.views,"
                           " visitors = excluded.visitors")
                     : statement(kAddDay);
  if (!put_totals) return std::unexpected(put_totals.error());
  if (!put_day) return std::unexpected(put_day.error());
  return in_transaction<void>([&]() -> StoreResult<void> {
    for (const CounterRecord& record : records) {
      bind_text(put_totals->get(), 1, record.key);
      sqlite3_bind_int64(put_totals->get(), 2, record.totals.views);
      sqlite3_bind_int64(put_totals->get(), 3, record.totals.visitors);
      if (!step_done(put_totals->get())) return std::unexpected(fail("importing a counter failed"));
      for (const DayRow& row : record.days) {
        bind_text(put_day->get(), 1, record.key);
        bind_text(put_day->get(), 2, row.day);
        sqlite3_bind_int64(put_day->get(), 3, row.totals.views);
        sqlite3_bind_int64(put_day->get(), 4, row.totals.visitors);
        if (!step_done(put_day->get())) return std::unexpected(fail("importing a day failed"));
      }
    }
    return {};
  });
}

StoreResult<void> SqliteStore::dump(const DumpSink& each) {
  auto count = statement("SELECT count(*) FROM counters");
  auto counters = statement("SELECT id, count, visitors FROM counters ORDER BY id");
  auto days = statement("SELECT key, day, views, visitors FROM days ORDER BY key, day");
  if (!count || !counters || !days) return std::unexpected(fail("cannot prepare the dump"));
  if (sqlite3_step(count->get()) != SQLITE_ROW) return std::unexpected(fail("counting failed"));
  const auto total = static_cast<std::size_t>(sqlite3_column_int64(count->get(), 0));
  int day_rc = sqlite3_step(days->get());
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(counters->get())) == SQLITE_ROW) {
    CounterRecord record{.key = column_text(counters->get(), 0),
                         .totals = column_totals(counters->get(), 1),
                         .days = {}};
    // Day rows sort by key as the counters do; rows of keys without a counter are skipped.
    for (; day_rc == SQLITE_ROW; day_rc = sqlite3_step(days->get())) {
      const auto* key = reinterpret_cast<const char*>(sqlite3_column_text(days->get(), 0));
      const int order = record.key.compare(key == nullptr ? "" : key);
      if (order < 0) break;
      if (order == 0) {
        record.days.push_back({column_text(days->get(), 1), column_totals(days->get(), 2)});
      }
    }
    if (day_rc != SQLITE_ROW && day_rc != SQLITE_DONE) break;
    each(std::move(record), total);
  }
  if (rc != SQLITE_DONE || (day_rc != SQLITE_ROW && day_rc != SQLITE_DONE)) {
    return std::unexpected(fail("the dump failed"));
  }
  return {};
}

StoreResult<void> SqliteStore::ping() {
  if (auto stopped = halted()) return std::unexpected(*stopped);
  auto value = get("");
  if (!value) return std::unexpected(value.error());
  return {};
}

std::expected<void, std::string> backup_sqlite(const std::string& path, const std::string& output) {
  sqlite3* source = nullptr;
  sqlite3* copy = nullptr;
  const std::string partial = output + ".partial";
  const auto close_both = [&] {
    sqlite3_close(copy);
    sqlite3_close(source);
  };
  if (sqlite3_open_v2(path.c_str(), &source, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string why = "cannot open " + path + ": " + sqlite3_errmsg(source);
    close_both();
    return std::unexpected(why);
  }
  sqlite3_busy_timeout(source, 5000);
  std::filesystem::remove(partial);
  if (sqlite3_open(partial.c_str(), &copy) != SQLITE_OK) {
    std::string why = "cannot write " + partial + ": " + sqlite3_errmsg(copy);
    close_both();
    return std::unexpected(why);
  }
  sqlite3_backup* backup = sqlite3_backup_init(copy, "main", source, "main");
  int rc = backup == nullptr ? SQLITE_ERROR : SQLITE_OK;
  // -1: every page in one step (see the header); BUSY or LOCKED only while another
  // connection recovers the WAL, so a short wait and the same step again.
  while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    rc = sqlite3_backup_step(backup, -1);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(5);
  }
  const int finished = backup == nullptr ? SQLITE_ERROR : sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE || finished != SQLITE_OK) {
    std::string why = "the backup failed: " + std::string(sqlite3_errmsg(copy));
    close_both();
    std::filesystem::remove(partial);
    return std::unexpected(why);
  }
  close_both();
  if (auto done = util::sync_and_rename(partial, output); !done) {
    return std::unexpected("cannot finish " + output + ": " + done.error());
  }
  return {};
}

}  // namespace store
