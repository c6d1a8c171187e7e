// Retry policy: error classification tables, full-jitter backoff and the bounded retry loop.
#include "aws/retry.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <thread>

namespace aws {
namespace {

using std::chrono::milliseconds;

// botocore's standard-mode throttling codes (aws-wire.md §C8).
constexpr std::array<std::string_view, 13> kThrottlingCodes = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "EC2ThrottledException",
};

// Refusals that may come with a 4xx status and applied nothing.
constexpr std::array<std::string_view, 1> kRefusedCodes = {"TransactionConflictException"};

// Transient codes that may come with a 4xx status; any 5xx is transient anyway. These may
// follow an applied write.
constexpr std::array<std::string_view, 5> kTransientCodes = {
    "RequestTimeout",      "RequestTimeoutException", "PriorRequestNotComplete",
    "InternalServerError", "ServiceUnavailable",
};

bool contains(std::span<const std::string_view> codes, std::string_view code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

}  // namespace

Failure classify_response(int http_status, std::string_view error_type, bool idempotent) {
  if (contains(kThrottlingCodes, error_type) || http_status == 429) return Failure::throttled;
  if (contains(kRefusedCodes, error_type)) return Failure::transient;
  if (contains(kTransientCodes, error_type) || (http_status >= 500 && http_status <= 599)) {
    return idempotent ? Failure::transient : Failure::ambiguous;
  }
  return Failure::permanent;
}

Failure classify_transport(HttpError::Kind kind, bool sent, bool idempotent) {
  switch (kind) {
    case HttpError::Kind::resolve:
    case HttpError::Kind::connect:
    case HttpError::Kind::tls:
      return Failure::transient;
    case HttpError::Kind::timeout:
    case HttpError::Kind::io:
      return (idempotent || !sent) ? Failure::transient : Failure::ambiguous;
  }
  return Failure::ambiguous;
}

milliseconds backoff_delay(const RetryOptions& options, int retry, Failure failure, double random) {
  const milliseconds cap = std::max(options.max_delay, milliseconds(0));
  milliseconds step =
      failure == Failure::throttled ? options.throttle_base_delay : options.base_delay;
  step = std::clamp(step, milliseconds(0), cap);
  for (int i = 1; i < retry && step < cap; ++i) step = std::min(cap, step * 2);
  const double jitter = std::clamp(random, 0.0, 1.0);
  const auto delay = static_cast<milliseconds::rep>(jitter * static_cast<double>(step.count()));
  return std::min(milliseconds(delay), step);
}

RetryHooks system_retry_hooks() {
  struct Shared {
    std::mutex mutex;
    std::mt19937_64 engine{std::random_device{}()};
  };
  auto shared = std::make_shared<Shared>();
  return RetryHooks{
      .random =
          [shared] {
            std::lock_guard lock(shared->mutex);
            return std::generate_canonical<double, std::numeric_limits<double>::digits>(
                shared->engine);
          },
      .sleep = [](milliseconds delay) { std::this_thread::sleep_for(delay); },
      .now = [] { return std::chrono::steady_clock::now(); },
  };
}

std::string_view describe(RetryStop stop) {
  switch (stop) {
    case RetryStop::succeeded:
      return "succeeded";
    case RetryStop::permanent:
      return "not retryable";
    case RetryStop::ambiguous:
      return "outcome unknown, not retried";
    case RetryStop::attempts_exhausted:
      return "attempts exhausted";
    case RetryStop::deadline:
      return "deadline reached";
  }
  return "unknown";
}

RetryOutcome run_with_retry(const RetryOptions& options, const RetryHooks& hooks,
                            const Attempt& attempt) {
  const auto start = hooks.now();
  const int max_attempts = std::max(options.max_attempts, 1);
  auto remaining = [&] {
    const auto elapsed = std::chrono::duration_cast<milliseconds>(hooks.now() - start);
    return options.deadline - elapsed;
  };
  for (int done = 1;; ++done) {
    const std::optional<Failure> failure = attempt(std::max(remaining(), milliseconds(1)));
    if (!failure) return {RetryStop::succeeded, done};
    if (*failure == Failure::permanent) return {RetryStop::permanent, done};
    if (*failure == Failure::ambiguous) return {RetryStop::ambiguous, done};
    if (done >= max_attempts) return {RetryStop::attempts_exhausted, done};
    const milliseconds delay = backoff_delay(options, done, *failure, hooks.random());
    if (delay >= remaining()) return {RetryStop::deadline, done};
    hooks.sleep(delay);
  }
}

}  // namespace aws
