// AWS credentials from the process environment (the Lambda way, docs/architecture.md, "The Lambda
// runtime loop"). Pure: the environment is injected, so any thread may call it and tests need no
// real variables.
#pragma once

#include <expected>
#include <functional>
#include <string>

#include "aws/sigv4.hpp"

namespace aws {

// Returns the variable's value or nullptr, like std::getenv.
using Environment = std::function<const char*(const char*)>;

// Reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (optional) AWS_SESSION_TOKEN; an empty
// value counts as unset. Fails with a one-line reason naming the missing variables, never
// their values. An empty `env` behaves as an empty environment.
std::expected<Credentials, std::string> credentials_from_environment(const Environment& env);

}  // namespace aws
