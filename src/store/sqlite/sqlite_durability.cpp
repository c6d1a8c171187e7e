// SQLite store, durability: the WAL synced for deferred acknowledgements, SQLite's own
// checkpoints watched, a failed sync halting the store, and the WAL written over itself at
// start-up (sqlite_store.hpp says why).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/sqlite/sqlite_helpers.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "util/durable_file.hpp"
#include "util/log_throttle.hpp"

namespace store {
namespace {

// SQLite's default: a checkpoint once a commit leaves this many frames in the WAL.
constexpr int kCheckpointFrames = 1000;

}  // namespace

using namespace sqlite_detail;

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

}  // namespace store
