// Tests for the DynamoDB store's pure parts: dynamodb:// URL parsing, request bodies in the
// classic item shape, and response and error decoding.
#include "store/dynamodb/dynamodb_url.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "store/dynamodb/dynamodb_json.hpp"

namespace store::dynamodb {
namespace {

using namespace std::chrono_literals;

aws::Environment env_of(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    auto found = vars.find(name);
    return found == vars.end() ? nullptr : found->second.c_str();
  };
}

std::string parse_error(std::string_view url, const aws::Environment& env = {}) {
  auto parsed = parse_dynamodb_url(url, env);
  return parsed ? std::string("(parsed)") : parsed.error();
}

TEST(DynamoDbUrl, TableRegionAndEndpoint) {
  auto config = parse_dynamodb_url(
      "dynamodb://visitor-counter?region=us-east-1&endpoint=http://127.0.0.1:4567", {});
  ASSERT_TRUE(config.has_value()) << config.error();
  EXPECT_EQ(config->table, "visitor-counter");
  EXPECT_EQ(config->region, "us-east-1");
  EXPECT_FALSE(config->endpoint.tls);
  EXPECT_EQ(config->endpoint.host, "127.0.0.1");
  EXPECT_EQ(config->endpoint.port, 4567);
  EXPECT_EQ(config->retry.max_attempts, 4);
  EXPECT_EQ(config->retry.deadline, 4000ms);
  EXPECT_EQ(config->attempt_timeout, 2000ms);
}

TEST(DynamoDbUrl, DefaultEndpointIsTheRegionalHttpsOne) {
  auto config = parse_dynamodb_url("dynamodb://counters?region=eu-west-2", {});
  ASSERT_TRUE(config.has_value()) << config.error();
  EXPECT_TRUE(config->endpoint.tls);
  EXPECT_EQ(config->endpoint.host, "dynamodb.eu-west-2.amazonaws.com");
  EXPECT_EQ(config->endpoint.port, 443);
}

TEST(DynamoDbUrl, RegionFromTheEnvironmentUnlessGiven) {
  const auto env = env_of({{"AWS_REGION", "ap-south-1"}, {"AWS_DEFAULT_REGION", "us-west-1"}});
  EXPECT_EQ(parse_dynamodb_url("dynamodb://counters", env)->region, "ap-south-1");
  EXPECT_EQ(parse_dynamodb_url("dynamodb://counters?region=eu-north-1", env)->region, "eu-north-1");
  const auto fallback = env_of({{"AWS_DEFAULT_REGION", "us-west-1"}});
  EXPECT_EQ(parse_dynamodb_url("dynamodb://counters", fallback)->region, "us-west-1");
  EXPECT_NE(parse_error("dynamodb://counters").find("no region"), std::string::npos);
  EXPECT_NE(parse_error("dynamodb://counters?region=US_EAST").find("bad region"),
            std::string::npos);
}

TEST(DynamoDbUrl, RetryKnobs) {
  auto config = parse_dynamodb_url(
      "dynamodb://t_1.x?region=us-east-1&max_attempts=3&base_delay_ms=5&throttle_delay_ms=7"
      "&max_delay_ms=50&deadline_ms=900&timeout_ms=300",
      {});
  ASSERT_TRUE(config.has_value()) << config.error();
  EXPECT_EQ(config->retry.max_attempts, 3);
  EXPECT_EQ(config->retry.base_delay, 5ms);
  EXPECT_EQ(config->retry.throttle_base_delay, 7ms);
  EXPECT_EQ(config->retry.max_delay, 50ms);
  EXPECT_EQ(config->retry.deadline, 900ms);
  EXPECT_EQ(config->attempt_timeout, 300ms);
}

TEST(DynamoDbUrl, PercentEncodedValues) {
  auto config =
      parse_dynamodb_url("dynamodb://abc?region=us-east-1&endpoint=http%3A%2F%2Flocalhost%3A9", {});
  ASSERT_TRUE(config.has_value()) << config.error();
  EXPECT_EQ(config->endpoint.host, "localhost");
  EXPECT_EQ(config->endpoint.port, 9);
}

TEST(DynamoDbUrl, Ipv6Endpoint) {
  // [ and ] may not appear unescaped in a query, so the endpoint's brackets are %-escaped.
  auto config =
      parse_dynamodb_url("dynamodb://abc?region=us-east-1&endpoint=http://%5B::1%5D:8000", {});
  ASSERT_TRUE(config.has_value()) << config.error();
  EXPECT_EQ(config->endpoint.host, "::1");
  EXPECT_EQ(config->endpoint.port, 8000);
  EXPECT_EQ(config->endpoint.host_header(), "[::1]:8000");
  EXPECT_NE(parse_error("dynamodb://abc?region=us-east-1&endpoint=http://[::1]:8000")
                .find("endpoint=http://%5B::1%5D:8000"),
            std::string::npos);
}

TEST(DynamoDbUrl, SchemeAndTableAreDecoded) {
  auto config = parse_dynamodb_url("DynamoDB://my%2Dtable?region=us-east-1&", {});
  ASSERT_TRUE(config.has_value()) << config.error();
  EXPECT_EQ(config->table, "my-table");
}

TEST(DynamoDbUrl, BadUrlsAreRefusedWithAReason) {
  const std::map<std::string, std::string> cases = {
      {"dynamodb:/abc?region=us-east-1", "expected dynamodb://"},
      {"dynamodb://?region=us-east-1", "table name"},
      {"dynamodb://ab?region=us-east-1", "table name"},
      {"dynamodb://a/b/c?region=us-east-1", "table name"},
      {"dynamodb://" + std::string(256, 'a') + "?region=us-east-1", "table name"},
      {"dynamodb://abc?region=us-east-1&colour=red", "unknown parameter 'colour'"},
      {"dynamodb://abc?region=us-east-1&region=us-west-1", "given twice"},
      {"dynamodb://abc?region", "has no value"},
      {"dynamodb://abc?region=us-east-1&endpoint=%zz", "%-escape"},
      {"dynamodb://abc?region=us-east-1&endpoint=http://h:1/path", "endpoint"},
      {"dynamodb://abc?region=us-east-1&endpoint=ftp://h", "endpoint"},
      {"dynamodb://abc?region=us-east-1&endpoint=http://h:0", "endpoint"},
      {"dynamodb://abc?region=us-east-1&endpoint=http%3A%2F%2Fu%40h", "user-info"},
      {"dynamodb:abc?region=us-east-1", "expected dynamodb://"},
      {"abc?region=us-east-1", "expected dynamodb://"},
      {"dynamodb://user@abc?region=us-east-1", "no user@ or :port"},
      {"dynamodb://abc:8000?region=us-east-1", "no user@ or :port"},
      {"dynamodb://abc/?region=us-east-1", "table name"},
      {"dynamodb://abc?region=us-east-1#x", "fragment"},
      {"dynamodb://a%2Fb?region=us-east-1", "table name"},
      {"dynamodb://abc?region=us east", "%-escape"},
      {"dynamodb://abc?region=us-east-1&max_attempts=0", "max_attempts"},
      {"dynamodb://abc?region=us-east-1&max_attempts=11", "max_attempts"},
      {"dynamodb://abc?region=us-east-1&deadline_ms=1.5", "deadline_ms"},
      {"dynamodb://abc?region=us-east-1&timeout_ms=", "timeout_ms"},
      {"dynamodb://abc?region=us-east-1&base_delay_ms=-1", "base_delay_ms"},
  };
  for (const auto& [url, words] : cases) {
    const std::string error = parse_error(url);
    EXPECT_NE(error.find(words), std::string::npos) << url << " -> " << error;
    EXPECT_TRUE(error.starts_with("bad store URL")) << error;
  }
}

TEST(DynamoDbJson, AddInTheClassicShape) {
  // The counter: the classic ADD on `count` (beside `visitors`), returning the new values.
  EXPECT_EQ(add_request("visitor-counter", "visitors", {{"count", 3}, {"visitors", 1}}, true),
            R"({"TableName":"visitor-counter","Key":{"id":{"S":"visitors"}},)"
            R"("UpdateExpression":"ADD #a0 :v0, #a1 :v1",)"
            R"("ExpressionAttributeNames":{"#a0":"count","#a1":"visitors"},)"
            R"("ExpressionAttributeValues":{":v0":{"N":"3"},":v1":{"N":"1"}},)"
            R"("ReturnValues":"UPDATED_NEW"})");
  EXPECT_NE(
      add_request("t", "k#day#2026-01-01", {{"views", 1}}, false).find(R"("ReturnValues":"NONE")"),
      std::string::npos);
}

TEST(DynamoDbJson, MarksClaimsAndAnswers) {
  EXPECT_EQ(mark_request("t", "k#v#d#id", 100, 200, std::nullopt),
            R"({"TableName":"t","Key":{"id":{"S":"k#v#d#id"}},)"
            R"("UpdateExpression":"SET #seen = :now, #expires = :expires",)"
            R"("ExpressionAttributeNames":{"#seen":"seen","#expires":"expires"},)"
            R"("ExpressionAttributeValues":{":now":{"N":"100"},":expires":{"N":"200"}},)"
            R"("ReturnValues":"ALL_OLD"})");
  EXPECT_NE(mark_request("t", "k#v#d#id", 100, 200, 40)
                .find(R"x("ConditionExpression":"attribute_not_exists(#id) OR #seen <= :since")x"),
            std::string::npos);
  EXPECT_NE(claim_request("t", "#idem#k#x", "c1", 100, 200)
                .find(R"x("ConditionExpression":"attribute_not_exists(#id) OR #expires <= :now")x"),
            std::string::npos);
  EXPECT_EQ(answer_request("t", "#idem#k#x", {.views = 4, .visitors = 2}),
            R"({"TableName":"t","Key":{"id":{"S":"#idem#k#x"}},)"
            R"("UpdateExpression":"SET #views = :v, #visitors = :u",)"
            R"("ExpressionAttributeNames":{"#views":"views","#visitors":"visitors"},)"
            R"("ExpressionAttributeValues":{":v":{"N":"4"},":u":{"N":"2"}}})");
}

TEST(DynamoDbJson, GetItemAndDescribeTable) {
  EXPECT_EQ(get_item_request("t", "page/home"),
            R"({"TableName":"t","Key":{"id":{"S":"page/home"}},"ConsistentRead":true})");
  EXPECT_EQ(describe_table_request("t"), R"({"TableName":"t"})");
}

TEST(DynamoDbJson, KeysAreEscaped) {
  EXPECT_EQ(get_item_request("t", "a\"b\\c"),
            R"({"TableName":"t","Key":{"id":{"S":"a\"b\\c"}},"ConsistentRead":true})");
}

TEST(DynamoDbJson, TotalsResponse) {
  EXPECT_EQ(parse_totals_response(R"({"Attributes":{"count":{"N":"6"}}})").value(),
            (Totals{.views = 6, .visitors = 0}));
  EXPECT_EQ(parse_totals_response(
                R"({"Attributes":{"count":{"N":"9223372036854775807"},"visitors":{"N":"3"}}})")
                .value(),
            (Totals{.views = 9223372036854775807, .visitors = 3}));
  for (const char* bad :
       {"", "not json", "[]", "{}", R"({"Attributes":{}})", R"({"Attributes":{"count":{"S":"6"}}})",
        R"({"Attributes":{"count":{"N":6}}})", R"({"Attributes":{"count":{"N":"1.5"}}})",
        R"({"Attributes":{"count":{"N":"9223372036854775808"}}})",
        R"({"Attributes":{"count":{"N":"1"},"visitors":{"N":"x"}}})"}) {
    EXPECT_FALSE(parse_totals_response(bad).has_value()) << bad;
  }
}

TEST(DynamoDbJson, GetItemResponse) {
  EXPECT_EQ(parse_get_totals_response("{}").value(), std::nullopt);
  EXPECT_EQ(parse_get_totals_response(R"({"Item":{"id":{"S":"v"},"count":{"N":"7"}}})").value(),
            (Totals{.views = 7, .visitors = 0}));
  EXPECT_EQ(parse_get_totals_response(R"({"Item":{"id":{"S":"v"}}})").value(), std::nullopt);
  EXPECT_FALSE(parse_get_totals_response(R"({"Item":{"count":{"N":"x"}}})").has_value());
  EXPECT_FALSE(parse_get_totals_response(R"({"Item":"v"})").has_value());
  EXPECT_FALSE(parse_get_totals_response("{").has_value());
  EXPECT_EQ(parse_mark_response("{}").value(), std::nullopt);
  EXPECT_EQ(parse_mark_response(R"({"Attributes":{"seen":{"N":"5"}}})").value(), 5);
  EXPECT_EQ(parse_updated_string(R"({"Attributes":{"salt":{"S":"ab"}}})", "salt").value(), "ab");
  EXPECT_FALSE(parse_updated_string("{}", "salt").has_value());
  EXPECT_FALSE(parse_updated_string(R"({"Attributes":{"salt":{"N":"1"}}})", "salt").has_value());
  auto record = parse_answer_record(R"({"Item":{"claim":{"S":"c"},"views":{"N":"2"},)"
                                    R"("visitors":{"N":"1"}}})");
  ASSERT_TRUE(record.has_value() && record->has_value());
  EXPECT_EQ((*record)->claim, "c");
  EXPECT_EQ((*record)->totals, (Totals{.views = 2, .visitors = 1}));
}

TEST(DynamoDbJson, TableStatus) {
  EXPECT_EQ(parse_table_status(R"({"Table":{"TableName":"t","TableStatus":"ACTIVE"}})").value(),
            "ACTIVE");
  EXPECT_FALSE(parse_table_status(R"({"Table":{}})").has_value());
  EXPECT_FALSE(parse_table_status("null").has_value());
}

TEST(DynamoDbJson, Numbers) {
  EXPECT_EQ(parse_number("0").value(), 0);
  EXPECT_EQ(parse_number("-12").value(), -12);
  for (const char* bad : {"", " 1", "1 ", "+1", "1e3", "1.0", "0x10", "12a"}) {
    EXPECT_FALSE(parse_number(bad).has_value()) << bad;
  }
}

TEST(DynamoDbJson, ErrorResponses) {
  auto error = parse_error_response(
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",)"
      R"("message":"Requested resource not found"})");
  EXPECT_EQ(error.type, "ResourceNotFoundException");
  EXPECT_EQ(error.message, "Requested resource not found");
  error = parse_error_response(R"({"__type":"ThrottlingException","Message":"Rate exceeded"})");
  EXPECT_EQ(error.type, "ThrottlingException");
  EXPECT_EQ(error.message, "Rate exceeded");
  error = parse_error_response("<html>502 Bad Gateway</html>");
  EXPECT_EQ(error.type, "");
  EXPECT_EQ(error.message, "");
}

}  // namespace
}  // namespace store::dynamodb
