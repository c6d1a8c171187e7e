// The SQLite store's own helpers, shared by its source files (sqlite_store.cpp, its owner's
// calls and its durability): statement steps, bindings, columns, and the upserts that add.
// Internal to store/sqlite/.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "store/store.hpp"

namespace store::sqlite_detail {

inline constexpr const char* kAddTotals =
    "INSERT INTO counters (id, count, visitors) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (id) DO UPDATE SET count = count + excluded.count,"
    " visitors = visitors + excluded.visitors";
inline constexpr const char* kAddDay =
    "INSERT INTO days (key, day, views, visitors) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (key, day) DO UPDATE SET views = views + excluded.views,"
    " visitors = visitors + excluded.visitors";

inline void bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

// Runs a statement that returns no rows, then resets it for reuse.
inline bool step_done(sqlite3_stmt* stmt) {
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return rc == SQLITE_DONE;
}

inline std::expected<void, std::string> exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return {};
  std::string message = error != nullptr ? error : sqlite3_errmsg(db);
  sqlite3_free(error);
  return std::unexpected(message);
}

inline void bind_optional(sqlite3_stmt* stmt, int index, std::optional<std::int64_t> value) {
  if (value) {
    sqlite3_bind_int64(stmt, index, *value);
  } else {
    sqlite3_bind_null(stmt, index);
  }
}

inline std::string column_text(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return text == nullptr ? std::string() : std::string(text, sqlite3_column_bytes(stmt, column));
}

inline Totals column_totals(sqlite3_stmt* stmt, int first) {
  return {.views = sqlite3_column_int64(stmt, first),
          .visitors = sqlite3_column_int64(stmt, first + 1)};
}

}  // namespace store::sqlite_detail
