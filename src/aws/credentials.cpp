// Credentials from environment variables; the message never contains a secret.
#include "aws/credentials.hpp"

namespace aws {
namespace {

std::string read(const Environment& env, const char* name) {
  if (!env) return {};
  const char* value = env(name);
  return value != nullptr ? std::string(value) : std::string();
}

}  // namespace

std::expected<Credentials, std::string> credentials_from_environment(const Environment& env) {
  Credentials credentials{.access_key_id = read(env, "AWS_ACCESS_KEY_ID"),
                          .secret_access_key = read(env, "AWS_SECRET_ACCESS_KEY"),
                          .session_token = read(env, "AWS_SESSION_TOKEN")};
  std::string missing;
  if (credentials.access_key_id.empty()) missing = "AWS_ACCESS_KEY_ID";
  if (credentials.secret_access_key.empty()) {
    missing += missing.empty() ? "AWS_SECRET_ACCESS_KEY" : " and AWS_SECRET_ACCESS_KEY";
  }
  if (!missing.empty()) return std::unexpected("AWS credentials missing: set " + missing);
  return credentials;
}

}  // namespace aws
