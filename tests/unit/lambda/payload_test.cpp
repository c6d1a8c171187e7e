// Payload 2.0 codec: realistic HTTP API events in, Runtime API response bodies out.
#include "lambda/payload.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace lambda {
namespace {

// GET /count from a browser page, the shape API Gateway sends with the $default stage.
constexpr std::string_view kGetCount = R"json({
  "version": "2.0",
  "routeKey": "GET /count",
  "rawPath": "/count",
  "rawQueryString": "",
  "headers": {
    "accept": "*/*",
    "accept-encoding": "gzip, deflate, br",
    "host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
    "origin": "https://site.example",
    "referer": "https://site.example/blog/post-1",
    "user-agent": "Mozilla/5.0 (X11; Linux x86_64)",
    "x-amzn-trace-id": "Root=1-68b2f0f0-0123456789abcdef01234567",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https"
  },
  "requestContext": {
    "accountId": "123456789012",
    "apiId": "a1b2c3d4e5",
    "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "a1b2c3d4e5",
    "http": {
      "method": "GET",
      "path": "/count",
      "protocol": "HTTP/1.1",
      "sourceIp": "203.0.113.7",
      "userAgent": "Mozilla/5.0 (X11; Linux x86_64)"
    },
    "requestId": "JKJaXmPLvHcESHA=",
    "routeKey": "GET /count",
    "stage": "$default",
    "time": "30/Aug/2026:12:36:00 +0000",
    "timeEpoch": 1788093360000
  },
  "isBase64Encoded": false
})json";

// POST /count/home with a query, cookies, repeated headers and a base64 body.
constexpr std::string_view kPostBase64 = R"json({
  "version": "2.0",
  "routeKey": "POST /count/{key+}",
  "rawPath": "/count/home",
  "rawQueryString": "ref=tw&ref=hn&q=a%20b",
  "cookies": ["session=abc123", "theme=dark"],
  "headers": {
    "content-length": "11",
    "content-type": "application/json",
    "accept-language": "en-US,de;q=0.5",
    "host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
    "user-agent": "curl/8.5.0",
    "x-forwarded-for": "203.0.113.7"
  },
  "queryStringParameters": {"ref": "tw,hn", "q": "a b"},
  "pathParameters": {"key": "home"},
  "requestContext": {
    "accountId": "123456789012",
    "apiId": "a1b2c3d4e5",
    "http": {"method": "POST", "path": "/count/home", "protocol": "HTTP/1.1",
             "sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
    "requestId": "JKJaXmPLvHcESHB=",
    "routeKey": "POST /count/{key+}",
    "stage": "$default",
    "timeEpoch": 1788093360001
  },
  "body": "eyJkZWx0YSI6MX0=",
  "isBase64Encoded": true
})json";

// A CORS preflight for a named counter, with no body, query or cookies at all.
constexpr std::string_view kPreflight = R"json({
  "version": "2.0",
  "routeKey": "OPTIONS /count/{key+}",
  "rawPath": "/count/blog/post-1",
  "rawQueryString": "",
  "headers": {
    "access-control-request-headers": "content-type",
    "access-control-request-method": "POST",
    "host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
    "origin": "http://localhost:5173"
  },
  "requestContext": {
    "http": {"method": "OPTIONS", "path": "/count/blog/post-1", "protocol": "HTTP/1.1",
             "sourceIp": "198.51.100.4", "userAgent": "Mozilla/5.0"},
    "stage": "$default"
  },
  "isBase64Encoded": false
})json";

std::optional<std::string> header(const app::Request& request, std::string_view name) {
  const auto value = request.header(name);
  return value ? std::optional<std::string>(*value) : std::nullopt;
}

std::string error_of(std::string_view event) {
  const auto parsed = parse_event(event);
  EXPECT_FALSE(parsed.has_value());
  return parsed ? std::string() : parsed.error();
}

TEST(ParseEvent, GetCountFromABrowser) {
  const auto request = parse_event(kGetCount);
  ASSERT_TRUE(request.has_value()) << request.error();
  EXPECT_EQ(request->method, "GET");
  EXPECT_EQ(request->target, "/count");
  EXPECT_EQ(header(*request, "origin"), "https://site.example");
  EXPECT_EQ(header(*request, "accept-encoding"), "gzip, deflate, br");
  EXPECT_EQ(request->headers.size(), 10U);
  EXPECT_EQ(request->headers.front().first, "accept");
  EXPECT_TRUE(request->body.empty());
}

TEST(ParseEvent, PostWithQueryAndBase64Body) {
  const auto request = parse_event(kPostBase64);
  ASSERT_TRUE(request.has_value()) << request.error();
  EXPECT_EQ(request->method, "POST");
  EXPECT_EQ(request->target, "/count/home?ref=tw&ref=hn&q=a%20b");
  EXPECT_EQ(request->body, R"({"delta":1})");
  EXPECT_EQ(header(*request, "accept-language"), "en-US,de;q=0.5");
  EXPECT_EQ(header(*request, "cookie"), std::nullopt);  // cookies are not used
}

TEST(ParseEvent, PreflightWithoutOptionalMembers) {
  const auto request = parse_event(kPreflight);
  ASSERT_TRUE(request.has_value()) << request.error();
  EXPECT_EQ(request->method, "OPTIONS");
  EXPECT_EQ(request->target, "/count/blog/post-1");
  EXPECT_EQ(header(*request, "access-control-request-method"), "POST");
  EXPECT_EQ(header(*request, "origin"), "http://localhost:5173");
}

TEST(ParseEvent, KeepsPercentEncodingAndPlainBodies) {
  const auto request = parse_event(R"({"version":"2.0","rawPath":"/count/blog%2Fa",
      "rawQueryString":"label=caf%C3%A9","headers":{"X-Mixed-Case":"v"},
      "requestContext":{"http":{"method":"POST"}},"body":"plain text","isBase64Encoded":false})");
  ASSERT_TRUE(request.has_value()) << request.error();
  EXPECT_EQ(request->target, "/count/blog%2Fa?label=caf%C3%A9");
  EXPECT_EQ(request->body, "plain text");
  EXPECT_EQ(header(*request, "x-mixed-case"), "v");
}

TEST(ParseEvent, NullMembersCountAsAbsent) {
  const auto request = parse_event(R"({"rawPath":"/count","rawQueryString":null,
      "headers":null,"cookies":null,"body":null,"isBase64Encoded":null,
      "requestContext":{"http":{"method":"GET"}}})");
  ASSERT_TRUE(request.has_value()) << request.error();
  EXPECT_EQ(request->target, "/count");
  EXPECT_TRUE(request->headers.empty());
  EXPECT_TRUE(request->body.empty());
}

TEST(ParseEvent, RejectsMalformedJson) {
  EXPECT_NE(error_of("{\"rawPath\": \"/count\"").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("[1,2]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of("\"GET /count\"").find("not a JSON object"), std::string::npos);
}

TEST(ParseEvent, RejectsMissingOrMistypedMembers) {
  EXPECT_NE(error_of(R"({"version":"2.0","rawPath":"/count"})").find("requestContext"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"rawPath":"/count","requestContext":{}})").find("requestContext.http"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"rawPath":"/count","requestContext":{"http":{}}})").find("method"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"rawPath":"/","requestContext":{"http":{"method":7}}})").find("method"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"requestContext":{"http":{"method":"GET"}}})").find("rawPath"),
            std::string::npos);
  EXPECT_NE(
      error_of(R"({"rawPath":"count","requestContext":{"http":{"method":"GET"}}})").find("rawPath"),
      std::string::npos);
  EXPECT_NE(
      error_of(R"({"rawPath":"/","headers":{"a":1},"requestContext":{"http":{"method":"GET"}}})")
          .find("header 'a'"),
      std::string::npos);
  EXPECT_NE(error_of(R"({"rawPath":"/","headers":[],"requestContext":{"http":{"method":"GET"}}})")
                .find("headers"),
            std::string::npos);
}

TEST(ParseEvent, RejectsOtherPayloadVersionsAndBadBase64) {
  // A REST API (payload 1.0) event: httpMethod/path instead of requestContext.http.
  EXPECT_NE(error_of(R"({"version":"1.0","resource":"/count","path":"/count","httpMethod":"GET"})")
                .find("version '1.0'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"rawPath":"/","requestContext":{"http":{"method":"POST"}},
                        "body":"not base64!","isBase64Encoded":true})")
                .find("base64"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"rawPath":"/","requestContext":{"http":{"method":"POST"}},
                        "body":"x","isBase64Encoded":"yes"})")
                .find("isBase64Encoded"),
            std::string::npos);
}

// Found by tests/fuzz/lambda_payload_fuzz.cpp (seeds regression-multiline-*.json): a reason
// quoted a JSON string with an escaped line break, and so was not one line.
TEST(ParseEvent, ReasonsStayOnOneLineWhateverTheyQuote) {
  const std::string version = error_of(R"({"version":"1\n0","rawPath":"/"})");
  EXPECT_EQ(version.find_first_of("\r\n"), std::string::npos) << version;
  EXPECT_NE(version.find("version '1?0'"), std::string::npos) << version;
  const std::string header = error_of(
      R"({"rawPath":"/","headers":{"a\r\nb":1},"requestContext":{"http":{"method":"GET"}}})");
  EXPECT_EQ(header.find_first_of("\r\n"), std::string::npos) << header;
  EXPECT_NE(header.find("header 'a??b'"), std::string::npos) << header;
}

boost::json::object parsed_response(const app::Response& response) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(format_response(response), ec);
  EXPECT_FALSE(ec) << ec.message();
  return value.is_object() ? value.get_object() : boost::json::object{};
}

TEST(FormatResponse, TheFullPayload2Form) {
  app::Response response{.status = 200, .headers = {}, .body = R"({"count":1235})"};
  response.set("Content-Type", "application/json");
  response.set("Cache-Control", "no-store");
  EXPECT_EQ(format_response(response),
            R"({"statusCode":200,"headers":{"Content-Type":"application/json",)"
            R"("Cache-Control":"no-store"},"body":"{\"count\":1235}","isBase64Encoded":false})");
}

TEST(FormatResponse, EscapesAndCombinesHeaders) {
  app::Response response{.status = 403, .headers = {}, .body = "quote \" backslash \\ \n\t\x01 é"};
  // Response::set replaces; a header listed twice (as a proxy's list might be) is combined.
  response.headers.emplace_back("Vary", "Origin");
  response.headers.emplace_back("vary", "Accept-Encoding");
  response.set("X-Note", "a \"quoted\" value");
  const auto out = parsed_response(response);
  EXPECT_EQ(out.at("statusCode").as_int64(), 403);
  EXPECT_EQ(out.at("body").as_string(), "quote \" backslash \\ \n\t\x01 é");
  EXPECT_FALSE(out.at("isBase64Encoded").as_bool());
  const auto& headers = out.at("headers").as_object();
  EXPECT_EQ(headers.size(), 2U);
  EXPECT_EQ(headers.at("Vary").as_string(), "Origin, Accept-Encoding");
  EXPECT_EQ(headers.at("X-Note").as_string(), "a \"quoted\" value");
}

TEST(FormatResponse, EmptyBodyAndNoHeaders) {
  const app::Response response{.status = 204, .headers = {}, .body = {}};
  EXPECT_EQ(format_response(response),
            R"({"statusCode":204,"headers":{},"body":"","isBase64Encoded":false})");
}

TEST(FormatResponse, BodiesThatAreNotUtf8GoAsBase64) {
  const app::Response response{.status = 200, .headers = {}, .body = std::string("a\xff\xfe", 3)};
  const auto out = parsed_response(response);
  EXPECT_TRUE(out.at("isBase64Encoded").as_bool());
  EXPECT_EQ(out.at("body").as_string(), "Yf/+");
  // Overlong forms and surrogates are not UTF-8 either.
  for (const std::string bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    const auto encoded = parsed_response({.status = 200, .headers = {}, .body = bad});
    EXPECT_TRUE(encoded.at("isBase64Encoded").as_bool()) << base64_encode(bad);
  }
  for (const std::string good : {"\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"}) {
    const auto text = parsed_response({.status = 200, .headers = {}, .body = good});
    EXPECT_FALSE(text.at("isBase64Encoded").as_bool()) << base64_encode(good);
  }
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYg"), "foob");  // padding left out
  EXPECT_EQ(base64_decode(""), "");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(base64_decode(base64_encode(all)), all);
  EXPECT_EQ(base64_decode("Zm9v!"), std::nullopt);
  EXPECT_EQ(base64_decode("Z"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9vY==="), std::nullopt);
  EXPECT_EQ(base64_decode("Zg=x"), std::nullopt);
}

}  // namespace
}  // namespace lambda
