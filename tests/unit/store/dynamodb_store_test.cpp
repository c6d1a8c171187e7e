// Tests for DynamoDbStore against a scripted fake transport: the signed requests it sends
// (counter, day row, visitor marks, Idempotency-Key claims, the day's salt), retries (on a
// fake clock, no real sleep), fail-fast errors, writes whose outcome is unknown, per-key
// results, bounded concurrency, logging; and the owner's calls (history, list, set_totals,
// remove, import): their requests, pagination, chunking and unprocessed-item retries.
#include "store/dynamodb/dynamodb_store.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <span>

#include "store/dynamodb/dynamodb_json.hpp"
#include "support/add_results.hpp"
#include "util/utc_day.hpp"

namespace store {
namespace {

using testing_support::add_all;
using testing_support::add_one;
using testing_support::HitBatch;
using Kind = StoreError::Kind;

using namespace std::chrono_literals;
using std::chrono::milliseconds;

struct Sent {
  aws::HeaderList headers;
  std::string body;
  milliseconds timeout;
  bool idempotent;

  std::string header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return "(absent)";
  }
};

using Reply = std::expected<aws::HttpResponse, aws::HttpError>;

Reply ok(std::string body) { return aws::HttpResponse{200, {}, std::move(body)}; }
Reply error(int status, std::string_view type, std::string_view message = "m") {
  return aws::HttpResponse{status,
                           {},
                           R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + std::string(type) +
                               R"(","message":")" + std::string(message) + R"("})"};
}
// A transport failure; `sent`: the whole request had been written.
Reply broken(aws::HttpError::Kind kind, bool sent = true) {
  return std::unexpected(aws::HttpError{kind, "boom", sent});
}
Reply counted(int value) {
  return ok(R"({"Attributes":{"count":{"N":")" + std::to_string(value) + R"("}}})");
}
Reply counted(int views, int visitors) {
  return ok(R"({"Attributes":{"count":{"N":")" + std::to_string(views) + R"("},"visitors":{"N":")" +
            std::to_string(visitors) + R"("}}})");
}
const Reply kDayRowDone = ok("{}");

// The views each hit of a key's results got.
std::vector<std::int64_t> views(const StoreResult<std::vector<HitResult>>& results) {
  std::vector<std::int64_t> out;
  for (const HitResult& r : results.value()) out.push_back(r.totals.views);
  return out;
}

std::string counter_request(std::string_view key, std::int64_t views, std::int64_t visitors) {
  return dynamodb::add_request("visitor-counter", key, {{"count", views}, {"visitors", visitors}},
                               true);
}
std::string day_request(std::string_view key, std::int64_t views, std::int64_t visitors) {
  return dynamodb::add_request("visitor-counter", std::string(key) + "#day#2026-01-01",
                               {{"views", views}, {"visitors", visitors}}, false);
}

// A batch of one key whose hits carry Idempotency-Keys (and no visitor).
struct IdempotentBatch {
  explicit IdempotentBatch(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
    for (const std::string& token : tokens_) {
      Hit hit;
      hit.idempotency_key = token;
      hits_.push_back(hit);
    }
    keys_ = {KeyHits{.key = "home", .hits = hits_}};
    batch = Batch{.day = "2026-01-01",
                  .now = 1767268800,
                  .repeat_window = 0,
                  .marker_expires = 1767312000,
                  .keys = keys_};
  }
  std::vector<std::string> tokens_;
  std::vector<Hit> hits_;
  std::vector<KeyHits> keys_;
  Batch batch;
};

class DynamoDbStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<DynamoDbStore> make(aws::Credentials credentials = {"AKID", "SECRET", ""},
                                      std::string_view url =
                                          "dynamodb://visitor-counter"
                                          "?region=us-east-1&max_attempts=3&max_in_flight=1") {
    auto config = dynamodb::parse_dynamodb_url(url, {});
    EXPECT_TRUE(config.has_value());
    auto transport = [this](const aws::HeaderList& headers, std::string_view body,
                            milliseconds timeout, bool idempotent) -> Reply {
      sent.push_back(Sent{headers, std::string(body), timeout, idempotent});
      if (replies.empty()) return broken(aws::HttpError::Kind::connect);
      Reply reply = std::move(replies.front());
      replies.pop_front();
      return reply;
    };
    DynamoDbStore::Hooks hooks{
        .retry = {.random = [] { return 0.5; },
                  .sleep = [this](milliseconds delay) { sleeps.push_back(delay); },
                  .now = [] { return std::chrono::steady_clock::time_point{}; }},
        .wall_clock =
            [] { return std::chrono::sys_days{std::chrono::year{2015} / 8 / 30} + 12h + 36min; },
        .log = [this](std::string_view line) { logs.emplace_back(line); }};
    return std::make_unique<DynamoDbStore>(std::move(*config), std::move(credentials),
                                           std::move(transport), std::move(hooks));
  }

  std::deque<Reply> replies;
  std::vector<Sent> sent;
  std::vector<milliseconds> sleeps;
  std::vector<std::string> logs;
};

TEST_F(DynamoDbStoreTest, AddSendsASignedCounterAndDayRowUpdatePerKey) {
  auto db = make({"AKID", "SECRET", "TOKEN"});
  replies = {counted(3), kDayRowDone, counted(1), kDayRowDone};
  const HitBatch batch({{"visitors", {"", "", ""}}, {"page/home", {""}}});
  auto results = add_all(*db, batch);
  EXPECT_EQ(views(results[0]), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(views(results[1]), std::vector<std::int64_t>{1});
  ASSERT_EQ(sent.size(), 4u);
  const Sent& first = sent[0];
  EXPECT_EQ(first.header("Host"), "dynamodb.us-east-1.amazonaws.com");
  EXPECT_EQ(first.header("Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(first.header("X-Amz-Target"), "DynamoDB_20120810.UpdateItem");
  EXPECT_EQ(first.header("X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(first.header("X-Amz-Security-Token"), "TOKEN");
  EXPECT_TRUE(first.header("Authorization")
                  .starts_with("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/dynamodb/"
                               "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
                               "x-amz-security-token;x-amz-target, Signature="))
      << first.header("Authorization");
  EXPECT_EQ(first.body, counter_request("visitors", 3, 0));
  EXPECT_EQ(sent[1].body, day_request("visitors", 3, 0));
  EXPECT_EQ(sent[2].body, counter_request("page/home", 1, 0));
  EXPECT_EQ(sent[3].body, day_request("page/home", 1, 0));
  EXPECT_EQ(first.timeout, 2000ms);
  EXPECT_FALSE(first.idempotent);  // the HTTP client must not resend it either
  EXPECT_TRUE(logs.empty());
}

TEST_F(DynamoDbStoreTest, WithoutHistoryEachKeyIsOneUpdateOfCountAlone) {
  auto db = make();
  replies = {counted(3), counted(1)};
  const HitBatch batch({{"visitors", {"", "", ""}}, {"page/home", {""}}}, {.history = false});
  auto results = add_all(*db, batch);
  EXPECT_EQ(views(results[0]), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(views(results[1]), std::vector<std::int64_t>{1});
  // The classic design's request: ADD count, nothing else, and no day row.
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].body,
            dynamodb::add_request("visitor-counter", "visitors", {{"count", 3}}, true));
  EXPECT_EQ(sent[1].body,
            dynamodb::add_request("visitor-counter", "page/home", {{"count", 1}}, true));
}

TEST_F(DynamoDbStoreTest, ThrottlingIsRetriedWithBackoff) {
  auto db = make();
  replies = {error(400, "ProvisionedThroughputExceededException"),
             error(400, "ThrottlingException"), counted(42), kDayRowDone};
  const HitBatch batch({{"visitors", {""}}});
  EXPECT_EQ(views(add_one(*db, batch)), std::vector<std::int64_t>{42});
  EXPECT_EQ(sent.size(), 4u);
  EXPECT_EQ(sleeps, (std::vector<milliseconds>{50ms, 100ms}));
}

TEST_F(DynamoDbStoreTest, PersistentServerErrorsStopAtMaxAttempts) {
  auto db = make();
  replies = {error(500, "InternalServerError"), error(500, "InternalServerError"),
             error(500, "InternalServerError"), counted(1)};
  auto value = db->get("visitors");
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(sent.size(), 3u);
  const std::string& message = value.error().message;
  EXPECT_NE(message.find("DynamoDB GetItem on table visitor-counter failed"), std::string::npos);
  EXPECT_NE(message.find("HTTP 500 InternalServerError: m"), std::string::npos) << message;
  EXPECT_NE(message.find("attempts exhausted after 3 attempt(s)"), std::string::npos) << message;
  EXPECT_EQ(logs, std::vector<std::string>{message});
}

TEST_F(DynamoDbStoreTest, ClientErrorsFailFast) {
  auto db = make();
  replies = {error(400, "ResourceNotFoundException", "Requested resource not found")};
  const HitBatch batch({{"visitors", {""}}});
  auto values = add_one(*db, batch);
  ASSERT_FALSE(values.has_value());
  EXPECT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sleeps.empty());
  EXPECT_NE(values.error().message.find("ResourceNotFoundException"), std::string::npos);
  EXPECT_NE(values.error().message.find("not retryable"), std::string::npos);
}

// Every way an UpdateItem can fail after DynamoDB may have applied it: never repeated, and
// reported as outcome_unknown so the client hears "may have counted".
TEST_F(DynamoDbStoreTest, AnUpdateThatMayHaveBeenAppliedIsNotRepeated) {
  const Reply ambiguous[] = {
      broken(aws::HttpError::Kind::timeout),  // the answer did not come in time
      broken(aws::HttpError::Kind::io),       // reset after the request was written
      error(500, "InternalServerError"),      // AWS: a 500 may follow an applied write
      error(503, "ServiceUnavailable"),      aws::HttpResponse{502, {}, "<html>bad gateway</html>"},
  };
  for (const Reply& first : ambiguous) {
    auto db = make();
    sent.clear();
    replies = {first, kDayRowDone};
    const HitBatch batch({{"visitors", {""}}});
    auto values = add_one(*db, batch);
    ASSERT_FALSE(values.has_value());
    EXPECT_EQ(values.error().kind, Kind::outcome_unknown) << values.error().message;
    // Once; and the day row beside it is kept, as the counter may have taken the hit.
    ASSERT_EQ(sent.size(), 2u) << values.error().message;
    EXPECT_EQ(sent[1].body, day_request("visitors", 1, 0));
    EXPECT_NE(values.error().message.find("outcome unknown, not retried"), std::string::npos)
        << values.error().message;
  }
  // A read is idempotent, so the same failures are retried.
  auto db = make();
  replies = {broken(aws::HttpError::Kind::timeout), error(500, "InternalServerError"),
             ok(R"({"Item":{"count":{"N":"2"}}})")};
  EXPECT_EQ(db->get("visitors").value(), (Totals{.views = 2, .visitors = 0}));
}

// What provably did not apply is retried: nothing was sent, or DynamoDB refused it.
TEST_F(DynamoDbStoreTest, UpdatesThatDidNotApplyAreRetried) {
  const Reply refused[] = {
      broken(aws::HttpError::Kind::connect),
      broken(aws::HttpError::Kind::resolve),
      broken(aws::HttpError::Kind::tls),
      broken(aws::HttpError::Kind::io, /*sent=*/false),
      broken(aws::HttpError::Kind::timeout, /*sent=*/false),
      error(400, "ProvisionedThroughputExceededException"),
      error(400, "RequestLimitExceeded"),
      error(400, "ThrottlingException"),
      error(400, "TransactionConflictException"),
  };
  for (const Reply& first : refused) {
    auto db = make();
    sent.clear();
    replies = {first, counted(5), kDayRowDone};
    const HitBatch batch({{"visitors", {""}}});
    EXPECT_EQ(views(add_one(*db, batch)), std::vector<std::int64_t>{5});
    EXPECT_EQ(sent.size(), 3u);
  }
}

TEST_F(DynamoDbStoreTest, EachKeyReportsItsOwnResult) {
  auto db = make();
  replies = {counted(1), kDayRowDone, error(400, "ValidationException"),
             counted(7), kDayRowDone, broken(aws::HttpError::Kind::io),
             kDayRowDone};
  const HitBatch batch({{"a", {""}}, {"b", {""}}, {"c", {"", ""}}, {"d", {""}}});
  auto results = add_all(*db, batch);
  EXPECT_EQ(sent.size(), 7u);  // b's day row is dropped: its counter certainly failed
  EXPECT_EQ(views(results[0]), std::vector<std::int64_t>{1});
  ASSERT_FALSE(results[1].has_value());
  EXPECT_EQ(results[1].error().kind, Kind::failed);
  EXPECT_NE(results[1].error().message.find("ValidationException"), std::string::npos);
  EXPECT_EQ(views(results[2]), (std::vector<std::int64_t>{6, 7}));
  ASSERT_FALSE(results[3].has_value());
  EXPECT_EQ(results[3].error().kind, Kind::outcome_unknown);
}

// A batch's UpdateItems run concurrently, never more than max_in_flight at once, and each
// key gets its own answer.
TEST(DynamoDbStoreConcurrency, ABatchRunsMaxInFlightAtOnce) {
  constexpr int kInFlight = 4;
  auto config = dynamodb::parse_dynamodb_url(
      "dynamodb://visitor-counter?region=us-east-1&max_in_flight=" + std::to_string(kInFlight), {});
  ASSERT_TRUE(config.has_value());
  std::mutex mutex;
  std::condition_variable changed;
  int in_flight = 0;
  int most = 0;
  bool reached = false;
  auto transport = [&](const aws::HeaderList&, std::string_view body, milliseconds, bool) -> Reply {
    std::unique_lock lock(mutex);
    most = std::max(most, ++in_flight);
    reached = reached || in_flight == kInFlight;
    changed.notify_all();
    // Hold every call until max_in_flight are out at once (the first round proves it).
    changed.wait_for(lock, 10s, [&] { return reached; });
    --in_flight;
    // The key's number (k7 -> 7) is its value, so a mixed-up answer shows.
    const std::size_t at = body.find("\"k");
    return counted(std::stoi(std::string(body.substr(at + 2))));
  };
  DynamoDbStore::Hooks hooks{.retry = aws::system_retry_hooks(),
                             .wall_clock = [] { return std::chrono::system_clock::now(); },
                             .log = {}};
  DynamoDbStore db(std::move(*config), {"AKID", "SECRET", ""}, transport, std::move(hooks));
  std::vector<std::string> keys;
  for (int i = 0; i < 3 * kInFlight; ++i)
    keys.push_back(std::string("k").append(std::to_string(i)));
  std::vector<Hit> hits(keys.size());
  std::vector<KeyHits> key_hits;
  for (std::size_t i = 0; i < keys.size(); ++i) key_hits.push_back({keys[i], {&hits[i], 1}});
  const Batch batch{
      .day = "2026-01-01", .now = 0, .repeat_window = 0, .marker_expires = 0, .keys = key_hits};
  auto results = add_all(db, batch);
  EXPECT_TRUE(reached);
  EXPECT_EQ(most, kInFlight);
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(views(results[i]), std::vector<std::int64_t>{std::int64_t(i)}) << i;
  }
}

// The counter and its day row are in flight at the same time; a day row raised beside a
// counter that certainly did not move is lowered back.
TEST(DynamoDbStoreConcurrency, TheDayRowGoesBesideTheCounter) {
  auto config = dynamodb::parse_dynamodb_url(
      "dynamodb://visitor-counter?region=us-east-1&max_in_flight=2", {});
  ASSERT_TRUE(config.has_value());
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> bodies;
  bool day_row_out = false;
  Reply counter_reply = counted(9, 1);
  auto transport = [&](const aws::HeaderList&, std::string_view body, milliseconds, bool) -> Reply {
    std::unique_lock lock(mutex);
    bodies.emplace_back(body);
    if (body.find("#day#") != std::string_view::npos) {
      day_row_out = true;
      changed.notify_all();
      return kDayRowDone;
    }
    // The counter waits for its day row: both are out at once, or this times out.
    EXPECT_TRUE(changed.wait_for(lock, 10s, [&] { return day_row_out; }));
    return counter_reply;
  };
  std::vector<std::string> logs;
  DynamoDbStore::Hooks hooks{.retry = aws::system_retry_hooks(),
                             .wall_clock = [] { return std::chrono::system_clock::now(); },
                             .log = [&](std::string_view line) { logs.emplace_back(line); }};
  DynamoDbStore db(std::move(*config), {"AKID", "SECRET", ""}, transport, std::move(hooks));
  const HitBatch batch({{"home", {""}}});
  const std::vector<std::string> both = {counter_request("home", 1, 0), day_request("home", 1, 0)};
  const auto first_two = [&] {  // in the order they arrived, which may be either
    std::vector<std::string> two(bodies.begin(),
                                 bodies.begin() + std::min<std::size_t>(2, bodies.size()));
    std::sort(two.begin(), two.end(), [&](const std::string& a, const std::string& b) {
      return (a == both[0]) > (b == both[0]);
    });
    return two;
  };

  EXPECT_EQ(views(add_one(db, batch)), std::vector<std::int64_t>{9});
  EXPECT_EQ(bodies.size(), 2u);
  EXPECT_EQ(first_two(), both);

  bodies.clear();
  day_row_out = false;
  counter_reply = error(400, "ValidationException");
  auto failed = add_one(db, batch);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind, Kind::failed);
  ASSERT_EQ(bodies.size(), 3u);
  EXPECT_EQ(first_two(), both);
  EXPECT_EQ(bodies[2], day_request("home", -1, 0));
  EXPECT_EQ(logs.size(), 1u);  // the counter's failure; the day row was lowered back
}

TEST_F(DynamoDbStoreTest, NonIntegerCountsFailCleanly) {
  auto db = make();
  replies = {ok(R"({"Attributes":{"count":{"N":"1.5"}}})"), ok(R"({"Item":{"count":{"N":"x"}}})")};
  const HitBatch batch({{"a", {""}}});
  auto result = add_one(*db, batch);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, Kind::outcome_unknown);  // applied, the answer unreadable
  EXPECT_FALSE(db->get("a").has_value());
  EXPECT_EQ(logs.size(), 2u);
}

TEST_F(DynamoDbStoreTest, GetAndPing) {
  auto db = make();
  replies = {ok("{}"), ok(R"({"Table":{"TableStatus":"ACTIVE"}})"),
             ok(R"({"Table":{"TableStatus":"CREATING"}})")};
  EXPECT_EQ(db->get("never").value(), std::nullopt);
  EXPECT_EQ(sent[0].header("X-Amz-Target"), "DynamoDB_20120810.GetItem");
  EXPECT_TRUE(db->ping().has_value());
  EXPECT_EQ(sent[1].header("X-Amz-Target"), "DynamoDB_20120810.DescribeTable");
  EXPECT_EQ(sent[1].body, R"({"TableName":"visitor-counter"})");
  auto creating = db->ping();
  ASSERT_FALSE(creating.has_value());
  EXPECT_NE(creating.error().message.find("CREATING"), std::string::npos);
}

TEST_F(DynamoDbStoreTest, LogsCarryNoSecrets) {
  auto db = make({"AKID", "SUPERSECRET", "SESSIONTOKEN"});
  replies = {error(400, "InvalidSignatureException",
                   "The signature does not match. x-amz-security-token:SESSIONTOKEN key "
                   "SUPERSECRET\\nThe Canonical String for this request should have been ...")};
  ASSERT_FALSE(db->ping().has_value());
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].find("SESSIONTOKEN"), std::string::npos) << logs[0];
  EXPECT_EQ(logs[0].find("SUPERSECRET"), std::string::npos) << logs[0];
  EXPECT_EQ(logs[0].find("Canonical String"), std::string::npos) << logs[0];
  EXPECT_NE(logs[0].find("InvalidSignatureException"), std::string::npos) << logs[0];
}

TEST_F(DynamoDbStoreTest, TheEndpointDecidesTheHostHeader) {
  auto db = make({"AKID", "SECRET", ""},
                 "dynamodb://visitor-counter?region=us-east-1&endpoint=http://127.0.0.1:4567");
  replies = {ok("{}")};
  ASSERT_TRUE(db->get("x").has_value());
  EXPECT_EQ(sent[0].header("Host"), "127.0.0.1:4567");
  EXPECT_EQ(sent[0].header("X-Amz-Security-Token"), "(absent)");
}

TEST_F(DynamoDbStoreTest, RedactionTerminatesForSecretsInsideTheMarker) {
  auto db = make({"AKID", "d", ""});
  replies = {error(400, "AccessDeniedException", "denied: d e dd")};
  ASSERT_FALSE(db->ping().has_value());
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_NE(logs[0].find("AccessDeniedException: [redacted]enie[redacted]: [redacted] e "
                         "[redacted][redacted] ["),
            std::string::npos)
      << logs[0];
}

// Each distinct visitor's mark is a conditional-free update (window 0) that returns the old
// item: none is a new visitor, one with `seen` a returning one. The counter then adds the
// batch's views and visitors, and the day row the same.
TEST_F(DynamoDbStoreTest, MarksDecideNewAndReturningVisitors) {
  auto db = make();
  replies = {ok("{}"), ok(R"({"Attributes":{"seen":{"N":"100"}}})"), counted(10, 4), kDayRowDone};
  const HitBatch batch({{"home", {"v1", "v1", "v2"}}});
  auto results = add_one(*db, batch);
  ASSERT_TRUE(results.has_value()) << results.error().message;
  EXPECT_EQ(*results, (std::vector<HitResult>{{Seen::new_visitor, {8, 4}},
                                              {Seen::returning, {9, 4}},
                                              {Seen::returning, {10, 4}}}));
  ASSERT_EQ(sent.size(), 4u);
  const Batch& b = batch;
  EXPECT_EQ(sent[0].body, dynamodb::mark_request("visitor-counter", "home#v#2026-01-01#v1", b.now,
                                                 b.marker_expires, std::nullopt));
  EXPECT_EQ(sent[1].body, dynamodb::mark_request("visitor-counter", "home#v#2026-01-01#v2", b.now,
                                                 b.marker_expires, std::nullopt));
  EXPECT_TRUE(sent[0].idempotent);  // a resent mark can only make its hit count less
  EXPECT_EQ(sent[2].body, counter_request("home", 3, 1));
  EXPECT_FALSE(sent[2].idempotent);
  EXPECT_EQ(sent[3].body, day_request("home", 3, 1));
}

// Without a repeat window, a visitor whose mark this process wrote or found today is
// returning without a request; with a window, after a remove(), or on another day, the mark
// is asked again.
TEST_F(DynamoDbStoreTest, AKnownMarkNeedsNoRequest) {
  auto db = make();
  replies = {ok("{}"), counted(1, 1), kDayRowDone};
  const HitBatch first({{"home", {"v1"}}});
  ASSERT_TRUE(add_one(*db, first).has_value());
  ASSERT_EQ(sent.size(), 3u);

  sent.clear();
  replies = {counted(3, 1), kDayRowDone};
  const HitBatch again({{"home", {"v1", "v1"}}}, {.now = 1767268900});
  auto results = add_one(*db, again);
  ASSERT_TRUE(results.has_value()) << results.error().message;
  EXPECT_EQ(*results,
            (std::vector<HitResult>{{Seen::returning, {2, 1}}, {Seen::returning, {3, 1}}}));
  ASSERT_EQ(sent.size(), 2u);  // the counter and its day row; no mark
  EXPECT_EQ(sent[0].body, counter_request("home", 2, 0));

  const auto mark_is_sent = [&](const HitBatch& batch) {
    sent.clear();
    replies = {ok(R"({"Attributes":{"seen":{"N":"1"}}})"), counted(9, 1), kDayRowDone};
    EXPECT_TRUE(add_one(*db, batch).has_value());
    return !sent.empty() && sent[0].body.find("#v#") != std::string::npos;
  };
  EXPECT_TRUE(mark_is_sent(HitBatch({{"other", {"v1"}}})));  // per counter
  EXPECT_TRUE(mark_is_sent(HitBatch({{"home", {"v1"}}}, {.window = 60})));
  EXPECT_TRUE(mark_is_sent(HitBatch({{"home", {"v1"}}}, {.day = "2026-01-02"})));
  EXPECT_TRUE(mark_is_sent(HitBatch({{"home", {"v1"}}})));  // the new day emptied the set

  replies = {ok(R"({"Attributes":{"id":{"S":"home"}}})"), ok(R"({"Items":[]})")};
  ASSERT_TRUE(db->remove("home").has_value());
  EXPECT_TRUE(mark_is_sent(HitBatch({{"home", {"v1"}}})));
}

// Within the repeat window the mark's condition fails: nothing is written, and the hit
// answers the current totals, read consistently.
TEST_F(DynamoDbStoreTest, AVisitorWithinTheWindowIsARepeat) {
  auto db = make();
  replies = {error(400, "ConditionalCheckFailedException", "The conditional request failed"),
             ok(R"({"Item":{"count":{"N":"5"},"visitors":{"N":"2"}}})")};
  const HitBatch batch({{"home", {"v1"}}}, {.window = 60});
  auto results = add_one(*db, batch);
  ASSERT_TRUE(results.has_value());
  EXPECT_EQ(*results, (std::vector<HitResult>{{Seen::repeat, {5, 2}}}));
  ASSERT_EQ(sent.size(), 2u);
  const Batch& b = batch;
  EXPECT_EQ(sent[0].body, dynamodb::mark_request("visitor-counter", "home#v#2026-01-01#v1", b.now,
                                                 b.marker_expires, b.now - 60));
  EXPECT_EQ(sent[1].header("X-Amz-Target"), "DynamoDB_20120810.GetItem");
  EXPECT_TRUE(logs.empty());  // a repeat is not a failure
}

TEST_F(DynamoDbStoreTest, AFailedMarkFailsItsKeyOnly) {
  auto db = make();
  replies = {error(400, "ValidationException"), counted(1), kDayRowDone};
  const HitBatch batch({{"a", {"v1"}}, {"b", {""}}});
  auto results = add_all(*db, batch);
  ASSERT_FALSE(results[0].has_value());
  EXPECT_EQ(results[0].error().kind, Kind::failed);
  EXPECT_EQ(views(results[1]), std::vector<std::int64_t>{1});
}

// The day's salt: one UpdateItem that keeps the salt already there, else writes this one,
// and answers the salt kept.
TEST_F(DynamoDbStoreTest, TheSaltIsCreatedOnceAndSharedOtherwise) {
  auto db = make();
  replies = {ok(R"({"Attributes":{"id":{"S":"#salt#2026-01-01"},"salt":{"S":"ours"}}})")};
  EXPECT_EQ(db->salt("2026-01-01").value(), "ours");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].header("X-Amz-Target"), "DynamoDB_20120810.UpdateItem");
  EXPECT_NE(sent[0].body.find(R"x(SET #name = if_not_exists(#name, :value), )x"
                              R"x(#expires = if_not_exists(#expires, :expires))x"),
            std::string::npos)
      << sent[0].body;
  EXPECT_NE(sent[0].body.find(R"("id":{"S":"#salt#2026-01-01"})"), std::string::npos);
  EXPECT_NE(sent[0].body.find(R"(":expires":{"N":"1767398400"})"), std::string::npos)
      << sent[0].body;  // the end of the next day
  EXPECT_NE(sent[0].body.find(R"("ReturnValues":"ALL_NEW")"), std::string::npos);
  constexpr std::string_view kOffered = R"(":value":{"S":")";
  const auto offered = sent[0].body.find(kOffered) + kOffered.size();
  ASSERT_GT(offered, kOffered.size());
  EXPECT_EQ(sent[0].body.find('"', offered) - offered, 64u);  // 32 random bytes, in hex

  replies = {ok(R"({"Attributes":{"salt":{"S":"theirs"}}})")};  // another process's
  EXPECT_EQ(db->salt("2026-01-01").value(), "theirs");
  replies = {ok(R"({"Attributes":{"id":{"S":"#salt#2026-01-01"}}})")};
  EXPECT_FALSE(db->salt("2026-01-01").has_value());  // an answer without the salt
}

TEST_F(DynamoDbStoreTest, ForgettingDeletesTheTwoPreviousSalts) {
  auto db = make();
  replies = {ok("{}"), ok("{}")};
  ASSERT_TRUE(db->forget_before("2026-03-01").has_value());
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].body, dynamodb::delete_item_request("visitor-counter", "#salt#2026-02-28"));
  EXPECT_EQ(sent[1].body, dynamodb::delete_item_request("visitor-counter", "#salt#2026-02-27"));
}

// An Idempotency-Key is claimed before counting and its answer kept after; a key answered
// before replays that answer without counting; one claimed by a request still counting is
// a conflict.
TEST_F(DynamoDbStoreTest, IdempotencyKeysAreClaimedAnsweredAndReplayed) {
  auto db = make();
  IdempotentBatch first({"k1"});
  replies = {ok("{}"), counted(3), kDayRowDone, ok("{}")};
  auto results = add_one(*db, first.batch);
  ASSERT_TRUE(results.has_value());
  EXPECT_EQ(views(results), std::vector<std::int64_t>{3});
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].header("X-Amz-Target"), "DynamoDB_20120810.PutItem");
  EXPECT_NE(sent[0].body.find(R"("id":{"S":"#idem#home#k1"})"), std::string::npos);
  EXPECT_EQ(sent[3].body, dynamodb::answer_request("visitor-counter", "#idem#home#k1", {3, 0}));

  sent.clear();
  IdempotentBatch again({"k1", "k2"});
  replies = {error(400, "ConditionalCheckFailedException"),
             ok(R"({"Item":{"claim":{"S":"someone"},"views":{"N":"3"},"visitors":{"N":"0"}}})"),
             error(400, "ConditionalCheckFailedException"),
             ok(R"({"Item":{"claim":{"S":"someone else"}}})")};
  results = add_one(*db, again.batch);
  ASSERT_TRUE(results.has_value());
  EXPECT_EQ(*results, (std::vector<HitResult>{{Seen::replayed, {3, 0}}, {Seen::conflict, {}}}));
  EXPECT_EQ(sent.size(), 4u);  // nothing counted, nothing to remember
}

TEST_F(DynamoDbStoreTest, AKeyThatCountedNothingGivesItsClaimsBack) {
  auto db = make();
  IdempotentBatch batch({"k1"});
  replies = {ok("{}"), error(400, "ValidationException"), ok("{}")};
  auto results = add_one(*db, batch.batch);
  ASSERT_FALSE(results.has_value());
  EXPECT_EQ(results.error().kind, Kind::failed);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].body, dynamodb::delete_item_request("visitor-counter", "#idem#home#k1"));

  sent.clear();  // an unknown outcome keeps the claim: a resend must not count again
  replies = {ok("{}"), error(500, "InternalServerError"), kDayRowDone};
  results = add_one(*db, batch.batch);
  ASSERT_FALSE(results.has_value());
  EXPECT_EQ(results.error().kind, Kind::outcome_unknown);
  EXPECT_EQ(sent.size(), 3u);  // the claim, the counter, its day row
}

// --- The owner's calls: history, list, set_totals, remove, import ----------------------------

constexpr std::string_view kTable = "visitor-counter";

// A JSON item {"id": ..., number attributes...}: numbers as `"name":N` pairs.
std::string item(std::string_view id,
                 std::initializer_list<std::pair<std::string_view, int>> numbers = {}) {
  std::string json = R"({"id":{"S":")" + std::string(id) + R"("})";
  for (const auto& [name, value] : numbers) {
    json += R"(,")" + std::string(name) + R"(":{"N":")" + std::to_string(value) + R"("})";
  }
  return json + "}";
}
std::string joined(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& part : parts) out += (out.empty() ? "" : ",") + part;
  return out;
}
// A Scan page; `last`: its LastEvaluatedKey's id ("": the last page).
Reply scan_page(std::initializer_list<std::string> items, std::string_view last = "") {
  std::string body = R"({"Items":[)" + joined(items) + "]";
  if (!last.empty()) body += R"(,"LastEvaluatedKey":{"id":{"S":")" + std::string(last) + R"("}})";
  return ok(body + "}");
}
// A BatchGetItem answer: the items found, and the ids left unprocessed.
Reply batch_got(std::initializer_list<std::string> items,
                std::vector<std::string> unprocessed = {}) {
  std::string body = R"({"Responses":{"visitor-counter":[)" + joined(items) + "]}";
  std::string keys;
  for (const std::string& id : unprocessed) {
    if (!keys.empty()) keys += ',';
    keys += item(id);
  }
  body += R"(,"UnprocessedKeys":{)";
  if (!unprocessed.empty()) {
    body += R"("visitor-counter":{"Keys":[)" + keys + R"(],"ConsistentRead":true})";
  }
  return ok(body + "}}");
}
// A BatchWriteItem answer leaving the puts of `unprocessed` (ids) undone.
Reply batch_written(std::vector<std::string> unprocessed = {}) {
  std::string requests;
  for (const std::string& id : unprocessed) {
    requests +=
        std::string(requests.empty() ? "" : ",") + R"({"PutRequest":{"Item":)" + item(id) + "}}";
  }
  if (requests.empty()) return ok(R"({"UnprocessedItems":{}})");
  return ok(R"({"UnprocessedItems":{"visitor-counter":[)" + requests + "]}}");
}

std::size_t occurrences(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string_view::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

std::vector<std::string> day_ids(std::string_view key, int year, int count) {
  std::vector<std::string> ids;
  const std::chrono::sys_days first = std::chrono::year{year} / 1 / 1;
  for (int i = 0; i < count; ++i) {
    ids.push_back(std::string(key) + "#day#" + util::utc_day(first + std::chrono::days{i}));
  }
  return ids;
}

TEST_F(DynamoDbStoreTest, HistoryReadsTheDayRowsHundredAtATime) {
  auto db = make();
  replies = {batch_got({item("home#day#2025-03-02", {{"views", 5}, {"visitors", 2}}),
                        item("home#day#2025-01-07", {{"views", 9}, {"visitors", 4}})}),
             batch_got({}), batch_got({}),
             batch_got({item("home#day#2025-12-31", {{"views", 1}, {"visitors", 1}})})};
  auto rows = db->history("home", "2025-01-01", "2025-12-31");
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  EXPECT_EQ(*rows, (std::vector<DayRow>{
                       {"2025-01-07", {9, 4}}, {"2025-03-02", {5, 2}}, {"2025-12-31", {1, 1}}}));
  ASSERT_EQ(sent.size(), 4u);  // 365 days: 100 + 100 + 100 + 65
  const std::vector<std::string> ids = day_ids("home", 2025, 365);
  EXPECT_EQ(sent[0].header("X-Amz-Target"), "DynamoDB_20120810.BatchGetItem");
  EXPECT_EQ(sent[0].body, dynamodb::batch_get_request(kTable, std::span(ids).first(100)));
  EXPECT_EQ(sent[3].body, dynamodb::batch_get_request(kTable, std::span(ids).subspan(300)));
  EXPECT_TRUE(sent[0].idempotent);
  EXPECT_NE(sent[0].body.find(R"("ConsistentRead":true)"), std::string::npos);
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(DynamoDbStoreTest, HistoryRefusesBadRangesWithoutAsking) {
  auto db = make();
  replies = {batch_got({}), batch_got({}), batch_got({}), batch_got({})};
  EXPECT_TRUE(db->history("home", "2026-01-02", "2026-01-01").value().empty());
  EXPECT_TRUE(db->history("home", "2024-01-01", "2024-12-31").has_value());  // 366 days
  EXPECT_FALSE(db->history("home", "2024-01-01", "2025-01-01").has_value());
  EXPECT_FALSE(db->history("home", "2026-02-30", "2026-03-01").has_value());
  EXPECT_EQ(sent.size(), 4u);  // only for the 366 days
}

TEST_F(DynamoDbStoreTest, HistoryAsksAgainForUnprocessedKeys) {
  auto db = make();
  replies = {batch_got({item("home#day#2026-01-01", {{"views", 3}, {"visitors", 1}})},
                       {"home#day#2026-01-02", "home#day#2026-01-03"}),
             batch_got({}, {"home#day#2026-01-03"}),
             batch_got({item("home#day#2026-01-03", {{"views", 7}, {"visitors", 2}})})};
  auto rows = db->history("home", "2026-01-01", "2026-01-03");
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  EXPECT_EQ(*rows, (std::vector<DayRow>{{"2026-01-01", {3, 1}}, {"2026-01-03", {7, 2}}}));
  ASSERT_EQ(sent.size(), 3u);
  const std::vector<std::string> again = {"home#day#2026-01-02", "home#day#2026-01-03"};
  EXPECT_EQ(sent[1].body, dynamodb::batch_get_request(kTable, again));
  EXPECT_EQ(sent[2].body, dynamodb::batch_get_request(kTable, std::span(again).subspan(1)));
  EXPECT_EQ(sleeps, (std::vector<milliseconds>{50ms, 100ms}));  // backoff as after throttling

  sent.clear();  // keys that stay unprocessed fail the call after max_attempts (3) requests
  replies = {batch_got({}, {"home#day#2026-01-01"}), batch_got({}, {"home#day#2026-01-01"}),
             batch_got({}, {"home#day#2026-01-01"}), batch_got({})};
  rows = db->history("home", "2026-01-01", "2026-01-01");
  ASSERT_FALSE(rows.has_value());
  EXPECT_EQ(sent.size(), 3u);
  EXPECT_NE(rows.error().message.find("1 item(s) still unprocessed [attempts exhausted after 3"),
            std::string::npos)
      << rows.error().message;
}

TEST_F(DynamoDbStoreTest, ListScansEveryPageAndSortsByKey) {
  auto db = make();
  const auto two_pages = [] {
    return std::deque<Reply>{
        scan_page({item("b", {{"count", 5}, {"visitors", 2}}), item("a#day#2026-01-02"),
                   item("a", {{"count", 7}})},  // a classic item: no visitors
                  "a"),
        scan_page({item("a#day#2026-01-05"), item("c", {{"count", 1}, {"visitors", 1}}),
                   item("b#day#2026-01-01"), item("#idem#x#day#2026-01-01"),
                   item("d#v#2026-01-01#ab")})};
  };
  replies = two_pages();
  auto page = db->list("", "", 10);
  ASSERT_TRUE(page.has_value()) << page.error().message;
  EXPECT_EQ(page->counters,
            (std::vector<CounterInfo>{
                {"a", {7, 0}, "2026-01-05"}, {"b", {5, 2}, "2026-01-01"}, {"c", {1, 1}, ""}}));
  EXPECT_EQ(page->next, "");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].header("X-Amz-Target"), "DynamoDB_20120810.Scan");
  EXPECT_EQ(sent[0].body,
            R"({"TableName":"visitor-counter",)"
            R"j("FilterExpression":"contains(#id, :day) OR (attribute_exists(#count) AND NOT )j"
            R"j(contains(#id, :hash))","ProjectionExpression":"#id, #count, #views, #visitors",)j"
            R"("ExpressionAttributeNames":{"#id":"id","#count":"count","#views":"views",)"
            R"("#visitors":"visitors"},)"
            R"("ExpressionAttributeValues":{":day":{"S":"#day#"},":hash":{"S":"#"}},)"
            R"("ConsistentRead":true})");
  EXPECT_EQ(sent[1].body, dynamodb::counters_scan_request(kTable, "", "a"));
  EXPECT_NE(sent[1].body.find(R"("ExclusiveStartKey":{"id":{"S":"a"}})"), std::string::npos);
  EXPECT_TRUE(sent[0].idempotent);

  sent.clear();  // a page of one after "a": "b", and more remain
  replies = two_pages();
  page = db->list("", "a", 1);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->counters, (std::vector<CounterInfo>{{"b", {5, 2}, "2026-01-01"}}));
  EXPECT_EQ(page->next, "b");

  sent.clear();  // the prefix goes into the filter, and is checked again on the answer
  replies = two_pages();
  page = db->list("b", "", 10);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->counters, (std::vector<CounterInfo>{{"b", {5, 2}, "2026-01-01"}}));
  EXPECT_EQ(page->next, "");
  EXPECT_NE(sent[0].body.find(R"("FilterExpression":"begins_with(#id, :prefix) AND (contains)"),
            std::string::npos)
      << sent[0].body;
  EXPECT_NE(sent[0].body.find(R"(":prefix":{"S":"b"})"), std::string::npos);
}

TEST_F(DynamoDbStoreTest, ListFailsCleanlyOnABadPage) {
  auto db = make();
  replies = {scan_page({R"({"id":{"S":"a"},"count":{"S":"7"}})"})};
  auto page = db->list("", "", 10);
  ASSERT_FALSE(page.has_value());
  EXPECT_NE(page.error().message.find("item a: count: attribute is not a number"),
            std::string::npos)
      << page.error().message;
  EXPECT_EQ(logs.size(), 1u);
}

// The whole table's counters with their day rows, by key, days ascending; day rows of a key
// without a counter item are left out.
TEST_F(DynamoDbStoreTest, DumpGivesEveryCounterWithItsHistory) {
  auto db = make();
  replies = {scan_page({item("b", {{"count", 5}, {"visitors", 2}}),
                        item("a#day#2026-01-02", {{"views", 3}, {"visitors", 1}}),
                        item("a", {{"count", 7}})},
                       "a"),
             scan_page({item("a#day#2026-01-01", {{"views", 4}, {"visitors", 2}}),
                        item("gone#day#2026-01-01", {{"views", 1}, {"visitors", 1}}),
                        item("#salt#2026-01-01")})};
  std::vector<CounterRecord> records;
  std::vector<std::size_t> totals;
  auto dumped = db->dump([&](CounterRecord&& record, std::size_t total) {
    records.push_back(std::move(record));
    totals.push_back(total);
  });
  ASSERT_TRUE(dumped.has_value()) << dumped.error().message;
  EXPECT_EQ(records, (std::vector<CounterRecord>{
                         {"a", {7, 0}, {{"2026-01-01", {4, 2}}, {"2026-01-02", {3, 1}}}},
                         {"b", {5, 2}, {}}}));
  EXPECT_EQ(totals, (std::vector<std::size_t>{2, 2}));
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].body, dynamodb::counters_scan_request(kTable, "", ""));
  EXPECT_EQ(sent[1].body, dynamodb::counters_scan_request(kTable, "", "a"));

  replies = {error(400, "ValidationException")};  // a failed scan calls nothing
  records.clear();
  EXPECT_FALSE(db->dump([&](CounterRecord&& record, std::size_t) {
                   records.push_back(std::move(record));
                 }).has_value());
  EXPECT_TRUE(records.empty());
}

TEST_F(DynamoDbStoreTest, SetTotalsSetsWhatIsGiven) {
  auto db = make();
  replies = {ok("{}"), error(500, "InternalServerError"), ok("{}"), ok("{}")};
  ASSERT_TRUE(db->set_totals("home", 5, 2).has_value());
  EXPECT_EQ(sent[0].header("X-Amz-Target"), "DynamoDB_20120810.UpdateItem");
  EXPECT_EQ(sent[0].body, R"({"TableName":"visitor-counter","Key":{"id":{"S":"home"}},)"
                          R"("UpdateExpression":"SET #count = :v, #visitors = :u",)"
                          R"("ExpressionAttributeNames":{"#count":"count","#visitors":"visitors"},)"
                          R"("ExpressionAttributeValues":{":v":{"N":"5"},":u":{"N":"2"}}})");
  EXPECT_TRUE(sent[0].idempotent);
  // Safe to resend after a 500; a counter without views gets count 0.
  ASSERT_TRUE(db->set_totals("home", std::nullopt, 3).has_value());
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].body,
            R"({"TableName":"visitor-counter","Key":{"id":{"S":"home"}},)"
            R"("UpdateExpression":"SET #count = if_not_exists(#count, :zero), #visitors = :u",)"
            R"("ExpressionAttributeNames":{"#count":"count","#visitors":"visitors"},)"
            R"("ExpressionAttributeValues":{":zero":{"N":"0"},":u":{"N":"3"}}})");
  ASSERT_TRUE(db->set_totals("home", 9, std::nullopt).has_value());
  EXPECT_EQ(sent[3].body, dynamodb::set_totals_request(kTable, "home", 9, std::nullopt));
  EXPECT_EQ(sent[3].body.find("visitors"), std::string::npos);
  EXPECT_FALSE(db->set_totals("#salt#2026-01-01", 1, 1).has_value());
  EXPECT_FALSE(db->set_totals("", 1, 1).has_value());
  EXPECT_EQ(sent.size(), 4u);
}

TEST_F(DynamoDbStoreTest, RemoveDeletesTheCounterAndEverythingUnderIt) {
  auto db = make();
  std::vector<std::string> first_page;
  for (int i = 0; i < 30; ++i) first_page.push_back("home#v#2026-01-01#" + std::to_string(i));
  std::string items;
  for (const std::string& id : first_page) {
    if (!items.empty()) items += ',';
    items += item(id);
  }
  replies = {ok(R"({"Attributes":{"id":{"S":"home"},"count":{"N":"3"}}})"),
             ok(R"({"Items":[)" + items + R"(],"LastEvaluatedKey":{"id":{"S":"x"}}})"),
             scan_page({item("home#day#2026-01-01"), item("#idem#home#k1")}),
             batch_written(),
             batch_written(),
             ok("{}")};
  auto removed = db->remove("home");
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  EXPECT_TRUE(*removed);
  ASSERT_EQ(sent.size(), 6u);
  EXPECT_EQ(sent[0].header("X-Amz-Target"), "DynamoDB_20120810.DeleteItem");
  EXPECT_EQ(
      sent[0].body,
      R"({"TableName":"visitor-counter","Key":{"id":{"S":"home"}},"ReturnValues":"ALL_OLD"})");
  EXPECT_EQ(sent[1].body,
            R"({"TableName":"visitor-counter",)"
            R"j("FilterExpression":"begins_with(#id, :p0) OR begins_with(#id, :p1)",)j"
            R"("ProjectionExpression":"#id","ExpressionAttributeNames":{"#id":"id"},)"
            R"("ExpressionAttributeValues":{":p0":{"S":"home#"},":p1":{"S":"#idem#home#"}},)"
            R"("ConsistentRead":true})");
  const std::string prefixes[] = {"home#", "#idem#home#"};
  EXPECT_EQ(sent[2].body, dynamodb::prefix_scan_request(kTable, prefixes, "x"));
  std::vector<dynamodb::ItemWrite> deletes;
  for (const std::string& id : first_page) deletes.push_back({id, {}});
  deletes.push_back({"home#day#2026-01-01", {}});
  deletes.push_back({"#idem#home#k1", {}});
  EXPECT_EQ(sent[3].header("X-Amz-Target"), "DynamoDB_20120810.BatchWriteItem");
  EXPECT_EQ(sent[3].body, dynamodb::batch_write_request(kTable, std::span(deletes).first(25)));
  EXPECT_EQ(sent[4].body, dynamodb::batch_write_request(kTable, std::span(deletes).subspan(25)));
  EXPECT_EQ(occurrences(sent[4].body, "DeleteRequest"), 7u);
  EXPECT_TRUE(sent[3].idempotent);
  // Its place in the count of counters (--max-counters) is given back.
  EXPECT_EQ(sent[5].body, dynamodb::release_counter_request(kTable));
  EXPECT_NE(sent[5].body.find("attribute_exists"), std::string::npos);  // no item made
}

TEST_F(DynamoDbStoreTest, RemoveClearsLeftoversOfAnAbsentCounter) {
  auto db = make();
  replies = {ok("{}"), scan_page({item("home#day#2026-01-01")}), batch_written(), ok("{}"),
             scan_page({})};
  auto removed = db->remove("home");
  ASSERT_TRUE(removed.has_value());
  EXPECT_FALSE(*removed);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].body, dynamodb::batch_write_request(kTable, std::vector<dynamodb::ItemWrite>{
                                                                    {"home#day#2026-01-01", {}}}));
  EXPECT_FALSE(db->remove("other").value());  // nothing at all: no BatchWriteItem
  EXPECT_EQ(sent.size(), 5u);
  EXPECT_FALSE(db->remove("").value());  // would match every store record: refused
  EXPECT_FALSE(db->remove("a#b").value());
  EXPECT_EQ(sent.size(), 5u);
}

// 20 counters with 2 days each: 60 PutRequests in 3 BatchWriteItems (25, 25, 10).
TEST_F(DynamoDbStoreTest, ImportSetPutsItemsTwentyFiveAtATime) {
  auto db = make();
  std::vector<CounterRecord> records;
  for (int i = 0; i < 20; ++i) {
    std::string key = "k";
    key += std::to_string(i);
    records.push_back({std::move(key),
                       {.views = 10 + i, .visitors = i},
                       {{"2026-01-01", {4, 1}}, {"2026-01-02", {6, 2}}}});
  }
  replies = {batch_written(), batch_written(), batch_written()};
  auto imported = db->import(records, ImportMode::set);
  ASSERT_TRUE(imported.has_value()) << imported.error().message;
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(occurrences(sent[0].body, "PutRequest"), 25u);
  EXPECT_EQ(occurrences(sent[1].body, "PutRequest"), 25u);
  EXPECT_EQ(occurrences(sent[2].body, "PutRequest"), 10u);
  EXPECT_TRUE(sent[0].body.starts_with(
      R"({"RequestItems":{"visitor-counter":[)"
      R"({"PutRequest":{"Item":{"id":{"S":"k0"},"count":{"N":"10"},"visitors":{"N":"0"}}}},)"
      R"({"PutRequest":{"Item":{"id":{"S":"k0#day#2026-01-01"},"views":{"N":"4"},)"
      R"("visitors":{"N":"1"}}}},)"))
      << sent[0].body;
  EXPECT_TRUE(sent[2].body.ends_with(
      R"({"PutRequest":{"Item":{"id":{"S":"k19#day#2026-01-02"},"views":{"N":"6"},)"
      R"("visitors":{"N":"2"}}}}]}})"))
      << sent[2].body;
  EXPECT_TRUE(sent[0].idempotent);
}

TEST_F(DynamoDbStoreTest, ImportSetWritesUnprocessedItemsAgain) {
  auto db = make();
  const std::vector<CounterRecord> records = {
      {"home", {.views = 9, .visitors = 3}, {{"2026-01-01", {4, 1}}, {"2026-01-02", {5, 2}}}}};
  replies = {batch_written({"home#day#2026-01-02", "home"}), batch_written()};
  ASSERT_TRUE(db->import(records, ImportMode::set).has_value());
  ASSERT_EQ(sent.size(), 2u);
  const std::vector<dynamodb::ItemWrite> again = {
      {"home", {{"count", 9}, {"visitors", 3}}},
      {"home#day#2026-01-02", {{"views", 5}, {"visitors", 2}}}};
  EXPECT_EQ(sent[1].body, dynamodb::batch_write_request(kTable, again));
  EXPECT_EQ(sleeps, std::vector<milliseconds>{50ms});

  sent.clear();  // a throttled request is retried by call() itself, as any other
  replies = {error(400, "ProvisionedThroughputExceededException"), batch_written()};
  ASSERT_TRUE(db->import(records, ImportMode::set).has_value());
  EXPECT_EQ(sent.size(), 2u);
}

TEST_F(DynamoDbStoreTest, ImportAddSendsOneAddPerItem) {
  auto db = make();
  const std::vector<CounterRecord> records = {
      {"home", {.views = 9, .visitors = 3}, {{"2026-01-01", {4, 1}}, {"2026-01-02", {5, 2}}}},
      {"blog", {.views = 1, .visitors = 0}, {}}};
  replies = {ok("{}"), ok("{}"), ok("{}"), ok("{}")};
  ASSERT_TRUE(db->import(records, ImportMode::add).has_value());
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].body,
            dynamodb::add_request(kTable, "home", {{"count", 9}, {"visitors", 3}}, false));
  EXPECT_EQ(sent[1].body, day_request("home", 4, 1));
  EXPECT_EQ(sent[2].body, dynamodb::add_request(kTable, "home#day#2026-01-02",
                                                {{"views", 5}, {"visitors", 2}}, false));
  EXPECT_EQ(sent[3].body,
            dynamodb::add_request(kTable, "blog", {{"count", 1}, {"visitors", 0}}, false));
  EXPECT_FALSE(sent[0].idempotent);
}

// An ADD that may have applied is never resent, and stops the rest; the error says whether
// anything may have been added.
TEST_F(DynamoDbStoreTest, ImportAddStopsAtTheFirstFailure) {
  auto db = make();
  const std::vector<CounterRecord> records = {
      {"home", {.views = 9, .visitors = 3}, {{"2026-01-01", {4, 1}}, {"2026-01-02", {5, 2}}}}};
  replies = {ok("{}"), error(500, "InternalServerError"), ok("{}"), ok("{}")};
  auto imported = db->import(records, ImportMode::add);
  ASSERT_FALSE(imported.has_value());
  EXPECT_EQ(imported.error().kind, Kind::outcome_unknown);
  EXPECT_EQ(sent.size(), 2u);
  EXPECT_NE(imported.error().message.find("import (add): 1 of 3 item(s) added"), std::string::npos)
      << imported.error().message;

  sent.clear();
  replies = {error(400, "ValidationException")};
  imported = db->import(records, ImportMode::add);
  ASSERT_FALSE(imported.has_value());
  EXPECT_EQ(imported.error().kind, Kind::failed);  // nothing was applied
  EXPECT_EQ(sent.size(), 1u);

  sent.clear();  // the first ADD's answer was lost: it may have applied
  replies = {broken(aws::HttpError::Kind::timeout)};
  imported = db->import(records, ImportMode::add);
  ASSERT_FALSE(imported.has_value());
  EXPECT_EQ(imported.error().kind, Kind::outcome_unknown);
  EXPECT_EQ(sent.size(), 1u);
}

TEST_F(DynamoDbStoreTest, ImportRefusesBadRecordsBeforeWriting) {
  auto db = make();
  const std::vector<CounterRecord> bad_key = {{"good", {1, 1}, {}}, {"#salt#x", {1, 1}, {}}};
  const std::vector<CounterRecord> bad_day = {{"good", {1, 1}, {{"2026-13-01", {1, 1}}}}};
  for (const ImportMode mode : {ImportMode::set, ImportMode::add}) {
    EXPECT_FALSE(db->import(bad_key, mode).has_value());
    EXPECT_FALSE(db->import(bad_day, mode).has_value());
  }
  EXPECT_TRUE(sent.empty());
  EXPECT_TRUE(db->import({}, ImportMode::set).has_value());
  EXPECT_TRUE(db->import({}, ImportMode::add).has_value());
  EXPECT_TRUE(sent.empty());
}

}  // namespace
}  // namespace store
