// The DynamoDB store's configuration and its URL form,
//   dynamodb://TABLE?region=REGION&endpoint=URL&max_attempts=N&...
// Pure: the environment is injected; safe on any thread.
#pragma once

#include <chrono>
#include <expected>
#include <string>
#include <string_view>

#include "aws/credentials.hpp"
#include "aws/http_client.hpp"
#include "aws/retry.hpp"

namespace store::dynamodb {

struct DynamoDbConfig {
  std::string table;
  std::string region;
  aws::Endpoint endpoint;  // default: https://dynamodb.<region>.amazonaws.com
  aws::RetryOptions retry;
  std::chrono::milliseconds attempt_timeout{2000};  // one HTTP exchange, within retry.deadline
  std::size_t max_in_flight = 64;  // UpdateItems of one batch sent at once, each on its connection
};

// Parses a store URL. TABLE is a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -). Query
// parameters, each at most once, values percent-decoded:
//   region             default $AWS_REGION, then $AWS_DEFAULT_REGION; required from somewhere
//   endpoint           http://host:port or https://host[:port], no path (dynalite, a proxy)
//   max_attempts       1-10, default 4 (the first attempt included)
//   max_in_flight      1-256, default 64: a batch's UpdateItems in flight at once
//   base_delay_ms      0-60000, default 25: first backoff step after a transient error
//   throttle_delay_ms  0-60000, default 100: first backoff step after throttling
//   max_delay_ms       0-60000, default 1000: cap on one backoff
//   deadline_ms        1-600000, default 4000: all attempts and backoffs of one call
//   timeout_ms         1-600000, default 2000: one attempt (connect and exchange)
// Fails with a one-line reason naming the bad part; unknown parameters are refused.
std::expected<DynamoDbConfig, std::string> parse_dynamodb_url(std::string_view url,
                                                              const aws::Environment& env);

}  // namespace store::dynamodb
