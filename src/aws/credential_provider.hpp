// Where the AWS credentials come from: the standard provider chain (docs/configuration.md), and
// temporary credentials refreshed before they expire on a thread of their own, so signing a
// request never waits for a refresh.
//
// The chain, in AWS's order: (1) the environment (AWS_ACCESS_KEY_ID, ...); (2) the shared
// files (AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE; ~/.aws/credentials and
// ~/.aws/config); (3) web identity (AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, through
// STS AssumeRoleWithWebIdentity); (4) ECS container credentials
// (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN
// or _TOKEN_FILE); (5) EC2 instance metadata, IMDSv2 only (AWS_EC2_METADATA_SERVICE_ENDPOINT
// overrides the address; AWS_EC2_METADATA_DISABLED=true skips it).
#pragma once

#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/credentials.hpp"
#include "aws/sigv4.hpp"

namespace aws {

// Credentials that expire.
struct TemporaryCredentials {
  Credentials credentials;
  std::chrono::system_clock::time_point expires;
};

class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;
  // The credentials to sign with now, or why there are none (temporary ones that expired
  // and could not be refreshed). Thread-safe and quick: never waits on the network.
  virtual std::expected<Credentials, std::string> current() = 0;
  // Where they come from, for the start-up log: "environment", "profile default", ...
  virtual std::string source() const = 0;
};

// Credentials that never change.
std::shared_ptr<CredentialProvider> fixed_credentials(Credentials credentials, std::string source);

// Fetches temporary credentials from a source (a network call; may block).
using FetchCredentials = std::function<std::expected<TemporaryCredentials, std::string>()>;

struct RefreshOptions {
  // Refresh this long before they expire (or at half their life, if that is sooner).
  std::chrono::seconds ahead{300};
  // After a failed refresh, try again this often until they expire.
  std::chrono::milliseconds retry{10'000};
  std::function<std::chrono::system_clock::time_point()> clock;  // empty: the system's
};

// Fetches once now (failing when that fails), then again before each expiry, on its own
// thread. A failed refresh keeps the old credentials until they expire; after that,
// current() fails with the last reason until a refresh succeeds.
std::expected<std::shared_ptr<CredentialProvider>, std::string> refreshing_credentials(
    FetchCredentials fetch, std::string source, RefreshOptions options = {});

// The region, by the same rules: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in
// the shared config file, then the instance metadata (IMDSv2, unless disabled); nullopt
// when none says.
std::optional<std::string> default_region(const Environment& env);

// The standard chain. Fails with a one-line reason listing what was tried.
std::expected<std::shared_ptr<CredentialProvider>, std::string> default_credential_chain(
    const Environment& env);

}  // namespace aws
