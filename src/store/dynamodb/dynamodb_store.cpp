// DynamoDB Store: builds, signs and sends JSON-protocol requests with retries, and reads
// the answers. Logs one line per call that failed after its retries.
#include "store/dynamodb/dynamodb_store.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/dynamodb/dynamodb_json.hpp"
#include "util/crypto.hpp"
#include "util/utc_day.hpp"

namespace store {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kContentType = "application/x-amz-json-1.0";
constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";
constexpr std::size_t kMaxLoggedMessage = 300;

// Kept-alive connections to the endpoint, one per request in flight: a call takes an idle
// one (or opens another) and gives it back when done. Thread-safe.
class ClientPool {
 public:
  ClientPool(aws::Endpoint endpoint, aws::HttpClientOptions options)
      : endpoint_(std::move(endpoint)), options_(std::move(options)) {}

  std::expected<aws::HttpResponse, aws::HttpError> send(const aws::HeaderList& headers,
                                                        std::string_view body, milliseconds timeout,
                                                        bool idempotent) {
    std::unique_ptr<aws::HttpClient> client = take();
    auto response =
        client->send("POST", "/", headers, body,
                     {.timeout = std::optional<milliseconds>(timeout), .idempotent = idempotent});
    give_back(std::move(client));
    return response;
  }

 private:
  std::unique_ptr<aws::HttpClient> take() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto client = std::move(idle_.back());
        idle_.pop_back();
        return client;
      }
    }
    return std::make_unique<aws::HttpClient>(endpoint_, options_);
  }
  void give_back(std::unique_ptr<aws::HttpClient> client) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(client));
  }

  const aws::Endpoint endpoint_;
  const aws::HttpClientOptions options_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<aws::HttpClient>> idle_;
};

DynamoDbStore::Transport http_transport(const dynamodb::DynamoDbConfig& config) {
  aws::HttpClientOptions options;
  options.connect_timeout = config.attempt_timeout;
  options.request_timeout = config.attempt_timeout;
  auto pool = std::make_shared<ClientPool>(config.endpoint, std::move(options));
  return [pool](const aws::HeaderList& headers, std::string_view body, milliseconds timeout,
                bool idempotent) { return pool->send(headers, body, timeout, idempotent); };
}

void log_to_stderr(std::string_view line) {
  std::string text = "visitor-counter: ";
  text.append(line).append("\n");
  std::cerr << text << std::flush;
}

// The item that remembers an Idempotency-Key's answer on counter `key`.
std::string answer_id(std::string_view key, std::string_view token) {
  return "#idem#" + std::string(key) + "#" + std::string(token);
}

void redact(std::string& text, std::string_view secret) {
  constexpr std::string_view kRedacted = "[redacted]";
  if (secret.empty()) return;
  for (std::size_t at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at + kRedacted.size())) {
    text.replace(at, secret.size(), kRedacted);
  }
}

}  // namespace

// What the last attempt of a call produced: the body on success, else why it failed.
struct DynamoDbStore::Attempted {
  std::string body;
  std::string why;
  std::string type;  // the service's error type, when it answered one
};

std::unique_ptr<DynamoDbStore> DynamoDbStore::open(dynamodb::DynamoDbConfig config,
                                                   aws::Credentials credentials) {
  Transport transport = http_transport(config);
  Hooks hooks{.retry = aws::system_retry_hooks(),
              .wall_clock = [] { return std::chrono::system_clock::now(); },
              .log = log_to_stderr};
  return std::make_unique<DynamoDbStore>(std::move(config), std::move(credentials),
                                         std::move(transport), std::move(hooks));
}

DynamoDbStore::DynamoDbStore(dynamodb::DynamoDbConfig config, aws::Credentials credentials,
                             Transport transport, Hooks hooks)
    : config_(std::move(config)),
      credentials_(std::move(credentials)),
      transport_(std::move(transport)),
      hooks_(std::move(hooks)),
      host_header_(config_.endpoint.host_header()),
      pool_(std::max<std::size_t>(config_.max_in_flight, 1) - 1) {}

namespace {

// Tasks that may add tasks, run by several threads until every task has finished: in
// order, except that urgent ones go first.
class TaskQueue {
 public:
  void push(std::function<void()> task, bool urgent = false) {
    std::lock_guard lock(mutex_);
    if (urgent) {
      tasks_.push_front(std::move(task));
    } else {
      tasks_.push_back(std::move(task));
    }
    ++unfinished_;
    wake_.notify_one();
  }
  // Runs tasks until none is queued or running.
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return !tasks_.empty() || unfinished_ == 0; });
      if (tasks_.empty()) return;
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
      if (--unfinished_ == 0) wake_.notify_all();
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::size_t unfinished_ = 0;  // queued or running
};

}  // namespace

void DynamoDbStore::add(const Batch& batch, const AddCallback& done) {
  // Each key first needs its Idempotency-Keys claimed and its visitors' marks written (all
  // of them at once, across keys); as soon as a key's last one is done, its counter is
  // raised. So a key never waits for another key's requests.
  struct Claim {
    std::string_view token;
    StoreResult<std::optional<Answered>> answered{std::optional<Answered>()};
  };
  struct Mark {
    std::string_view visitor;
    StoreResult<std::optional<std::int64_t>> seen{std::optional<std::int64_t>()};
  };
  struct KeyState {
    std::vector<Claim> claims;
    std::vector<Mark> marks;
    std::unordered_map<std::string_view, std::size_t> claim_of, mark_of;
    std::atomic<std::size_t> waiting{0};
  };
  const std::size_t n = batch.keys.size();
  std::vector<KeyState> keys(n);
  std::size_t requests = 0;
  for (std::size_t k = 0; k < n; ++k) {
    KeyState& state = keys[k];
    for (const Hit& hit : batch.keys[k].hits) {
      if (!hit.idempotency_key.empty() &&
          state.claim_of.emplace(hit.idempotency_key, state.claims.size()).second) {
        state.claims.push_back({.token = hit.idempotency_key});
      }
      if (!hit.visitor.empty() && state.mark_of.emplace(hit.visitor, state.marks.size()).second) {
        state.marks.push_back({.visitor = hit.visitor});
      }
    }
    state.waiting = state.claims.size() + state.marks.size();
    requests += state.waiting + 1;
  }

  TaskQueue queue;
  // A key that failed with nothing counted gives back the Idempotency-Keys it claimed, so
  // that a retry with them can count (one whose outcome is unknown keeps them: a retry
  // then gets 409 until they expire, never a second count).
  const auto fail_key = [&](std::size_t k, StoreError error) {
    if (error.kind == StoreError::Kind::failed) {
      for (const Claim& claim : keys[k].claims) {
        if (claim.answered && !claim.answered->has_value()) {
          release(batch.keys[k].key, claim.token);
        }
      }
    }
    done(k, std::unexpected(std::move(error)));
  };
  const auto finish_key = [&](std::size_t k) {
    KeyState& state = keys[k];
    for (const Claim& claim : state.claims) {
      if (!claim.answered) return fail_key(k, claim.answered.error());
    }
    for (const Mark& mark : state.marks) {
      if (!mark.seen) return fail_key(k, mark.seen.error());
    }
    const SeenAt seen_at = [&](std::string_view visitor) {
      return *state.marks[state.mark_of.at(visitor)].seen;
    };
    const AnsweredOf answered = [&](std::string_view token) {
      return *state.claims[state.claim_of.at(token)].answered;
    };
    auto results = add_key(batch, batch.keys[k], seen_at, answered);
    if (!results) return fail_key(k, std::move(results.error()));
    done(k, std::move(results));
  };
  const auto one_done = [&](std::size_t k) {
    // Its counter goes before the marks still queued for other keys.
    if (--keys[k].waiting == 0) queue.push([&, k] { finish_key(k); }, /*urgent=*/true);
  };
  for (std::size_t k = 0; k < n; ++k) {
    KeyState& state = keys[k];
    if (state.waiting == 0) queue.push([&, k] { finish_key(k); });
    for (Claim& claim : state.claims) {
      queue.push([&, k] {
        claim.answered = this->claim(batch, batch.keys[k].key, claim.token);
        one_done(k);
      });
    }
    for (Mark& mark : state.marks) {
      queue.push([&, k] {
        mark.seen = this->mark(batch, batch.keys[k].key, mark.visitor);
        one_done(k);
      });
    }
  }
  // The calling thread works too, so max_in_flight - 1 helpers make max_in_flight at once.
  const std::size_t in_flight = std::min(requests, std::max<std::size_t>(config_.max_in_flight, 1));
  if (in_flight > 0) pool_.run(in_flight - 1, [&] { queue.work(); });
}

void DynamoDbStore::release(std::string_view key, std::string_view token) {
  const std::string id = answer_id(key, token);
  auto deleted = call("DeleteItem", dynamodb::delete_item_request(config_.table, id), true);
  if (!deleted) fail("DeleteItem", "Idempotency-Key claim not given back: " + deleted.error().why);
}

StoreResult<std::optional<Answered>> DynamoDbStore::claim(const Batch& batch, std::string_view key,
                                                          std::string_view token) {
  const std::string id = answer_id(key, token);
  const std::optional<std::string> bytes = util::random_bytes(16);
  if (!bytes) return std::unexpected(fail("PutItem", "no random bytes for a claim"));
  const std::string mine = util::to_hex(util::as_bytes(*bytes));
  const std::string request =
      dynamodb::claim_request(config_.table, id, mine, batch.now, batch.now + kIdempotencySeconds);
  // Safe to resend: a claim that did apply is recognised below by its random id.
  auto put = call("PutItem", request, /*idempotent=*/true);
  if (put) return std::optional<Answered>();
  if (put.error().type != "ConditionalCheckFailedException") {
    return std::unexpected(fail("PutItem", "Idempotency-Key claim: " + put.error().why));
  }
  auto body = call("GetItem", dynamodb::get_item_request(config_.table, id), true);
  if (!body) return std::unexpected(fail("GetItem", "Idempotency-Key: " + body.error().why));
  auto record = dynamodb::parse_answer_record(*body);
  if (!record) return std::unexpected(fail("GetItem", "Idempotency-Key: " + record.error()));
  if (!*record || (*record)->claim == mine) return std::optional<Answered>();
  if (!(*record)->totals) return std::optional(Answered{.seen = Seen::conflict, .totals = {}});
  return std::optional(Answered{.seen = Seen::replayed, .totals = *(*record)->totals});
}

StoreResult<std::optional<std::int64_t>> DynamoDbStore::mark(const Batch& batch,
                                                             std::string_view key,
                                                             std::string_view visitor) {
  const std::string id =
      std::string(key) + "#v#" + std::string(batch.day) + "#" + std::string(visitor);
  std::optional<std::int64_t> not_since;
  if (batch.repeat_window > 0) not_since = batch.now - batch.repeat_window;
  const std::string request =
      dynamodb::mark_request(config_.table, id, batch.now, batch.marker_expires, not_since);
  auto body = call("UpdateItem", request, /*idempotent=*/true);
  if (!body) {
    if (body.error().type == "ConditionalCheckFailedException") return batch.now;  // a repeat
    return std::unexpected(fail("UpdateItem", "visitor mark: " + body.error().why));
  }
  auto seen = dynamodb::parse_mark_response(*body);
  if (!seen) return std::unexpected(fail("UpdateItem", "visitor mark: " + seen.error()));
  return *seen;
}

StoreResult<std::vector<HitResult>> DynamoDbStore::add_key(const Batch& batch, const KeyHits& key,
                                                           const SeenAt& seen_at,
                                                           const AnsweredOf& answered) {
  using Kind = StoreError::Kind;
  std::vector<HitResult> results = decide_hits(batch, key, Totals{}, seen_at, answered);
  const Totals gain = gained(results);
  const auto fresh = [](const HitResult& r) {  // not an earlier answer
    return r.seen != Seen::replayed && r.seen != Seen::conflict;
  };
  if (gain.views == 0) {  // only repeats and replays: repeats answer the current totals
    if (std::none_of(results.begin(), results.end(), fresh)) return results;
    auto current = get(key.key);
    if (!current) return std::unexpected(current.error());
    for (HitResult& result : results) {
      if (fresh(result)) result.totals = current->value_or(Totals{});
    }
  } else {
    const std::string request = dynamodb::add_request(
        config_.table, key.key, {{"count", gain.views}, {"visitors", gain.visitors}}, true);
    auto body = call("UpdateItem", request, /*idempotent=*/false);
    if (!body) {
      return std::unexpected(
          fail("UpdateItem", body.error().why,
               body.error().outcome_unknown ? Kind::outcome_unknown : Kind::failed));
    }
    auto after = dynamodb::parse_totals_response(*body);
    if (!after) {
      return std::unexpected(
          fail("UpdateItem", after.error() + " (it was applied)", Kind::outcome_unknown));
    }
    const Totals before{.views = after->views - gain.views,
                        .visitors = after->visitors - gain.visitors};
    for (HitResult& result : results) {
      if (!fresh(result)) continue;
      result.totals.views += before.views;
      result.totals.visitors += before.visitors;
    }
    const std::string day_id = std::string(key.key) + "#day#" + std::string(batch.day);
    const std::string day_request = dynamodb::add_request(
        config_.table, day_id, {{"views", gain.views}, {"visitors", gain.visitors}}, false);
    if (auto day = call("UpdateItem", day_request, /*idempotent=*/false); !day) {
      // The counter has the hits: they count. Only the history lags; say so in the log.
      fail("UpdateItem", "daily row " + day_id + " not raised by " + std::to_string(gain.views) +
                             " view(s): " + day.error().why);
    }
  }
  for (std::size_t i = 0; i < key.hits.size(); ++i) {
    if (!remembered(key.hits[i], results[i].seen)) continue;
    const std::string id = answer_id(key.key, key.hits[i].idempotency_key);
    auto kept = call("UpdateItem", dynamodb::answer_request(config_.table, id, results[i].totals),
                     /*idempotent=*/true);
    // The hit counted; a retry with this key will get 409 until the record expires.
    if (!kept) fail("UpdateItem", "answer to an Idempotency-Key not kept: " + kept.error().why);
  }
  return results;
}

StoreResult<std::optional<Totals>> DynamoDbStore::get(std::string_view key) {
  auto body = call("GetItem", dynamodb::get_item_request(config_.table, key), true);
  if (!body) return std::unexpected(fail("GetItem", body.error().why));
  auto totals = dynamodb::parse_get_totals_response(*body);
  if (!totals) return std::unexpected(fail("GetItem", totals.error()));
  return *totals;
}

StoreResult<std::string> DynamoDbStore::salt(std::string_view day) {
  const auto date = util::parse_utc_day(day);
  if (!date) return std::unexpected(fail("PutItem", "bad day '" + std::string(day) + "'"));
  const std::optional<std::string> bytes = util::random_bytes(32);
  if (!bytes) return std::unexpected(fail("PutItem", "no random bytes for the day's salt"));
  const std::string id = "#salt#" + std::string(day);
  const std::string fresh = util::to_hex(util::as_bytes(*bytes));
  // Kept in the table only while it may be asked for: TTL two days on, forget_before sooner.
  const std::int64_t expires = util::next_utc_midnight(*date + std::chrono::days{1});
  auto put = call("PutItem", dynamodb::put_once_request(config_.table, id, "salt", fresh, expires),
                  /*idempotent=*/true);
  if (put) return fresh;
  if (put.error().type != "ConditionalCheckFailedException") {
    return std::unexpected(fail("PutItem", "day's salt: " + put.error().why));
  }
  // Another process (or an earlier attempt of this one) made it first: use that one.
  auto body = call("GetItem", dynamodb::get_item_request(config_.table, id), true);
  if (!body) return std::unexpected(fail("GetItem", "day's salt: " + body.error().why));
  auto salt = dynamodb::parse_get_string_response(*body, "salt");
  if (!salt || !*salt) {
    return std::unexpected(fail("GetItem", "day's salt: " + (salt ? "gone" : salt.error())));
  }
  return **salt;
}

StoreResult<void> DynamoDbStore::forget_before(std::string_view day) {
  const auto date = util::parse_utc_day(day);
  if (!date) return std::unexpected(fail("DeleteItem", "bad day '" + std::string(day) + "'"));
  for (int back : {1, 2}) {
    const std::string id = "#salt#" + util::utc_day(*date - std::chrono::days{back});
    auto body = call("DeleteItem", dynamodb::delete_item_request(config_.table, id), true);
    if (!body) return std::unexpected(fail("DeleteItem", "old salt: " + body.error().why));
  }
  return {};
}

StoreResult<void> DynamoDbStore::ping() {
  auto body = call("DescribeTable", dynamodb::describe_table_request(config_.table), true);
  if (!body) return std::unexpected(fail("DescribeTable", body.error().why));
  auto status = dynamodb::parse_table_status(*body);
  if (!status) return std::unexpected(fail("DescribeTable", status.error()));
  if (*status != "ACTIVE" && *status != "UPDATING") {
    return std::unexpected(fail("DescribeTable", "table status is " + *status));
  }
  return {};
}

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
  // Safe to resend: deleting twice leaves the same table (only the answer may differ).
  auto body =
      call("DeleteItem", dynamodb::delete_item_request(config_.table, key, /*return_old=*/true),
           /*idempotent=*/true);
  if (!body) return std::unexpected(fail("DeleteItem", "remove: " + body.error().why));
  auto existed = dynamodb::parse_deleted_response(*body);
  if (!existed) return std::unexpected(fail("DeleteItem", "remove: " + existed.error()));
  const std::string prefixes[] = {std::string(key) + "#", answer_id(key, "")};
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
  TaskQueue queue;
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

std::expected<std::string, DynamoDbStore::CallError> DynamoDbStore::call(std::string_view operation,
                                                                         const std::string& body,
                                                                         bool idempotent) {
  Attempted last;
  const aws::RetryOutcome outcome =
      aws::run_with_retry(config_.retry, hooks_.retry, [&](milliseconds remaining) {
        const milliseconds timeout = std::min(remaining, config_.attempt_timeout);
        return attempt(operation, body, idempotent, timeout, last);
      });
  if (outcome.stop == aws::RetryStop::succeeded) return std::move(last.body);
  return std::unexpected(CallError{.why = last.why + " [" +
                                          std::string(aws::describe(outcome.stop)) + " after " +
                                          std::to_string(outcome.attempts) + " attempt(s)]",
                                   .outcome_unknown = outcome.stop == aws::RetryStop::ambiguous,
                                   .type = std::move(last.type)});
}

std::optional<aws::Failure> DynamoDbStore::attempt(std::string_view operation,
                                                   const std::string& body, bool idempotent,
                                                   milliseconds timeout, Attempted& out) {
  auto headers = sign(operation, body);
  if (!headers) {
    out.why = "cannot sign the request: " + headers.error();
    return aws::Failure::permanent;
  }
  auto response = transport_(*headers, body, timeout, idempotent);
  if (!response) {
    const aws::HttpError& error = response.error();
    out.why = scrub(error.message);
    return aws::classify_transport(error.kind, error.sent, idempotent);
  }
  if (response->status >= 200 && response->status <= 299) {
    out.body = std::move(response->body);
    return std::nullopt;
  }
  const dynamodb::ServiceError error = dynamodb::parse_error_response(response->body);
  out.type = error.type;
  out.why = "HTTP " + std::to_string(response->status);
  if (!error.type.empty()) out.why += " " + error.type;
  if (!error.message.empty()) out.why += ": " + scrub(error.message);
  return aws::classify_response(response->status, error.type, idempotent);
}

std::expected<aws::HeaderList, std::string> DynamoDbStore::sign(std::string_view operation,
                                                                std::string_view body) const {
  const std::string date = aws::amz_date(hooks_.wall_clock());
  aws::HttpRequestToSign request{
      .method = "POST",
      .path = "/",
      .query = "",
      .headers = {{"Host", host_header_},
                  {"Content-Type", std::string(kContentType)},
                  {"X-Amz-Date", date},
                  {"X-Amz-Target", std::string(kTargetPrefix) + std::string(operation)}},
      .body = body,
  };
  auto signature = aws::sign_v4(request, credentials_, config_.region, "dynamodb", date);
  if (!signature) return std::unexpected(signature.error());
  aws::HeaderList headers = std::move(request.headers);
  for (auto& header : signature->headers_to_add) headers.push_back(std::move(header));
  return headers;
}

// One line, bounded, with no credential in it: AWS error messages can quote the canonical
// request, which holds the session token.
std::string DynamoDbStore::scrub(std::string_view text) const {
  std::string line(text.substr(0, text.find_first_of("\r\n")));
  redact(line, credentials_.secret_access_key);
  redact(line, credentials_.session_token);
  if (line.size() > kMaxLoggedMessage) line = line.substr(0, kMaxLoggedMessage) + "...";
  return line;
}

StoreError DynamoDbStore::fail(std::string_view operation, std::string_view why,
                               StoreError::Kind kind) const {
  StoreError error{"DynamoDB " + std::string(operation) + " on table " + config_.table +
                       " failed: " + std::string(why),
                   kind};
  if (hooks_.log) hooks_.log(error.message);
  return error;
}

}  // namespace store
