// DynamoDB Store, the owner's calls: history with BatchGetItem, listing and dumping with a
// whole-table Scan, setting totals, removing a counter with everything under its key, and
// importing with BatchWriteItem (unprocessed items sent again) or UpdateItem ADD.
#include <algorithm>
#include <map>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/dynamodb/dynamodb_json.hpp"
#include "store/dynamodb/dynamodb_store.hpp"
#include "util/task_queue.hpp"
#include "util/utc_day.hpp"

using std::chrono::milliseconds;

namespace store {

namespace {

constexpr std::size_t kMaxBatchGet = 100;   // keys per BatchGetItem
constexpr std::size_t kMaxBatchWrite = 25;  // requests per BatchWriteItem
constexpr int kMaxHistoryDays = 366;
constexpr std::string_view kDayInfix = "#day#";

bool is_counter_key(std::string_view key) {
  return !key.empty() && key.find('#') == std::string_view::npos;
}

std::string day_row_id(std::string_view key, std::string_view day) {
  return std::string(key).append(kDayInfix).append(day);
}

// The key and day of a day row's id `<key>#day#YYYY-MM-DD`; nullopt for any other item.
std::optional<std::pair<std::string_view, std::string_view>> day_row_of(std::string_view id) {
  const std::size_t hash = id.find('#');
  if (hash == 0 || hash == std::string_view::npos) return std::nullopt;
  const std::string_view rest = id.substr(hash);
  if (!rest.starts_with(kDayInfix) || rest.size() != kDayInfix.size() + 10) return std::nullopt;
  return std::pair(id.substr(0, hash), rest.substr(kDayInfix.size()));
}

// Why `records` cannot be imported, or nullopt.
std::optional<std::string> bad_record(std::span<const CounterRecord> records) {
  for (const CounterRecord& record : records) {
    if (!is_counter_key(record.key)) return "import: bad counter key '" + record.key + "'";
    for (const DayRow& row : record.days) {
      if (!util::parse_utc_day(row.day)) {
        return "import: bad day '" + row.day + "' of counter " + record.key;
      }
    }
  }
  return std::nullopt;
}

// The PutRequests that make the counters and their listed days' rows equal to `records`.
std::vector<dynamodb::ItemWrite> put_writes(std::span<const CounterRecord> records) {
  std::vector<dynamodb::ItemWrite> writes;
  for (const CounterRecord& record : records) {
    writes.push_back(
        {record.key, {{"count", record.totals.views}, {"visitors", record.totals.visitors}}});
    for (const DayRow& row : record.days) {
      writes.push_back({day_row_id(record.key, row.day),
                        {{"views", row.totals.views}, {"visitors", row.totals.visitors}}});
    }
  }
  return writes;
}

// The UpdateItems that add `records` to the counters and their listed days' rows.
std::vector<std::string> add_requests(std::string_view table,
                                      std::span<const CounterRecord> records) {
  std::vector<std::string> requests;
  for (const CounterRecord& record : records) {
    const Totals& totals = record.totals;
    requests.push_back(dynamodb::add_request(
        table, record.key, {{"count", totals.views}, {"visitors", totals.visitors}}, false));
    for (const DayRow& row : record.days) {
      requests.push_back(dynamodb::add_request(
          table, day_row_id(record.key, row.day),
          {{"views", row.totals.views}, {"visitors", row.totals.visitors}}, false));
    }
  }
  return requests;
}

}  // namespace

StoreResult<std::vector<DayRow>> DynamoDbStore::history(std::string_view key, std::string_view from,
                                                        std::string_view to) {
  const auto first = util::parse_utc_day(from);
  const auto last = util::parse_utc_day(to);
  if (!first || !last) {
    return std::unexpected(fail(
        "BatchGetItem", "history: bad day range " + std::string(from) + ".." + std::string(to)));
  }
  if (*last - *first >= std::chrono::days{kMaxHistoryDays}) {
    return std::unexpected(fail("BatchGetItem", "history: more than 366 days asked"));
  }
  std::vector<std::string> ids;
  for (auto day = *first; day <= *last; day += std::chrono::days{1}) {
    ids.push_back(day_row_id(key, util::utc_day(day)));
  }
  std::vector<DayRow> rows;
  for (std::size_t at = 0; at < ids.size(); at += kMaxBatchGet) {
    const auto chunk = std::span(ids).subspan(at, std::min(kMaxBatchGet, ids.size() - at));
    auto items = get_batch({chunk.begin(), chunk.end()});
    if (!items) return std::unexpected(items.error());
    for (const dynamodb::ReadItem& item : *items) {
      const auto row = day_row_of(item.id);
      if (!row || row->first != key) continue;
      rows.push_back({std::string(row->second),
                      {.views = item.views.value_or(0), .visitors = item.visitors.value_or(0)}});
    }
  }
  std::ranges::sort(rows, {}, &DayRow::day);
  return rows;
}

StoreResult<std::vector<std::optional<Totals>>> DynamoDbStore::get_many(
    std::span<const std::string> keys) {
  std::unordered_map<std::string_view, std::size_t> at_index;  // a key asked twice: one read
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (at_index.try_emplace(keys[i], i).second) ids.push_back(keys[i]);
  }
  std::vector<std::optional<Totals>> out(keys.size());
  for (std::size_t at = 0; at < ids.size(); at += kMaxBatchGet) {
    const auto chunk = std::span(ids).subspan(at, std::min(kMaxBatchGet, ids.size() - at));
    auto items = get_batch({chunk.begin(), chunk.end()});
    if (!items) return std::unexpected(items.error());
    for (const dynamodb::ReadItem& item : *items) {
      const auto found = at_index.find(item.id);
      if (found == at_index.end() || !item.count) continue;  // not a counter (as get())
      out[found->second] = Totals{.views = *item.count, .visitors = item.visitors.value_or(0)};
    }
  }
  for (std::size_t i = 0; i < keys.size(); ++i) out[i] = out[at_index.at(keys[i])];
  return out;
}

StoreResult<DynamoDbStore::CounterMap> DynamoDbStore::scan_counters(std::string_view prefix) {
  CounterMap counters;
  std::vector<std::pair<std::string, DayRow>> days;  // (key, row)
  auto scanned = scan(
      [&](std::string_view start) {
        return dynamodb::counters_scan_request(config_.table, prefix, start);
      },
      [&](dynamodb::ReadItem item) {
        const Totals totals{.views = item.views.value_or(0), .visitors = item.visitors.value_or(0)};
        if (const auto row = day_row_of(item.id)) {
          days.emplace_back(row->first, DayRow{std::string(row->second), totals});
        } else if (is_counter_key(item.id) && item.count && item.id.starts_with(prefix)) {
          CounterRecord record{.key = item.id,
                               .totals = {.views = *item.count, .visitors = totals.visitors},
                               .days = {}};
          counters.emplace(std::move(item.id), std::move(record));
        }
      });
  if (!scanned) return std::unexpected(scanned.error());
  for (auto& [key, row] : days) {
    if (const auto it = counters.find(key); it != counters.end()) {
      it->second.days.push_back(std::move(row));
    }
  }
  for (auto& [key, record] : counters) std::ranges::sort(record.days, {}, &DayRow::day);
  return counters;
}

StoreResult<CounterPage> DynamoDbStore::list(std::string_view prefix, std::string_view after,
                                             std::size_t limit) {
  auto counters = scan_counters(prefix);
  if (!counters) return std::unexpected(counters.error());
  CounterPage page;
  for (auto it = counters->upper_bound(after); it != counters->end(); ++it) {
    if (page.counters.size() == limit) {
      if (limit > 0) page.next = page.counters.back().key;
      break;
    }
    const CounterRecord& record = it->second;
    page.counters.push_back({.key = record.key,
                             .totals = record.totals,
                             .last_day = record.days.empty() ? "" : record.days.back().day});
  }
  return page;
}

StoreResult<void> DynamoDbStore::dump(const DumpSink& each) {
  auto counters = scan_counters("");
  if (!counters) return std::unexpected(counters.error());
  for (auto& [key, record] : *counters) each(std::move(record), counters->size());
  return {};
}

StoreResult<void> DynamoDbStore::set_totals(std::string_view key, std::optional<std::int64_t> views,
                                            std::optional<std::int64_t> visitors) {
  if (!is_counter_key(key)) {
    return std::unexpected(
        fail("UpdateItem", "set totals: bad counter key '" + std::string(key) + "'"));
  }
  const std::string request = dynamodb::set_totals_request(config_.table, key, views, visitors);
  auto body = call("UpdateItem", request, /*idempotent=*/true);
  if (!body) return std::unexpected(fail("UpdateItem", "set totals: " + body.error().why));
  return {};
}

StoreResult<bool> DynamoDbStore::remove(std::string_view key) {
  if (!is_counter_key(key)) return false;
  known_marks_.clear();  // the counter's marks go with it
  known_counters_.clear();
  // Safe to resend: deleting twice leaves the same table (only the answer may differ).
  auto body =
      call("DeleteItem", dynamodb::delete_item_request(config_.table, key, /*return_old=*/true),
           /*idempotent=*/true);
  if (!body) return std::unexpected(fail("DeleteItem", "remove: " + body.error().why));
  auto existed = dynamodb::parse_deleted_response(*body);
  if (!existed) return std::unexpected(fail("DeleteItem", "remove: " + existed.error()));
  const std::string prefixes[] = {std::string(key) + "#", dynamodb::answer_id(key, "")};
  std::vector<dynamodb::ItemWrite> deletes;
  auto scanned = scan(
      [&](std::string_view start) {
        return dynamodb::prefix_scan_request(config_.table, prefixes, start);
      },
      [&](dynamodb::ReadItem item) {
        deletes.push_back({std::move(item.id), {}});
      });
  if (!scanned) return std::unexpected(scanned.error());
  if (auto deleted = write_batches(deletes); !deleted) return std::unexpected(deleted.error());
  if (*existed) {  // its place in the count of counters (--max-counters) is free again
    auto freed = call("UpdateItem", dynamodb::release_counter_request(config_.table),
                      /*idempotent=*/false);
    if (!freed && freed.error().type != "ConditionalCheckFailedException") {
      fail("UpdateItem", "count of counters not lowered: " + freed.error().why);
    }
  }
  return *existed;
}

StoreResult<void> DynamoDbStore::import(std::span<const CounterRecord> records, ImportMode mode) {
  const std::string_view operation = mode == ImportMode::set ? "BatchWriteItem" : "UpdateItem";
  if (auto why = bad_record(records)) return std::unexpected(fail(operation, *why));
  if (mode == ImportMode::add) return add_records(records);
  return write_batches(put_writes(records));
}

StoreResult<void> DynamoDbStore::add_records(std::span<const CounterRecord> records) {
  const std::vector<std::string> requests = add_requests(config_.table, records);
  std::atomic<std::size_t> applied{0};
  std::atomic<bool> stopped{false};
  std::mutex mutex;
  std::optional<CallError> first_error;
  bool maybe_applied = false;  // a failed update whose outcome is unknown
  util::TaskQueue queue;
  for (const std::string& request : requests) {
    queue.push([&] {
      if (stopped) return;
      auto body = call("UpdateItem", request, /*idempotent=*/false);
      if (body) {
        ++applied;
        return;
      }
      stopped = true;
      std::lock_guard lock(mutex);
      maybe_applied = maybe_applied || body.error().outcome_unknown;
      if (!first_error) first_error = std::move(body.error());
    });
  }
  const std::size_t in_flight =
      std::min(requests.size(), std::max<std::size_t>(config_.max_in_flight, 1));
  if (in_flight > 0) pool_.run(in_flight - 1, [&] { queue.work(); });
  if (!first_error) return {};
  const bool partial = maybe_applied || applied > 0;
  return std::unexpected(
      fail("UpdateItem",
           "import (add): " + std::to_string(applied) + " of " + std::to_string(requests.size()) +
               " item(s) added, then: " + first_error->why,
           partial ? StoreError::Kind::outcome_unknown : StoreError::Kind::failed));
}

StoreResult<void> DynamoDbStore::until_processed(std::string_view operation, const Round& round) {
  std::optional<StoreError> error;
  std::size_t left = 0;
  const aws::RetryOutcome outcome =
      aws::run_with_retry(config_.retry, hooks_.retry, [&](milliseconds) {
        auto unprocessed = round();
        if (!unprocessed) {
          error = std::move(unprocessed.error());
          return std::optional(aws::Failure::permanent);
        }
        left = *unprocessed;
        return left == 0 ? std::nullopt : std::optional(aws::Failure::throttled);
      });
  if (error) return std::unexpected(std::move(*error));
  if (outcome.stop == aws::RetryStop::succeeded) return {};
  return std::unexpected(fail(operation, std::to_string(left) + " item(s) still unprocessed [" +
                                             std::string(aws::describe(outcome.stop)) + " after " +
                                             std::to_string(outcome.attempts) + " request(s)]"));
}

StoreResult<std::vector<dynamodb::ReadItem>> DynamoDbStore::get_batch(
    std::vector<std::string> ids) {
  std::vector<dynamodb::ReadItem> items;
  auto done = until_processed("BatchGetItem", [&]() -> StoreResult<std::size_t> {
    auto body = call("BatchGetItem", dynamodb::batch_get_request(config_.table, ids), true);
    if (!body) return std::unexpected(fail("BatchGetItem", body.error().why));
    auto answer = dynamodb::parse_batch_get_response(*body, config_.table);
    if (!answer) return std::unexpected(fail("BatchGetItem", answer.error()));
    std::ranges::move(answer->items, std::back_inserter(items));
    ids = std::move(answer->unprocessed);
    return ids.size();
  });
  if (!done) return std::unexpected(done.error());
  return items;
}

StoreResult<void> DynamoDbStore::write_batches(std::span<const dynamodb::ItemWrite> writes) {
  for (std::size_t at = 0; at < writes.size(); at += kMaxBatchWrite) {
    const auto chunk = writes.subspan(at, std::min(kMaxBatchWrite, writes.size() - at));
    std::vector<dynamodb::ItemWrite> pending(chunk.begin(), chunk.end());
    auto done = until_processed("BatchWriteItem", [&]() -> StoreResult<std::size_t> {
      // Puts and deletes: safe to resend.
      auto body = call("BatchWriteItem", dynamodb::batch_write_request(config_.table, pending),
                       /*idempotent=*/true);
      if (!body) return std::unexpected(fail("BatchWriteItem", body.error().why));
      auto unprocessed = dynamodb::parse_batch_write_response(*body, config_.table);
      if (!unprocessed) return std::unexpected(fail("BatchWriteItem", unprocessed.error()));
      std::erase_if(pending, [&](const dynamodb::ItemWrite& write) {
        return std::ranges::find(*unprocessed, write.id) == unprocessed->end();
      });
      return pending.size();
    });
    if (!done) return done;
  }
  return {};
}

StoreResult<void> DynamoDbStore::scan(
    const std::function<std::string(std::string_view start)>& request,
    const std::function<void(dynamodb::ReadItem item)>& each) {
  std::string start;
  do {
    auto body = call("Scan", request(start), /*idempotent=*/true);
    if (!body) return std::unexpected(fail("Scan", body.error().why));
    auto page = dynamodb::parse_scan_response(*body);
    if (!page) return std::unexpected(fail("Scan", page.error()));
    for (dynamodb::ReadItem& item : page->items) each(std::move(item));
    start = std::move(page->last_key);
  } while (!start.empty());
  return {};
}

}  // namespace store
