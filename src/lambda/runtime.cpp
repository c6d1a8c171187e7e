// The Runtime API calls (next, response, error, init/error) over aws::HttpClient, and the
// invocation loop that drives app::App with them. Every call here catches its own
// exceptions, so nothing escapes into the process that Lambda runs.
#include "lambda/runtime.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>
#include <exception>
#include <future>
#include <optional>
#include <thread>

#include "app/json.hpp"
#include "aws/http_client.hpp"
#include "lambda/payload.hpp"
#include "util/url.hpp"

namespace lambda {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using Deadline = std::optional<std::chrono::system_clock::time_point>;
using std::chrono::milliseconds;

constexpr std::string_view kRuntime = "/2018-06-01/runtime";
constexpr std::string_view kInvalidEvent = "Runtime.InvalidEvent";
constexpr std::string_view kHandlerError = "Runtime.HandlerError";

struct Invocation {
  std::string request_id;
  Deadline deadline;  // absent when the header is missing or unreadable: wait as long as needed
  std::string event;
};

// How one invocation ended, for its log line.
struct Outcome {
  std::optional<std::string> route;  // path without the query, once the event parsed
  std::optional<int> status;         // the answered status; none when /error was posted
  std::string_view error_type;       // empty unless /error was posted
};

json::string_view js(std::string_view text) { return {text.data(), text.size()}; }

void log_problem(std::ostream& log, std::string_view message) {
  log << R"({"level":"error","message":)" << app::json_string(message) << "}" << std::endl;
}

aws::HttpClientOptions client_options() {
  aws::HttpClientOptions options;
  options.connect_timeout = milliseconds(1000);    // the Runtime API is local
  options.request_timeout = milliseconds(10'000);  // posts only; /next waits without limit
  return options;
}

std::expected<aws::Endpoint, std::string> runtime_endpoint(std::string_view runtime_api) {
  if (runtime_api.empty()) return std::unexpected("AWS_LAMBDA_RUNTIME_API is not set");
  auto authority = util::parse_host_port(runtime_api, /*port_zero_ok=*/false);
  if (!authority) {
    return std::unexpected("bad AWS_LAMBDA_RUNTIME_API '" + std::string(runtime_api) +
                           "': " + authority.error());
  }
  return aws::Endpoint{.tls = false, .host = std::move(authority->host), .port = *authority->port};
}

// Request ids go into a URL path: accept the characters of UUIDs and similar ids only.
bool usable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 256) return false;
  for (const char c : id) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '_' && c != '.' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

Deadline parse_deadline(std::optional<std::string_view> header) {
  if (!header) return std::nullopt;
  std::int64_t epoch_ms = 0;
  const auto [end, ec] = std::from_chars(header->data(), header->data() + header->size(), epoch_ms);
  if (ec != std::errc() || end != header->data() + header->size() || epoch_ms <= 0) {
    return std::nullopt;
  }
  return std::chrono::system_clock::time_point(milliseconds(epoch_ms));
}

std::expected<Invocation, std::string> next_invocation(aws::HttpClient& client) {
  try {
    // The process is frozen between events, so the long poll gets no deadline.
    const aws::SendOptions forever{.timeout = std::optional<milliseconds>(), .idempotent = true};
    auto response = client.send("GET", std::string(kRuntime) + "/invocation/next", {}, {}, forever);
    if (!response) return std::unexpected("GET next: " + response.error().message);
    if (response->status < 200 || response->status > 299) {
      return std::unexpected("GET next: HTTP " + std::to_string(response->status));
    }
    const auto id = response->header("lambda-runtime-aws-request-id");
    if (!id || !usable_request_id(*id)) {
      return std::unexpected("GET next: no usable Lambda-Runtime-Aws-Request-Id");
    }
    return Invocation{.request_id = std::string(*id),
                      .deadline = parse_deadline(response->header("lambda-runtime-deadline-ms")),
                      .event = std::move(response->body)};
  } catch (const std::exception& e) {
    return std::unexpected(std::string("GET next: ") + e.what());
  }
}

std::expected<void, std::string> post(aws::HttpClient& client, const std::string& target,
                                      aws::HeaderList headers, std::string_view body) {
  try {
    headers.emplace_back("Content-Type", "application/json");
    auto response = client.send("POST", target, headers, body);
    if (!response) return std::unexpected("POST " + target + ": " + response.error().message);
    if (response->status < 200 || response->status > 299) {
      return std::unexpected("POST " + target + ": HTTP " + std::to_string(response->status));
    }
    return {};
  } catch (const std::exception& e) {
    return std::unexpected("POST " + target + ": " + e.what());
  }
}

std::expected<void, std::string> post_error(aws::HttpClient& client, const std::string& target,
                                            std::string_view type, std::string_view message) {
  try {
    json::object body;
    body["errorMessage"] = js(message);
    body["errorType"] = js(type);
    return post(client, target, {{"Lambda-Runtime-Function-Error-Type", std::string(type)}},
                json::serialize(body));
  } catch (const std::exception& e) {
    return std::unexpected("POST " + target + ": " + e.what());
  }
}

// Waits for the app's answer, which comes from the counter's worker thread. An answer
// still pending shortly before the deadline becomes a 503 (the late one is dropped).
app::Response answer(app::App& app, const app::Request& request, Deadline deadline,
                     milliseconds margin) {
  std::promise<app::Response> promise;
  std::future<app::Response> answered = promise.get_future();
  app.handle(request, [promise = std::move(promise)](app::Response response) mutable {
    promise.set_value(std::move(response));
  });
  if (deadline && answered.wait_until(*deadline - margin) == std::future_status::timeout) {
    // The hit, if this counts one, is still queued and may yet be applied.
    return app::error_response(
        503, "store_unavailable",
        "the counter store did not answer in time; a counting request may still count", "unknown");
  }
  return answered.get();
}

Outcome serve(aws::HttpClient& client, app::App& app, Invocation& invocation,
              const RuntimeOptions& options) {
  const std::string base = std::string(kRuntime) + "/invocation/" + invocation.request_id;
  Outcome outcome;
  std::expected<void, std::string> posted;
  try {
    auto request = parse_event(invocation.event);
    invocation.event = std::string();  // free up to 6 MB before handling
    if (!request) {
      outcome.error_type = kInvalidEvent;
      posted = post_error(client, base + "/error", kInvalidEvent, request.error());
    } else {
      outcome.route = request->target.substr(0, request->target.find('?'));
      const app::Response response =
          answer(app, *request, invocation.deadline, options.deadline_margin);
      outcome.status = response.status;
      posted = post(client, base + "/response", {}, format_response(response));
    }
  } catch (const std::exception& e) {
    outcome.status.reset();
    outcome.error_type = kHandlerError;
    posted = post_error(client, base + "/error", kHandlerError, e.what());
  }
  if (!posted) log_problem(options.log, posted.error());
  return outcome;
}

void log_invocation(std::ostream& log, const std::string& request_id, const Outcome& outcome,
                    Clock::duration elapsed) {
  const double ms =
      static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()) /
      1000.0;
  char duration[32];
  const auto printed =
      std::to_chars(duration, duration + sizeof duration, ms, std::chars_format::fixed, 3);
  std::string line = "{\"requestId\":" + app::json_string(request_id) +
                     ",\"route\":" + (outcome.route ? app::json_string(*outcome.route) : "null") +
                     ",\"status\":" + (outcome.status ? std::to_string(*outcome.status) : "null") +
                     ",\"durationMs\":" + std::string(duration, printed.ptr);
  if (!outcome.error_type.empty()) line += ",\"errorType\":" + app::json_string(outcome.error_type);
  log << line << "}" << std::endl;
}

int loop(app::App& app, const RuntimeOptions& options) {
  auto endpoint = runtime_endpoint(options.runtime_api);
  if (!endpoint) {
    log_problem(options.log, endpoint.error());
    return 1;
  }
  aws::HttpClient client(*endpoint, client_options());
  int failures = 0;
  while (failures < options.max_next_attempts) {
    auto invocation = next_invocation(client);
    if (!invocation) {
      log_problem(options.log, invocation.error());
      if (++failures < options.max_next_attempts) std::this_thread::sleep_for(options.retry_delay);
      continue;
    }
    failures = 0;
    const auto started = Clock::now();
    const Outcome outcome = serve(client, app, *invocation, options);
    log_invocation(options.log, invocation->request_id, outcome, Clock::now() - started);
  }
  log_problem(options.log,
              "giving up: the Runtime API failed " + std::to_string(failures) + " times in a row");
  return 1;
}

}  // namespace

int run(app::App& app, const RuntimeOptions& options) {
  try {
    return loop(app, options);
  } catch (const std::exception& e) {
    try {
      log_problem(options.log, std::string("runtime loop failed: ") + e.what());
    } catch (...) {  // nothing left to report with
    }
    return 1;
  }
}

void report_init_error(const std::string& runtime_api, std::string_view error_type,
                       std::string_view message) {
  try {
    auto endpoint = runtime_endpoint(runtime_api);
    if (!endpoint) return;
    aws::HttpClient client(*endpoint, client_options());
    (void)post_error(client, std::string(kRuntime) + "/init/error", error_type, message);
  } catch (...) {  // best effort: the caller exits either way
  }
}

}  // namespace lambda
