// The Lambda custom runtime loop (aws-wire.md §A2): fetch the next event from the Runtime
// API, answer it through app::App, post the result; post /init/error when start-up fails.
// Not thread-safe: run() owns the calling thread until the Runtime API goes away.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <string_view>

#include "app/app.hpp"

namespace lambda {

struct RuntimeOptions {
  std::string runtime_api;  // host:port, no scheme: $AWS_LAMBDA_RUNTIME_API
  std::ostream& log;        // one JSON line per invocation (stdout → CloudWatch)
  // /next failures in a row (refused, non-2xx, no request id) before run() gives up.
  int max_next_attempts = 3;
  std::chrono::milliseconds retry_delay{50};
  // An answer still pending this long before the invocation's deadline becomes a 503, so
  // the client gets a clean answer instead of a function timeout.
  std::chrono::milliseconds deadline_margin{250};
};

// Serves invocations one at a time until /next fails `max_next_attempts` times in a row,
// then returns 1 (the process should exit; Lambda starts a new one). For each event:
// a payload 2.0 event is answered by `app` and POSTed to /invocation/{id}/response; an
// event that cannot be parsed, or a failure inside, is POSTed to /invocation/{id}/error
// with Lambda-Runtime-Function-Error-Type Runtime.InvalidEvent or Runtime.HandlerError,
// and the loop goes on. Logs {"requestId","route","status","durationMs"} per invocation
// (plus "errorType" on errors): never headers, query strings, addresses or bodies.
// Never throws.
int run(app::App& app, const RuntimeOptions& options);

// Best effort, for start-up failures before run(): POSTs /2018-06-01/runtime/init/error
// with Lambda-Runtime-Function-Error-Type `error_type` (e.g. "Runtime.ConfigError") and
// {"errorMessage":message,"errorType":error_type}. The caller should exit afterwards.
// Never throws; a failure to reach the Runtime API is ignored.
void report_init_error(const std::string& runtime_api, std::string_view error_type,
                       std::string_view message);

}  // namespace lambda
