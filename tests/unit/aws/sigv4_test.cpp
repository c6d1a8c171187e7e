// Tests for aws::sign_v4: every case of the official AWS SigV4 test suite, byte for byte, the
// DynamoDB worked example of aws-wire.md §D2, input edge cases, and amz_date formatting.
#include "aws/sigv4.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef VC_SIGV4_SUITE_DIR
#error "define VC_SIGV4_SUITE_DIR as a string literal naming tests/data/sigv4-testsuite"
#endif

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::string_view kSuiteDir = VC_SIGV4_SUITE_DIR;
constexpr std::string_view kAccessKey = "AKIDEXAMPLE";
constexpr std::string_view kSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kDate = "20150830T123600Z";
constexpr std::size_t kMinimumCases = 25;

// Session tokens the suite's README gives for its token cases.
constexpr std::string_view kVanillaToken =
    "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
constexpr std::string_view kStsToken =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpS"
    "PfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT"
    "7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlz"
    "m8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

aws::Credentials suite_credentials(std::string_view token = {}) {
  return {std::string(kAccessKey), std::string(kSecretKey), std::string(token)};
}

// The credentials each case is signed with. post-sts-header-after adds its token only after
// signing, so it is signed without one.
aws::Credentials credentials_for(std::string_view case_name) {
  if (case_name == "get-vanilla-with-session-token") return suite_credentials(kVanillaToken);
  if (case_name == "post-sts-header-before") return suite_credentials(kStsToken);
  return suite_credentials();
}

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// An owning version of aws::HttpRequestToSign, parsed from a suite .req file.
struct ParsedRequest {
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  [[nodiscard]] aws::HttpRequestToSign view() const { return {method, path, query, headers, body}; }
};

// Removes and returns the first line of `rest`, without its LF or CRLF.
std::string_view take_line(std::string_view& rest) {
  const std::size_t lf = rest.find('\n');
  std::string_view line = rest.substr(0, lf);
  rest = lf == std::string_view::npos ? std::string_view{} : rest.substr(lf + 1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

// Parses "METHOD TARGET HTTP/1.1", header lines (a line starting with a space or tab continues
// the previous value and is kept as a raw fold), an empty line, then the body, verbatim. The
// target may itself contain spaces (normalize-path/get-space).
std::optional<ParsedRequest> parse_request(std::string_view text) {
  ParsedRequest req;
  std::string_view rest = text;
  const std::string_view request_line = take_line(rest);
  const std::size_t first = request_line.find(' ');
  const std::size_t last = request_line.rfind(' ');
  if (first == last || !request_line.substr(last + 1).starts_with("HTTP/")) return std::nullopt;
  req.method = request_line.substr(0, first);
  const std::string_view target = request_line.substr(first + 1, last - first - 1);
  const std::size_t question = target.find('?');
  req.path = target.substr(0, question);
  if (question != std::string_view::npos) req.query = target.substr(question + 1);
  while (!rest.empty()) {
    const std::string_view line = take_line(rest);
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      if (req.headers.empty()) return std::nullopt;
      req.headers.back().second += '\n';
      req.headers.back().second += line;
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    req.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  req.body = rest;
  return req;
}

struct SuiteCase {
  std::string name;  // The folder name, also the stem of its files.
  fs::path dir;
};

// Every folder under the suite that holds NAME/NAME.req, sorted by name. Never throws.
std::vector<SuiteCase> discover_cases() {
  std::vector<SuiteCase> cases;
  std::error_code error;
  for (fs::recursive_directory_iterator it(fs::path(kSuiteDir), error), end; !error && it != end;
       it.increment(error)) {
    std::error_code ignored;
    if (!it->is_directory(ignored)) continue;
    std::string name = it->path().filename().string();
    if (fs::is_regular_file(it->path() / (name + ".req"), ignored)) {
      cases.push_back({std::move(name), it->path()});
    }
  }
  std::ranges::sort(cases, {}, &SuiteCase::name);
  return cases;
}

TEST(SigV4Suite, IsPresentAndComplete) {
  ASSERT_TRUE(fs::is_directory(fs::path(kSuiteDir))) << "missing test suite: " << kSuiteDir;
  EXPECT_GE(discover_cases().size(), kMinimumCases) << "too few cases in " << kSuiteDir;
}

class SigV4SuiteTest : public testing::TestWithParam<SuiteCase> {};

TEST_P(SigV4SuiteTest, MatchesCanonicalRequestStringToSignAndAuthorization) {
  const SuiteCase& test_case = GetParam();
  const auto expected = [&](std::string_view extension) {
    return read_file(test_case.dir / (test_case.name + std::string(extension)));
  };
  const std::optional<std::string> req = expected(".req");
  const std::optional<std::string> creq = expected(".creq");
  const std::optional<std::string> sts = expected(".sts");
  const std::optional<std::string> authz = expected(".authz");
  ASSERT_TRUE(req && creq && sts && authz) << "incomplete case " << test_case.dir;
  const std::optional<ParsedRequest> parsed = parse_request(*req);
  ASSERT_TRUE(parsed) << "cannot parse " << test_case.name << ".req";

  const auto result =
      aws::sign_v4(parsed->view(), credentials_for(test_case.name), "us-east-1", "service", kDate);
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->canonical_request, *creq);
  EXPECT_EQ(result->string_to_sign, *sts);
  EXPECT_EQ(result->authorization, *authz);
  EXPECT_TRUE(authz->ends_with("Signature=" + result->signature));
}

std::string param_name(const testing::TestParamInfo<SuiteCase>& info) {
  std::string name = info.param.name;
  std::ranges::replace(name, '-', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Aws, SigV4SuiteTest, testing::ValuesIn(discover_cases()), param_name);

// --- Session tokens --------------------------------------------------------------------------

aws::HttpRequestToSign vanilla_get() {
  return {
      "GET", "/", "", {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", std::string(kDate)}}, ""};
}

TEST(SigV4, TokenFromCredentialsIsSignedAndReturnedForTheCallerToSend) {
  const auto result =
      aws::sign_v4(vanilla_get(), suite_credentials(kVanillaToken), "us-east-1", "service", kDate);
  ASSERT_TRUE(result) << result.error();
  ASSERT_EQ(result->headers_to_add.size(), 2U);
  EXPECT_EQ(result->headers_to_add[0].first, "X-Amz-Security-Token");
  EXPECT_EQ(result->headers_to_add[0].second, kVanillaToken);
  EXPECT_EQ(result->headers_to_add[1].first, "Authorization");
  EXPECT_EQ(result->headers_to_add[1].second, result->authorization);
}

TEST(SigV4, TokenHeaderAlreadySentIsSignedOnceAndNotAddedAgain) {
  aws::HttpRequestToSign request = vanilla_get();
  request.headers.emplace_back("X-Amz-Security-Token", kVanillaToken);
  const auto with_header =
      aws::sign_v4(request, suite_credentials(kVanillaToken), "us-east-1", "service", kDate);
  const auto from_credentials =
      aws::sign_v4(vanilla_get(), suite_credentials(kVanillaToken), "us-east-1", "service", kDate);
  ASSERT_TRUE(with_header && from_credentials);
  EXPECT_EQ(with_header->canonical_request, from_credentials->canonical_request);
  ASSERT_EQ(with_header->headers_to_add.size(), 1U);
  EXPECT_EQ(with_header->headers_to_add[0].first, "Authorization");
}

// --- DynamoDB worked example, aws-wire.md §D2 ------------------------------------------------

constexpr std::string_view kDynamoBody =
    R"({"TableName":"counters","Key":{"pk":{"S":"page#home"}},)"
    R"("UpdateExpression":"ADD #count :inc","ExpressionAttributeNames":{"#count":"count"},)"
    R"("ExpressionAttributeValues":{":inc":{"N":"1"}},"ReturnValues":"UPDATED_NEW"})";
constexpr std::string_view kDynamoToken = "IQoJb3JpZ2luX2VjEXAMPLETOKEN";

aws::HttpRequestToSign dynamo_update_item() {
  return {"POST",
          "/",
          "",
          {{"Content-Type", "application/x-amz-json-1.0"},
           {"Host", "dynamodb.us-east-1.amazonaws.com"},
           {"X-Amz-Date", std::string(kDate)},
           {"X-Amz-Target", "DynamoDB_20120810.UpdateItem"}},
          kDynamoBody};
}

TEST(SigV4DynamoDb, WorkedExampleWithoutSessionToken) {
  ASSERT_EQ(kDynamoBody.size(), 214U);
  const auto result =
      aws::sign_v4(dynamo_update_item(), suite_credentials(), "us-east-1", "dynamodb", kDate);
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->canonical_request,
            "POST\n/\n\n"
            "content-type:application/x-amz-json-1.0\n"
            "host:dynamodb.us-east-1.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n"
            "x-amz-target:DynamoDB_20120810.UpdateItem\n\n"
            "content-type;host;x-amz-date;x-amz-target\n"
            "b0e0483bcd88875ea8e36425246ca5c5f847767cc5efd7ab6f26cf12b6a62a44");
  EXPECT_EQ(result->string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/dynamodb/aws4_request\n"
            "4d8f6d2999aba0d54129056d91cd4939dd85f3563f54de55f5ea21f000d7193c");
  EXPECT_EQ(result->signature, "541bb247810b874cae87fdfed1a7be9dfd81cf71cacb2bd2760a92d80d83ebc9");
  EXPECT_EQ(result->authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
            "Signature=541bb247810b874cae87fdfed1a7be9dfd81cf71cacb2bd2760a92d80d83ebc9");
}

void expect_dynamo_token_example(const aws::HttpRequestToSign& request) {
  const auto result =
      aws::sign_v4(request, suite_credentials(kDynamoToken), "us-east-1", "dynamodb", kDate);
  ASSERT_TRUE(result) << result.error();
  EXPECT_NE(result->canonical_request.find("x-amz-date:20150830T123600Z\n"
                                           "x-amz-security-token:IQoJb3JpZ2luX2VjEXAMPLETOKEN\n"
                                           "x-amz-target:DynamoDB_20120810.UpdateItem\n\n"
                                           "content-type;host;x-amz-date;x-amz-security-token;"
                                           "x-amz-target\n"),
            std::string::npos)
      << result->canonical_request;
  EXPECT_TRUE(result->string_to_sign.ends_with(
      "\n4eb1ae2e530d8c30bc182b3573c8666bb730c7fedefe3c68b7031fe66fa3597f"));
  EXPECT_EQ(result->signature, "5e9c6a261bba115e1efa3e3bfc67d15e1169e13bbee188398d804fd72cae2176");
  EXPECT_EQ(result->authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
            "Signature=5e9c6a261bba115e1efa3e3bfc67d15e1169e13bbee188398d804fd72cae2176");
}

TEST(SigV4DynamoDb, WorkedExampleWithSessionTokenHeader) {
  aws::HttpRequestToSign request = dynamo_update_item();
  request.headers.emplace_back("X-Amz-Security-Token", kDynamoToken);
  expect_dynamo_token_example(request);
}

TEST(SigV4DynamoDb, WorkedExampleWithSessionTokenFromCredentials) {
  expect_dynamo_token_example(dynamo_update_item());
}

// --- Inputs outside the suite ----------------------------------------------------------------

// Line `index` (0-based) of the canonical request for `request` signed with suite values.
std::string canonical_line(const aws::HttpRequestToSign& request, std::size_t index) {
  const auto result = aws::sign_v4(request, suite_credentials(), "us-east-1", "service", kDate);
  if (!result) return "error: " + result.error();
  std::istringstream lines(result->canonical_request);
  std::string line;
  for (std::size_t i = 0; i <= index && std::getline(lines, line); ++i) {
  }
  return line;
}

TEST(SigV4, PathIsEncodedAgainAsSentAndEmptyPathIsSlash) {
  aws::HttpRequestToSign request = vanilla_get();
  request.path = "/a%20b/c+d/../e/.";
  EXPECT_EQ(canonical_line(request, 1), "/a%2520b/e");
  request.path = "";
  EXPECT_EQ(canonical_line(request, 1), "/");
}

TEST(SigV4, QueryIsDecodedThenEncodedOnceAndSortedByKeyThenValue) {
  aws::HttpRequestToSign request = vanilla_get();
  request.query = "b=x%2fy&a=1+2&&flag&a=%zz&b=x/z";
  EXPECT_EQ(canonical_line(request, 2), "a=%25zz&a=1%2B2&b=x%2Fy&b=x%2Fz&flag=");
}

TEST(SigV4, HeaderValuesAreTrimmedAndFoldsAndTabsSqueezed) {
  aws::HttpRequestToSign request = vanilla_get();
  request.headers.emplace_back("X-Folded", " \t one\r\n\t two  \tthree \r\n");
  request.headers.emplace_back("x-empty", "   ");
  EXPECT_EQ(canonical_line(request, 5), "x-empty:");
  EXPECT_EQ(canonical_line(request, 6), "x-folded:one two three");
}

TEST(SigV4, RejectsMissingOrInconsistentRequiredInputs) {
  const aws::Credentials credentials = suite_credentials();
  aws::HttpRequestToSign no_host = vanilla_get();
  no_host.headers.erase(no_host.headers.begin());
  EXPECT_FALSE(aws::sign_v4(no_host, credentials, "us-east-1", "service", kDate));
  aws::HttpRequestToSign no_date = vanilla_get();
  no_date.headers.pop_back();
  EXPECT_FALSE(aws::sign_v4(no_date, credentials, "us-east-1", "service", kDate));
  EXPECT_FALSE(
      aws::sign_v4(vanilla_get(), credentials, "us-east-1", "service", "20150830T123601Z"));
  EXPECT_FALSE(aws::sign_v4(vanilla_get(), credentials, "us-east-1", "service", "2015-08-30"));
}

// --- amz_date --------------------------------------------------------------------------------

TEST(AmzDate, FormatsUtcTruncatedToTheSecond) {
  using std::chrono::sys_days;
  const auto base = sys_days{std::chrono::year{2015} / 8 / 30} + 12h + 36min;
  EXPECT_EQ(aws::amz_date(base), "20150830T123600Z");
  EXPECT_EQ(aws::amz_date(base + 59s + 999ms), "20150830T123659Z");
  EXPECT_EQ(aws::amz_date(std::chrono::system_clock::time_point{}), "19700101T000000Z");
  EXPECT_EQ(aws::amz_date(sys_days{std::chrono::year{1970} / 1 / 1} - 500ms), "19691231T235959Z");
  EXPECT_EQ(aws::amz_date(sys_days{std::chrono::year{2024} / 2 / 29} + 23h + 59min + 59s),
            "20240229T235959Z");
}

}  // namespace
