// SQLite store, the owner's calls: history, listing, setting totals, removing, importing
// and dumping, each in its own statements (and a transaction where it writes several rows).
#include "store/sqlite/sqlite_helpers.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace store {

using namespace sqlite_detail;

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

}  // namespace store
