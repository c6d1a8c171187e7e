// Retry policy for AWS calls (aws-wire.md §C8): which failures are worth another attempt,
// capped exponential backoff with full jitter, a bound on attempts and an overall deadline.
// Randomness, sleeping and the clock are injected, so the policy is deterministic under test.
// Every function is pure or touches only its arguments; safe on any thread as long as the
// hooks are (system_retry_hooks()'s are).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

#include "aws/http_client.hpp"

namespace aws {

// How a failed attempt is treated: `throttled` and `transient` provably did not apply and
// are retried (throttling with the larger base delay); `permanent` did not apply and fails
// at once; `ambiguous` may have applied, so a request that must not apply twice is never
// repeated: the call fails at once with its outcome unknown.
enum class Failure { throttled, transient, permanent, ambiguous };

struct RetryOptions {
  int max_attempts = 4;                                // the first attempt included; >= 1
  std::chrono::milliseconds base_delay{25};            // first backoff step, transient failures
  std::chrono::milliseconds throttle_base_delay{100};  // first backoff step, throttling
  std::chrono::milliseconds max_delay{1000};           // cap on one backoff, applied before jitter
  std::chrono::milliseconds deadline{4000};            // all attempts and sleeps of one call
};

// An AWS JSON-protocol error answer: `error_type` is the `__type` name after '#', possibly
// empty. Throttling codes (ProvisionedThroughputExceededException, ThrottlingException,
// RequestLimitExceeded, ...) and HTTP 429 are `throttled`, and TransactionConflictException
// is `transient`: the service refused those before applying anything. HTTP 5xx and the
// other transient codes (InternalServerError, ServiceUnavailable, RequestTimeout, ...) may
// follow an applied write (AWS documents this for 500): `transient` when `idempotent`,
// else `ambiguous`. Anything else (ValidationException, ResourceNotFoundException, the
// signing and permission errors, ...) is `permanent`.
Failure classify_response(int http_status, std::string_view error_type, bool idempotent = true);

// A failure before a response arrived. Resolve, connect and TLS failures, and an exchange
// that failed before the whole request was written (`sent` false), never reached the
// server: `transient`. A timeout or I/O error after the request was written may follow an
// applied write: `transient` when `idempotent`, else `ambiguous`.
Failure classify_transport(HttpError::Kind kind, bool sent, bool idempotent);

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
// Thread-safe: the generator is behind a mutex.
RetryHooks system_retry_hooks();

enum class RetryStop { succeeded, permanent, ambiguous, attempts_exhausted, deadline };

struct RetryOutcome {
  RetryStop stop = RetryStop::succeeded;
  int attempts = 0;
};

// "succeeded", "not retryable", "outcome unknown, not retried", "attempts exhausted",
// "deadline reached".
std::string_view describe(RetryStop stop);

// One attempt, given the time left before the deadline (> 0): nullopt on success, or how it
// failed.
using Attempt = std::function<std::optional<Failure>(std::chrono::milliseconds remaining)>;

// Calls `attempt` until it succeeds, fails `permanent`ly or `ambiguous`ly, has run
// `max_attempts` times, or
// the next backoff would end at or past the deadline (measured from the first attempt). The
// first attempt always runs; no sleep ever crosses the deadline.
RetryOutcome run_with_retry(const RetryOptions& options, const RetryHooks& hooks,
                            const Attempt& attempt);

}  // namespace aws
