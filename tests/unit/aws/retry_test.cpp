// Tests for the AWS retry policy: error classification, full-jitter capped backoff, and the
// retry loop's bounds (attempts, deadline) on an injected clock that never really sleeps.
#include "aws/retry.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

namespace aws {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST(ClassifyResponse, ThrottlingCodesAreThrottled) {
  for (const char* code :
       {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
        "LimitExceededException", "TooManyRequestsException", "Throttling"}) {
    EXPECT_EQ(classify_response(400, code), Failure::throttled) << code;
  }
  EXPECT_EQ(classify_response(429, ""), Failure::throttled);
  EXPECT_EQ(classify_response(503, "ThrottlingException"), Failure::throttled);
}

TEST(ClassifyResponse, ServerErrorsAreTransientForIdempotentCalls) {
  for (int status : {500, 502, 503, 504}) {
    EXPECT_EQ(classify_response(status, ""), Failure::transient) << status;
  }
  EXPECT_EQ(classify_response(500, "InternalServerError"), Failure::transient);
  EXPECT_EQ(classify_response(400, "TransactionConflictException"), Failure::transient);
  EXPECT_EQ(classify_response(400, "RequestTimeout"), Failure::transient);
}

TEST(ClassifyResponse, ServerErrorsAfterAWriteAreAmbiguous) {
  for (int status : {500, 502, 503, 504}) {
    EXPECT_EQ(classify_response(status, "", false), Failure::ambiguous) << status;
  }
  EXPECT_EQ(classify_response(500, "InternalServerError", false), Failure::ambiguous);
  EXPECT_EQ(classify_response(400, "RequestTimeout", false), Failure::ambiguous);
  // Refused before anything applied: safe to repeat even for a write.
  EXPECT_EQ(classify_response(400, "TransactionConflictException", false), Failure::transient);
  EXPECT_EQ(classify_response(400, "ProvisionedThroughputExceededException", false),
            Failure::throttled);
  EXPECT_EQ(classify_response(400, "ValidationException", false), Failure::permanent);
}

TEST(ClassifyResponse, ClientErrorsFailFast) {
  for (const char* code :
       {"ValidationException", "ResourceNotFoundException", "UnrecognizedClientException",
        "AccessDeniedException", "InvalidSignatureException", "IncompleteSignatureException",
        "MissingAuthenticationTokenException", "ExpiredTokenException", "SerializationException",
        "UnknownOperationException", "ConditionalCheckFailedException", ""}) {
    EXPECT_EQ(classify_response(400, code), Failure::permanent) << code;
  }
  EXPECT_EQ(classify_response(403, ""), Failure::permanent);
  EXPECT_EQ(classify_response(404, ""), Failure::permanent);
}

TEST(ClassifyTransport, UnsentRequestsAreAlwaysRetried) {
  for (auto kind : {HttpError::Kind::resolve, HttpError::Kind::connect, HttpError::Kind::tls,
                    HttpError::Kind::timeout, HttpError::Kind::io}) {
    EXPECT_EQ(classify_transport(kind, false, true), Failure::transient);
    EXPECT_EQ(classify_transport(kind, false, false), Failure::transient);
  }
}

TEST(ClassifyTransport, WrittenRequestsAreRetriedOnlyWhenIdempotent) {
  for (auto kind : {HttpError::Kind::timeout, HttpError::Kind::io}) {
    EXPECT_EQ(classify_transport(kind, true, true), Failure::transient);
    EXPECT_EQ(classify_transport(kind, true, false), Failure::ambiguous);
  }
}

TEST(BackoffDelay, GrowsExponentiallyUpToTheCap) {
  const RetryOptions options{.base_delay = 25ms, .throttle_base_delay = 100ms, .max_delay = 1000ms};
  const double almost_one = 0.999999;
  std::vector<milliseconds> transient;
  std::vector<milliseconds> throttled;
  for (int retry = 1; retry <= 8; ++retry) {
    transient.push_back(backoff_delay(options, retry, Failure::transient, almost_one));
    throttled.push_back(backoff_delay(options, retry, Failure::throttled, almost_one));
  }
  EXPECT_EQ(transient,
            (std::vector<milliseconds>{24ms, 49ms, 99ms, 199ms, 399ms, 799ms, 999ms, 999ms}));
  EXPECT_EQ(throttled,
            (std::vector<milliseconds>{99ms, 199ms, 399ms, 799ms, 999ms, 999ms, 999ms, 999ms}));
}

TEST(BackoffDelay, FullJitterScalesTheWholeStep) {
  const RetryOptions options{.base_delay = 100ms, .max_delay = 1000ms};
  EXPECT_EQ(backoff_delay(options, 3, Failure::transient, 0.0), 0ms);
  EXPECT_EQ(backoff_delay(options, 3, Failure::transient, 0.5), 200ms);
  EXPECT_EQ(backoff_delay(options, 3, Failure::transient, 0.25), 100ms);
  // Out-of-range randomness is clamped, never beyond the step.
  EXPECT_EQ(backoff_delay(options, 3, Failure::transient, 7.0), 400ms);
  EXPECT_EQ(backoff_delay(options, 3, Failure::transient, -1.0), 0ms);
}

TEST(BackoffDelay, HugeRetryNumbersStayAtTheCap) {
  const RetryOptions options{.base_delay = 25ms, .max_delay = 20'000ms};
  EXPECT_EQ(backoff_delay(options, 1'000'000, Failure::transient, 0.5), 10'000ms);
  const RetryOptions no_cap{.base_delay = 25ms, .max_delay = 0ms};
  EXPECT_EQ(backoff_delay(no_cap, 5, Failure::transient, 0.9), 0ms);
}

TEST(SystemRetryHooks, RandomIsInTheUnitInterval) {
  const RetryHooks hooks = system_retry_hooks();
  double low = 1.0;
  double high = 0.0;
  for (int i = 0; i < 10'000; ++i) {
    const double r = hooks.random();
    ASSERT_GE(r, 0.0);
    ASSERT_LT(r, 1.0);
    low = std::min(low, r);
    high = std::max(high, r);
  }
  EXPECT_LT(low, 0.01);
  EXPECT_GT(high, 0.99);
}

// A clock that moves only when the code under test sleeps or an attempt says it took time.
class FakeTime {
 public:
  explicit FakeTime(std::deque<double> randoms) : randoms_(std::move(randoms)) {}

  RetryHooks hooks() {
    return RetryHooks{.random =
                          [this] {
                            const double r = randoms_.empty() ? 0.5 : randoms_.front();
                            if (!randoms_.empty()) randoms_.pop_front();
                            return r;
                          },
                      .sleep =
                          [this](milliseconds delay) {
                            sleeps.push_back(delay);
                            now_ += delay;
                          },
                      .now = [this] { return now_; }};
  }
  void pass(milliseconds time) { now_ += time; }

  std::vector<milliseconds> sleeps;

 private:
  std::deque<double> randoms_;
  std::chrono::steady_clock::time_point now_{};
};

TEST(RunWithRetry, RetriesUntilSuccessWithJitteredGrowingDelays) {
  FakeTime time({0.5, 0.25});
  const RetryOptions options{.max_attempts = 4, .throttle_base_delay = 100ms};
  int calls = 0;
  const RetryOutcome outcome = run_with_retry(options, time.hooks(), [&](milliseconds) {
    return ++calls < 3 ? std::optional(Failure::throttled) : std::nullopt;
  });
  EXPECT_EQ(outcome.stop, RetryStop::succeeded);
  EXPECT_EQ(outcome.attempts, 3);
  EXPECT_EQ(time.sleeps, (std::vector<milliseconds>{50ms, 50ms}));  // 0.5 x 100, 0.25 x 200
}

TEST(RunWithRetry, PermanentFailuresAreNotRetried) {
  FakeTime time({});
  int calls = 0;
  const RetryOutcome outcome = run_with_retry(RetryOptions{}, time.hooks(), [&](milliseconds) {
    ++calls;
    return std::optional(Failure::permanent);
  });
  EXPECT_EQ(outcome.stop, RetryStop::permanent);
  EXPECT_EQ(outcome.attempts, 1);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(time.sleeps.empty());
}

TEST(RunWithRetry, AmbiguousFailuresAreNotRetried) {
  FakeTime time({});
  int calls = 0;
  const RetryOutcome outcome = run_with_retry(RetryOptions{}, time.hooks(), [&](milliseconds) {
    return ++calls == 1 ? std::optional(Failure::throttled) : std::optional(Failure::ambiguous);
  });
  EXPECT_EQ(outcome.stop, RetryStop::ambiguous);
  EXPECT_EQ(outcome.attempts, 2);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(describe(outcome.stop), "outcome unknown, not retried");
}

TEST(RunWithRetry, StopsAfterMaxAttempts) {
  FakeTime time({0.999, 0.999, 0.999, 0.999});
  const RetryOptions options{.max_attempts = 3, .base_delay = 10ms, .deadline = 60'000ms};
  int calls = 0;
  const RetryOutcome outcome = run_with_retry(options, time.hooks(), [&](milliseconds) {
    ++calls;
    return std::optional(Failure::transient);
  });
  EXPECT_EQ(outcome.stop, RetryStop::attempts_exhausted);
  EXPECT_EQ(outcome.attempts, 3);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(time.sleeps, (std::vector<milliseconds>{9ms, 19ms}));
}

TEST(RunWithRetry, AtLeastOneAttemptEvenWithNonsenseOptions) {
  FakeTime time({});
  const RetryOptions options{.max_attempts = 0, .deadline = 0ms};
  std::vector<milliseconds> budgets;
  const RetryOutcome outcome = run_with_retry(options, time.hooks(), [&](milliseconds left) {
    budgets.push_back(left);
    return std::optional(Failure::transient);
  });
  EXPECT_EQ(outcome.attempts, 1);
  EXPECT_EQ(budgets, std::vector<milliseconds>{1ms});
}

TEST(RunWithRetry, TheDeadlineBoundsAttemptsAndSleeps) {
  FakeTime time({0.999, 0.999, 0.999, 0.999, 0.999});
  const RetryOptions options{
      .max_attempts = 10, .base_delay = 100ms, .max_delay = 1000ms, .deadline = 1000ms};
  std::vector<milliseconds> budgets;
  const RetryOutcome outcome = run_with_retry(options, time.hooks(), [&](milliseconds left) {
    budgets.push_back(left);
    time.pass(150ms);  // each attempt takes a while
    return std::optional(Failure::transient);
  });
  // t=0 attempt (150) sleep 99 -> t=249 attempt (399) sleep 199 -> t=598 attempt (748);
  // the next sleep, 399 ms, would end past 1000 ms.
  EXPECT_EQ(outcome.stop, RetryStop::deadline);
  EXPECT_EQ(outcome.attempts, 3);
  EXPECT_EQ(budgets, (std::vector<milliseconds>{1000ms, 751ms, 402ms}));
  EXPECT_EQ(time.sleeps, (std::vector<milliseconds>{99ms, 199ms}));
}

TEST(Describe, NamesEveryStop) {
  EXPECT_EQ(describe(RetryStop::succeeded), "succeeded");
  EXPECT_EQ(describe(RetryStop::permanent), "not retryable");
  EXPECT_EQ(describe(RetryStop::attempts_exhausted), "attempts exhausted");
  EXPECT_EQ(describe(RetryStop::deadline), "deadline reached");
}

}  // namespace
}  // namespace aws
