// Retry policy for AWS calls (aws-wire.md §C8): which failures are worth another attempt,
// capped exponential backoff with full jitter, a bound on attempts and an overall deadline.
// Randomness, sleeping and the clock are injected, so the policy is deterministic under test.
// Every function is pure or touches only its arguments; safe on any thread as long as the
// hooks are (system_retry_hooks() returns hooks for one thread at a time).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

#include "aws/http_client.hpp"

namespace aws {

// How a failed attempt is treated: `throttled` and `transient` are retried (throttling with
// the larger base delay), `permanent` fails at once.
enum class Failure { throttled, transient, permanent };

struct RetryOptions {
  int max_attempts = 4;                                // the first attempt included; >= 1
  std::chrono::milliseconds base_delay{25};            // first backoff step, transient failures
  std::chrono::milliseconds throttle_base_delay{100};  // first backoff step, throttling
  std::chrono::milliseconds max_delay{1000};           // cap on one backoff, applied before jitter
  std::chrono::milliseconds deadline{4000};            // all attempts and sleeps of one call
};

// An AWS JSON-protocol error answer: `error_type` is the `__type` name after '#', possibly
// empty. Throttling codes (ProvisionedThroughputExceededException, ThrottlingException,
// RequestLimitExceeded, ...) and HTTP 429 are `throttled`; HTTP 5xx and the transient codes
// (InternalServerError, RequestTimeout, TransactionConflictException, ...) are `transient`;
// anything else (ValidationException, ResourceNotFoundException, the signing and permission
// errors, ...) is `permanent`.
Failure classify_response(int http_status, std::string_view error_type);

// A failure before a response arrived. Resolve, connect and TLS failures happen before the
// request is sent, so they are always `transient`. A timeout or I/O error may come after the
// server applied the request: `transient` when `idempotent`, else `permanent`, because
// repeating a non-idempotent write (a counter's ADD) could apply it twice.
Failure classify_transport(HttpError::Kind kind, bool idempotent);

// The delay before retry number `retry` (1 = the first retry):
// `random` x min(max_delay, base x 2^(retry-1)), base by `failure`. `random` is in [0, 1).
std::chrono::milliseconds backoff_delay(const RetryOptions& options, int retry, Failure failure,
                                        double random);

struct RetryHooks {
  std::function<double()> random;                        // uniform in [0, 1)
  std::function<void(std::chrono::milliseconds)> sleep;  // blocks the calling thread
  std::function<std::chrono::steady_clock::time_point()> now;
};

// Hooks on a private random generator, std::this_thread::sleep_for and the steady clock.
// The generator is not synchronized: one thread at a time uses the returned hooks.
RetryHooks system_retry_hooks();

enum class RetryStop { succeeded, permanent, attempts_exhausted, deadline };

struct RetryOutcome {
  RetryStop stop = RetryStop::succeeded;
  int attempts = 0;
};

// "succeeded", "not retryable", "attempts exhausted", "deadline reached".
std::string_view describe(RetryStop stop);

// One attempt, given the time left before the deadline (> 0): nullopt on success, or how it
// failed.
using Attempt = std::function<std::optional<Failure>(std::chrono::milliseconds remaining)>;

// Calls `attempt` until it succeeds, fails `permanent`ly, has run `max_attempts` times, or
// the next backoff would end at or past the deadline (measured from the first attempt). The
// first attempt always runs; no sleep ever crosses the deadline.
RetryOutcome run_with_retry(const RetryOptions& options, const RetryHooks& hooks,
                            const Attempt& attempt);

}  // namespace aws
