// DynamoDB Store: builds, signs and sends JSON-protocol requests with retries, and reads
// the answers. Logs one line per call that failed after its retries.
#include "store/dynamodb/dynamodb_store.hpp"

#include <iostream>
#include <utility>

#include "store/dynamodb/dynamodb_json.hpp"

namespace store {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kContentType = "application/x-amz-json-1.0";
constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";
constexpr std::size_t kMaxLoggedMessage = 300;

DynamoDbStore::Transport http_transport(const dynamodb::DynamoDbConfig& config) {
  aws::HttpClientOptions options;
  options.connect_timeout = config.attempt_timeout;
  options.request_timeout = config.attempt_timeout;
  auto client = std::make_shared<aws::HttpClient>(config.endpoint, std::move(options));
  return [client](const aws::HeaderList& headers, std::string_view body, milliseconds timeout) {
    return client->send("POST", "/", headers, body, std::optional<milliseconds>(timeout));
  };
}

void log_to_stderr(std::string_view line) {
  std::string text = "visitor-counter: ";
  text.append(line).append("\n");
  std::cerr << text << std::flush;
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
      host_header_(config_.endpoint.host_header()) {}

StoreResult<std::vector<std::int64_t>> DynamoDbStore::add(std::span<const Increment> batch) {
  std::vector<std::int64_t> values;
  values.reserve(batch.size());
  for (const Increment& inc : batch) {
    const std::string request = dynamodb::update_item_request(config_.table, inc.key, inc.delta);
    auto body = call("UpdateItem", request, /*idempotent=*/false);
    if (!body) {
      std::string why = body.error();
      if (!values.empty()) {
        why += " (" + std::to_string(values.size()) + " of " + std::to_string(batch.size()) +
               " increments of the batch were applied before it)";
      }
      return std::unexpected(fail("UpdateItem", why));
    }
    auto value = dynamodb::parse_update_item_response(*body);
    if (!value) return std::unexpected(fail("UpdateItem", value.error() + " (it was applied)"));
    values.push_back(*value);
  }
  return values;
}

StoreResult<std::optional<std::int64_t>> DynamoDbStore::get(std::string_view key) {
  auto body = call("GetItem", dynamodb::get_item_request(config_.table, key), true);
  if (!body) return std::unexpected(fail("GetItem", body.error()));
  auto value = dynamodb::parse_get_item_response(*body);
  if (!value) return std::unexpected(fail("GetItem", value.error()));
  return *value;
}

StoreResult<void> DynamoDbStore::ping() {
  auto body = call("DescribeTable", dynamodb::describe_table_request(config_.table), true);
  if (!body) return std::unexpected(fail("DescribeTable", body.error()));
  auto status = dynamodb::parse_table_status(*body);
  if (!status) return std::unexpected(fail("DescribeTable", status.error()));
  if (*status != "ACTIVE" && *status != "UPDATING") {
    return std::unexpected(fail("DescribeTable", "table status is " + *status));
  }
  return {};
}

std::expected<std::string, std::string> DynamoDbStore::call(std::string_view operation,
                                                            const std::string& body,
                                                            bool idempotent) {
  Attempted last;
  const aws::RetryOutcome outcome =
      aws::run_with_retry(config_.retry, hooks_.retry, [&](milliseconds remaining) {
        const milliseconds timeout = std::min(remaining, config_.attempt_timeout);
        return attempt(operation, body, idempotent, timeout, last);
      });
  if (outcome.stop == aws::RetryStop::succeeded) return std::move(last.body);
  return std::unexpected(last.why + " [" + std::string(aws::describe(outcome.stop)) + " after " +
                         std::to_string(outcome.attempts) + " attempt(s)]");
}

std::optional<aws::Failure> DynamoDbStore::attempt(std::string_view operation,
                                                   const std::string& body, bool idempotent,
                                                   milliseconds timeout, Attempted& out) {
  auto headers = sign(operation, body);
  if (!headers) {
    out.why = "cannot sign the request: " + headers.error();
    return aws::Failure::permanent;
  }
  auto response = transport_(*headers, body, timeout);
  if (!response) {
    const aws::Failure failure = aws::classify_transport(response.error().kind, idempotent);
    out.why = scrub(response.error().message);
    if (!idempotent && failure == aws::Failure::permanent) {
      out.why += " (not retried: the update may have been applied)";
    }
    return failure;
  }
  if (response->status >= 200 && response->status <= 299) {
    out.body = std::move(response->body);
    return std::nullopt;
  }
  const dynamodb::ServiceError error = dynamodb::parse_error_response(response->body);
  out.why = "HTTP " + std::to_string(response->status);
  if (!error.type.empty()) out.why += " " + error.type;
  if (!error.message.empty()) out.why += ": " + scrub(error.message);
  return aws::classify_response(response->status, error.type);
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

StoreError DynamoDbStore::fail(std::string_view operation, std::string_view why) const {
  StoreError error{"DynamoDB " + std::string(operation) + " on table " + config_.table +
                   " failed: " + std::string(why)};
  if (hooks_.log) hooks_.log(error.message);
  return error;
}

}  // namespace store
