// A copy of a SQLite store's file, taken while a server may be writing to it.
#pragma once

#include <expected>
#include <string>

namespace store {

// Copies the SQLite database at `path` to `output` with SQLite's online backup API: a
// consistent snapshot even while a server writes to it. All pages are copied in one step, in
// one read transaction, which in WAL mode sees one snapshot and does not block writers, so
// the copy takes time proportional to the size whatever the write load (a copy in several
// steps starts over whenever a write lands between them). `output` is written beside itself,
// fsynced, then renamed into place, and its folder is synced. The copy holds no salt and no
// visitor marks (so a restored copy counts today's visitors again), and it is in rollback-
// journal mode: one file. Fails with a one-line reason.
std::expected<void, std::string> backup_sqlite(const std::string& path, const std::string& output);

}  // namespace store
