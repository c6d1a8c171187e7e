// backup_sqlite: SQLite's online backup API in one step, then a durable rename.
#include "store/sqlite/sqlite_backup.hpp"

#include <sqlite3.h>

#include <filesystem>

#include "util/durable_file.hpp"

namespace store {

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
  // The copy keeps the counters, their history and the Idempotency-Key answers, but not the
  // day's salt nor the visitor marks made with it: a backup kept for years must not let
  // anyone recompute who visited. secure_delete overwrites the freed pages; the rollback
  // journal (the copy leaves WAL mode, so no -wal file is left beside it) is deleted at
  // commit.
  // (A file of schema version 1, never opened by a newer server, has neither table.)
  std::string clear = "PRAGMA journal_mode=DELETE; PRAGMA secure_delete=ON; BEGIN;";
  for (const char* table : {"marks", "salts"}) {
    sqlite3_stmt* exists = nullptr;
    const std::string query =
        std::string("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '") + table + "'";
    if (sqlite3_prepare_v2(copy, query.c_str(), -1, &exists, nullptr) == SQLITE_OK &&
        sqlite3_step(exists) == SQLITE_ROW) {
      clear += std::string(" DELETE FROM ") + table + ";";
    }
    sqlite3_finalize(exists);
  }
  clear += " COMMIT;";
  char* error = nullptr;
  if (sqlite3_exec(copy, clear.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string why = "cannot clear the day's salt from the copy: " +
                      std::string(error != nullptr ? error : sqlite3_errmsg(copy));
    sqlite3_free(error);
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
