// DynamoDB Store: builds, signs and sends JSON-protocol requests with retries, and reads
// the answers. Logs one line per call that failed after its retries.
#include "store/dynamodb/dynamodb_store.hpp"

#include <algorithm>
#include <atomic>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/dynamodb/dynamodb_json.hpp"
#include "util/crypto.hpp"
#include "util/log_throttle.hpp"
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

std::unique_ptr<DynamoDbStore> DynamoDbStore::open(
    dynamodb::DynamoDbConfig config, std::shared_ptr<aws::CredentialProvider> credentials) {
  Transport transport = http_transport(config);
  auto failures = std::make_shared<util::LogThrottle>(util::log_to_stderr);
  Hooks hooks{.retry = aws::system_retry_hooks(),
              .wall_clock = [] { return std::chrono::system_clock::now(); },
              .log = [failures](std::string_view line) { failures->log(line); }};
  return std::make_unique<DynamoDbStore>(std::move(config), std::move(credentials),
                                         std::move(transport), std::move(hooks));
}

std::unique_ptr<Store> DynamoDbStore::open_reader() const {
  return std::make_unique<DynamoDbStore>(config_, credentials_, http_transport(config_), hooks_);
}

DynamoDbStore::DynamoDbStore(dynamodb::DynamoDbConfig config,
                             std::shared_ptr<aws::CredentialProvider> credentials,
                             Transport transport, Hooks hooks)
    : config_(std::move(config)),
      credentials_(std::move(credentials)),
      transport_(std::move(transport)),
      hooks_(std::move(hooks)),
      host_header_(config_.endpoint.host_header()),
      pool_(std::max<std::size_t>(config_.max_in_flight, 1) - 1) {}

namespace {}  // namespace

void DynamoDbStore::add(const Batch& batch, const AddCallback& done) {
  // Each key first needs its Idempotency-Keys claimed and its visitors' marks written (all
  // of them at once, across keys); as soon as a key's last one is done, its counter is
  // raised. So a key never waits for another key's requests.
  struct Claim {
    std::string_view token;
    StoreResult<std::optional<Answered>> answered{std::optional<Answered>()};
  };
  struct Mark {
    std::string id;  // its item: dynamodb::mark_id
    StoreResult<std::optional<std::int64_t>> seen{std::optional<std::int64_t>()};
    bool known = false;  // in known_marks_: no request
  };
  struct KeyState {
    std::vector<Claim> claims;
    std::vector<Mark> marks;
    std::unordered_map<std::string_view, std::size_t> claim_of, mark_of;
    std::atomic<std::size_t> waiting{0};
    std::once_flag decided;     // by the first of the key's requests: may_send()
    StoreResult<void> verdict;  // then: whether they may go out
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
        Mark& mark = state.marks.emplace_back(
            Mark{.id = dynamodb::mark_id(batch.keys[k].key, batch.day, hit.visitor)});
        // Without a repeat window a mark only tells new from returning, and a visitor whose
        // mark this process saw today is returning: no request.
        if (batch.repeat_window == 0 && known_marks_.contains(batch.day, mark.id)) {
          mark.seen = batch.now;
          mark.known = true;
        } else {
          ++state.waiting;
        }
      }
    }
    state.waiting += state.claims.size();
    requests += state.waiting + 2;  // and the counter beside its day row
  }

  util::TaskQueue queue;
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
  // Whether key k's requests may go out (admit_key), decided once, by the first of them; the
  // others wait for that decision.
  const auto may_send = [&](std::size_t k) -> const StoreResult<void>& {
    std::call_once(keys[k].decided, [&] { keys[k].verdict = admit_key(batch, batch.keys[k]); });
    return keys[k].verdict;
  };
  const auto finish_key = [&](std::size_t k) {
    KeyState& state = keys[k];
    if (const auto& admitted = may_send(k); !admitted) return fail_key(k, admitted.error());
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
    auto results = add_key(batch, batch.keys[k], seen_at, answered, queue);
    if (!results) return fail_key(k, std::move(results.error()));
    done(k, std::move(results));
  };
  const auto one_done = [&](std::size_t k) {
    // The thread that did the key's last claim or mark goes on to its counter, before the
    // marks still queued for other keys, and without handing it to another thread.
    if (--keys[k].waiting == 0) finish_key(k);
  };
  for (std::size_t k = 0; k < n; ++k) {
    KeyState& state = keys[k];
    if (state.waiting == 0) queue.push([&, k] { finish_key(k); });
    for (Claim& claim : state.claims) {
      queue.push([&, k] {
        if (const auto& admitted = may_send(k); admitted) {
          claim.answered = this->claim(batch, batch.keys[k].key, claim.token);
        } else {
          claim.answered = std::unexpected(admitted.error());
        }
        one_done(k);
      });
    }
    for (Mark& mark : state.marks) {
      if (mark.known) continue;
      queue.push([&, k] {
        if (const auto& admitted = may_send(k); admitted) {
          mark.seen = this->mark(batch, mark.id);
        } else {
          mark.seen = std::unexpected(admitted.error());
        }
        if (mark.seen) known_marks_.insert(batch.day, mark.id);
        one_done(k);
      });
    }
  }
  // The calling thread works too, so max_in_flight - 1 helpers make max_in_flight at once.
  const std::size_t in_flight = std::min(requests, std::max<std::size_t>(config_.max_in_flight, 1));
  if (in_flight > 0) pool_.run(in_flight - 1, [&] { queue.work(); });
}

StoreResult<void> DynamoDbStore::admit_key(const Batch& batch, const KeyHits& key) {
  using Kind = StoreError::Kind;
  if (std::chrono::steady_clock::now() > key.send_by) {
    return std::unexpected(StoreError{"not sent to the store in time", Kind::overloaded});
  }
  if ((batch.max_counters == 0 && batch.create_counters) ||
      known_counters_.contains("", std::string(key.key))) {
    return {};
  }
  auto existing = get(key.key);
  if (!existing) return std::unexpected(existing.error());
  if (*existing) {
    known_counters_.insert("", std::string(key.key));
    return {};
  }
  if (!batch.create_counters) {
    return std::unexpected(StoreError{"only the owner creates counters", Kind::refused});
  }
  if (batch.max_counters == 0) return {};
  // A new counter takes a place in the count of counters first, while there is one.
  auto reserved =
      call("UpdateItem", dynamodb::reserve_counter_request(config_.table, batch.max_counters),
           /*idempotent=*/false);
  if (reserved) return {};
  if (reserved.error().type == "ConditionalCheckFailedException") {
    return std::unexpected(StoreError{"too many counters", Kind::refused});
  }
  // Maybe reserved (then the count is one over: it refuses early, never late); either way
  // nothing of the hit was written.
  return std::unexpected(fail("UpdateItem", "count of counters: " + reserved.error().why));
}

void DynamoDbStore::release(std::string_view key, std::string_view token) {
  const std::string id = dynamodb::answer_id(key, token);
  auto deleted = call("DeleteItem", dynamodb::delete_item_request(config_.table, id), true);
  if (!deleted) fail("DeleteItem", "Idempotency-Key claim not given back: " + deleted.error().why);
}

StoreResult<std::optional<Answered>> DynamoDbStore::claim(const Batch& batch, std::string_view key,
                                                          std::string_view token) {
  const std::string id = dynamodb::answer_id(key, token);
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
                                                             const std::string& id) {
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
                                                           const AnsweredOf& answered,
                                                           util::TaskQueue& queue) {
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
    // The classic profile's item is the classic design's: `count` alone, no day row.
    const std::string request =
        batch.history
            ? dynamodb::add_request(config_.table, key.key,
                                    {{"count", gain.views}, {"visitors", gain.visitors}}, true)
            : dynamodb::add_request(config_.table, key.key, {{"count", gain.views}}, true);
    const std::string day_id = std::string(key.key) + "#day#" + std::string(batch.day);
    // With keep_days, the row carries the TTL attribute: DynamoDB deletes it once its day
    // has left the kept days.
    const std::optional<std::int64_t> day_expires =
        keep_days_ > 0
            ? std::optional<std::int64_t>(util::day_start(batch.day) + keep_days_ * 86'400LL)
            : std::nullopt;
    const auto day_request = [&](std::int64_t sign) {
      return dynamodb::add_request(
          config_.table, day_id, {{"views", sign * gain.views}, {"visitors", sign * gain.visitors}},
          false, day_expires);
    };
    // The day's row is raised beside the counter, by another of the batch's threads when
    // one is free: one round trip less per hit. Both are joined before anything returns.
    // Without history (the classic profile) there is no day row: only the counter is written.
    std::expected<std::string, CallError> day = std::unexpected(CallError{});
    std::shared_ptr<util::TaskQueue::Beside> day_write;
    if (batch.history) {
      day_write = queue.push_beside(
          [&] { day = call("UpdateItem", day_request(1), /*idempotent=*/false); });
    }
    auto body = call("UpdateItem", request, /*idempotent=*/false);
    if (body && (batch.max_counters > 0 || !batch.create_counters)) {
      known_counters_.insert("", std::string(key.key));
    }
    if (day_write) {
      if (body || body.error().outcome_unknown) {
        day_write->join();  // the counter took the hits, or may have: so does the history
      } else if (!day_write->drop_or_join() && day) {
        // The counter certainly did not move, but the day row did: take the hits back out.
        if (auto undone = call("UpdateItem", day_request(-1), false); !undone) {
          fail("UpdateItem", "daily row " + day_id + " over by " + std::to_string(gain.views) +
                                 " view(s) the counter did not take: " + undone.error().why);
        }
      }
    }
    if (!body) {
      return std::unexpected(
          fail("UpdateItem", body.error().why,
               body.error().outcome_unknown ? Kind::outcome_unknown : Kind::failed));
    }
    if (day_write && !day) {
      // The counter has the hits: they count. Only the history lags; say so in the log.
      fail("UpdateItem", "daily row " + day_id + " not raised by " + std::to_string(gain.views) +
                             " view(s): " + day.error().why);
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
  }
  for (std::size_t i = 0; i < key.hits.size(); ++i) {
    if (!remembered(key.hits[i], results[i].seen)) continue;
    const std::string id = dynamodb::answer_id(key.key, key.hits[i].idempotency_key);
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
  if (!date) return std::unexpected(fail("UpdateItem", "bad day '" + std::string(day) + "'"));
  const std::optional<std::string> bytes = util::random_bytes(32);
  if (!bytes) return std::unexpected(fail("UpdateItem", "no random bytes for the day's salt"));
  const std::string id = "#salt#" + std::string(day);
  // Kept in the table only while it may be asked for: TTL two days on, forget_before sooner.
  const std::int64_t expires = util::next_utc_midnight(*date + std::chrono::days{1});
  // One request whether or not another process made the day's salt first; safe to resend.
  const std::string request = dynamodb::keep_first_request(
      config_.table, id, "salt", util::to_hex(util::as_bytes(*bytes)), expires);
  auto body = call("UpdateItem", request, /*idempotent=*/true);
  if (!body) return std::unexpected(fail("UpdateItem", "day's salt: " + body.error().why));
  auto salt = dynamodb::parse_updated_string(*body, "salt");
  if (!salt) return std::unexpected(fail("UpdateItem", "day's salt: " + salt.error()));
  return *salt;
}

std::expected<void, std::string> DynamoDbStore::keep_days(int days) {
  keep_days_ = days;
  return {};
}

StoreResult<bool> DynamoDbStore::forget_before(std::string_view day) {
  const auto date = util::parse_utc_day(day);
  if (!date) return std::unexpected(fail("DeleteItem", "bad day '" + std::string(day) + "'"));
  for (int back : {1, 2}) {
    const std::string id = "#salt#" + util::utc_day(*date - std::chrono::days{back});
    auto body = call("DeleteItem", dynamodb::delete_item_request(config_.table, id), true);
    if (!body) return std::unexpected(fail("DeleteItem", "old salt: " + body.error().why));
  }
  return true;  // marks go by the table's TTL
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
  auto credentials = credentials_->current();
  if (!credentials) return std::unexpected(credentials.error());
  auto signature = aws::sign_v4(request, *credentials, config_.region, "dynamodb", date);
  if (!signature) return std::unexpected(signature.error());
  aws::HeaderList headers = std::move(request.headers);
  for (auto& header : signature->headers_to_add) headers.push_back(std::move(header));
  return headers;
}

// One line, bounded, with no credential in it: AWS error messages can quote the canonical
// request, which holds the session token.
std::string DynamoDbStore::scrub(std::string_view text) const {
  std::string line(text.substr(0, text.find_first_of("\r\n")));
  if (auto credentials = credentials_->current()) {
    redact(line, credentials->secret_access_key);
    redact(line, credentials->session_token);
  }
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
