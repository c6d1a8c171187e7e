// Tests for DynamoDbStore against a scripted fake transport: the signed request it sends,
// retries (on a fake clock, no real sleep), fail-fast errors, partial batches, logging.
#include "store/dynamodb/dynamodb_store.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "store/dynamodb/dynamodb_json.hpp"

namespace store {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

struct Sent {
  aws::HeaderList headers;
  std::string body;
  milliseconds timeout;

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
Reply broken(aws::HttpError::Kind kind) { return std::unexpected(aws::HttpError{kind, "boom"}); }
Reply counted(int value) {
  return ok(R"({"Attributes":{"count":{"N":")" + std::to_string(value) + R"("}}})");
}

class DynamoDbStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<DynamoDbStore> make(aws::Credentials credentials = {"AKID", "SECRET", ""},
                                      std::string_view url =
                                          "dynamodb://visitor-counter"
                                          "?region=us-east-1&max_attempts=3") {
    auto config = dynamodb::parse_dynamodb_url(url, {});
    EXPECT_TRUE(config.has_value());
    auto transport = [this](const aws::HeaderList& headers, std::string_view body,
                            milliseconds timeout) -> Reply {
      sent.push_back(Sent{headers, std::string(body), timeout});
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

TEST_F(DynamoDbStoreTest, AddSendsOneSignedUpdateItemPerKey) {
  auto db = make({"AKID", "SECRET", "TOKEN"});
  replies = {counted(3), counted(1)};
  const Increment batch[] = {{"visitors", 3}, {"page/home", 1}};
  EXPECT_EQ(db->add(batch).value(), (std::vector<std::int64_t>{3, 1}));
  ASSERT_EQ(sent.size(), 2u);
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
  EXPECT_EQ(first.body, dynamodb::update_item_request("visitor-counter", "visitors", 3));
  EXPECT_EQ(sent[1].body, dynamodb::update_item_request("visitor-counter", "page/home", 1));
  EXPECT_EQ(first.timeout, 2000ms);
  EXPECT_TRUE(logs.empty());
}

TEST_F(DynamoDbStoreTest, ThrottlingIsRetriedWithBackoff) {
  auto db = make();
  replies = {error(400, "ProvisionedThroughputExceededException"),
             error(400, "ThrottlingException"), counted(42)};
  const Increment batch[] = {{"visitors", 1}};
  EXPECT_EQ(db->add(batch).value(), std::vector<std::int64_t>{42});
  EXPECT_EQ(sent.size(), 3u);
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
  const Increment batch[] = {{"visitors", 1}};
  auto values = db->add(batch);
  ASSERT_FALSE(values.has_value());
  EXPECT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sleeps.empty());
  EXPECT_NE(values.error().message.find("ResourceNotFoundException"), std::string::npos);
  EXPECT_NE(values.error().message.find("not retryable"), std::string::npos);
}

TEST_F(DynamoDbStoreTest, AnUpdateThatMayHaveBeenAppliedIsNotRepeated) {
  auto db = make();
  replies = {broken(aws::HttpError::Kind::timeout), counted(2)};
  const Increment batch[] = {{"visitors", 1}};
  auto values = db->add(batch);
  ASSERT_FALSE(values.has_value());
  EXPECT_EQ(sent.size(), 1u);
  EXPECT_NE(values.error().message.find("may have been applied"), std::string::npos);
  // A read is idempotent, so the same failure is retried.
  replies = {broken(aws::HttpError::Kind::timeout), ok(R"({"Item":{"count":{"N":"2"}}})")};
  EXPECT_EQ(db->get("visitors").value(), 2);
}

TEST_F(DynamoDbStoreTest, UnsentUpdatesAreRetried) {
  auto db = make();
  replies = {broken(aws::HttpError::Kind::connect), counted(5)};
  const Increment batch[] = {{"visitors", 5}};
  EXPECT_EQ(db->add(batch).value(), std::vector<std::int64_t>{5});
  EXPECT_EQ(sent.size(), 2u);
}

TEST_F(DynamoDbStoreTest, AFailureMidBatchSaysWhatWasApplied) {
  auto db = make();
  replies = {counted(1), error(400, "ValidationException")};
  const Increment batch[] = {{"a", 1}, {"b", 1}, {"c", 1}};
  auto values = db->add(batch);
  ASSERT_FALSE(values.has_value());
  EXPECT_EQ(sent.size(), 2u);  // c was never sent
  EXPECT_NE(values.error().message.find("1 of 3 increments"), std::string::npos);
}

TEST_F(DynamoDbStoreTest, NonIntegerCountsFailCleanly) {
  auto db = make();
  replies = {ok(R"({"Attributes":{"count":{"N":"1.5"}}})"), ok(R"({"Item":{"count":{"N":"x"}}})")};
  const Increment batch[] = {{"a", 1}};
  EXPECT_FALSE(db->add(batch).has_value());
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

}  // namespace
}  // namespace store
