// The sources of the standard credential chain: the environment, the shared files (keys, or
// a credential_process), web identity through STS, ECS container credentials and EC2
// instance metadata (IMDSv2).
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "aws/credential_provider.hpp"
#include "aws/endpoint.hpp"
#include "aws/http_client.hpp"
#include "util/text.hpp"

namespace aws {
namespace {

using Fetched = std::expected<TemporaryCredentials, std::string>;

std::string read_env(const Environment& env, const char* name) {
  const char* value = env ? env(name) : nullptr;
  return value != nullptr ? std::string(value) : std::string();
}

std::expected<std::string, std::string> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  if (!file) return std::unexpected("cannot read " + path);
  return text.str();
}

// "2026-11-27T21:00:00Z" (seconds may carry a fraction; "+00:00" is accepted too).
std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d", &year, &month, &day, &hour, &minute,
                  &second) != 6) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                         std::chrono::day(day)};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second);
}

// {AccessKeyId, SecretAccessKey, <token_field>, Expiration} (null: not a JSON object): what
// ECS and IMDS answer (the token as "Token"), and a credential_process prints
// ("SessionToken"). Without an Expiration only when `expiry_optional` (then `expires` is the
// latest time there is).
Fetched from_object(const boost::json::object* object, const std::string& what,
                    const char* token_field, bool expiry_optional) {
  const auto field = [&](const char* name) -> std::string {
    const boost::json::value* found = object ? object->if_contains(name) : nullptr;
    return found && found->is_string() ? std::string(found->get_string()) : std::string();
  };
  TemporaryCredentials out{.credentials = {.access_key_id = field("AccessKeyId"),
                                           .secret_access_key = field("SecretAccessKey"),
                                           .session_token = field(token_field)},
                           .expires = {}};
  const std::string expiration = field("Expiration");
  auto expires = parse_time(expiration);
  if (!expires && expiry_optional && expiration.empty()) {
    expires = std::chrono::system_clock::time_point::max();
  }
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty() ||
      !expires) {
    return std::unexpected(what + " answered without credentials");
  }
  out.expires = *expires;
  return out;
}

// What ECS and IMDS answer: from_object of the parsed `body`.
Fetched from_json(const std::string& body, const std::string& what) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(body, ec);
  return from_object(ec ? nullptr : value.if_object(), what, "Token", false);
}

// Runs a profile's credential_process (through /bin/sh, as the AWS CLI does on Linux) and
// reads the JSON it prints: {"Version": 1, AccessKeyId, SecretAccessKey, SessionToken?,
// Expiration?}. Its stderr is ours.
Fetched run_credential_process(const std::string& command, const std::string& profile) {
  const std::string what = "credential_process of profile " + profile;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::unexpected(what + ": cannot start it");
  std::string out;
  char chunk[4096];
  while (std::size_t n = std::fread(chunk, 1, sizeof chunk, pipe)) {
    if (out.size() + n > 64 * 1024) break;  // far more than any credentials
    out.append(chunk, n);
  }
  const int status = ::pclose(pipe);
  if (status != 0) return std::unexpected(what + ": exited with status " + std::to_string(status));
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(out, ec);
  const boost::json::object* object = ec ? nullptr : value.if_object();
  const boost::json::value* version = object ? object->if_contains("Version") : nullptr;
  if (version == nullptr || !version->is_int64() || version->get_int64() != 1) {
    return std::unexpected(what + ": printed no JSON with \"Version\": 1");
  }
  return from_object(object, what, "SessionToken", /*expiry_optional=*/true);
}

// The text between <tag> and </tag> in `xml`, or "".
std::string xml_field(const std::string& xml, const std::string& tag) {
  const std::size_t open = xml.find("<" + tag + ">");
  if (open == std::string::npos) return {};
  const std::size_t start = open + tag.size() + 2;
  const std::size_t close = xml.find("</" + tag + ">", start);
  return close == std::string::npos ? std::string() : xml.substr(start, close - start);
}

std::expected<HttpResponse, std::string> http_call(const std::string& url, std::string_view method,
                                                   std::string_view target,
                                                   const HeaderList& headers,
                                                   std::string_view body = {}) {
  auto endpoint = parse_endpoint(url);
  if (!endpoint) return std::unexpected("bad endpoint " + url + ": " + endpoint.error());
  HttpClient client(*endpoint, {.connect_timeout = std::chrono::milliseconds(1000),
                                .request_timeout = std::chrono::milliseconds(2000),
                                .max_response_bytes = 64 * 1024,
                                .ca_file = {}});
  auto response = client.send(method, target, headers, body);
  if (!response) return std::unexpected(url + ": " + response.error().message);
  if (response->status != 200) {
    return std::unexpected(url + " answered HTTP " + std::to_string(response->status));
  }
  return std::move(*response);
}

// --- (2) the shared files -------------------------------------------------------------------

// The key = value pairs of section `section` of an INI text.
std::map<std::string, std::string> ini_section(const std::string& text,
                                               const std::string& section) {
  std::map<std::string, std::string> values;
  std::istringstream lines(text);
  std::string line;
  bool inside = false;
  while (std::getline(lines, line)) {
    const std::string_view trimmed = util::trim_whitespace(line);
    if (trimmed.empty() || trimmed.front() == '#' || trimmed.front() == ';') continue;
    if (trimmed.front() == '[') {
      inside = util::trim(trimmed.substr(1, trimmed.find(']') - 1)) == section;
      continue;
    }
    const std::size_t eq = trimmed.find('=');
    if (inside && eq != std::string_view::npos) {
      values[std::string(util::trim_whitespace(trimmed.substr(0, eq)))] =
          std::string(util::trim_whitespace(trimmed.substr(eq + 1)));
    }
  }
  return values;
}

// The profile's settings from the shared files (the credentials file wins over the config
// file); `profile` gets its name, and `named` whether AWS_PROFILE chose it.
std::map<std::string, std::string> shared_profile(const Environment& env, std::string& profile,
                                                  bool& named) {
  profile = read_env(env, "AWS_PROFILE");
  named = !profile.empty();
  if (!named) profile = "default";
  const std::string home = read_env(env, "HOME");
  std::string credentials_file = read_env(env, "AWS_SHARED_CREDENTIALS_FILE");
  std::string config_file = read_env(env, "AWS_CONFIG_FILE");
  if (credentials_file.empty() && !home.empty()) credentials_file = home + "/.aws/credentials";
  if (config_file.empty() && !home.empty()) config_file = home + "/.aws/config";
  std::map<std::string, std::string> values;
  if (auto text = read_file(config_file)) {
    values = ini_section(*text, profile == "default" ? "default" : "profile " + profile);
  }
  if (auto text = read_file(credentials_file)) {
    for (auto& [key, value] : ini_section(*text, profile)) values[key] = value;
  }
  return values;
}

// The provider of the profile in the shared files: its keys, or its credential_process
// (run again before what it printed expires, if it says when); nullopt when the files have
// nothing for the profile.
std::optional<std::expected<std::shared_ptr<CredentialProvider>, std::string>> from_shared_files(
    const Environment& env, std::string& profile) {
  bool named = false;
  std::map<std::string, std::string> values = shared_profile(env, profile, named);
  Credentials found{.access_key_id = values["aws_access_key_id"],
                    .secret_access_key = values["aws_secret_access_key"],
                    .session_token = values["aws_session_token"]};
  if (!found.access_key_id.empty() && !found.secret_access_key.empty()) {
    return fixed_credentials(std::move(found), "profile " + profile);
  }
  if (const auto command = values.find("credential_process"); command != values.end()) {
    auto first = run_credential_process(command->second, profile);
    if (!first) return std::unexpected(first.error());
    const std::string source = "profile " + profile + " (credential_process)";
    if (first->expires == std::chrono::system_clock::time_point::max()) {
      return fixed_credentials(std::move(first->credentials), source);
    }
    return refreshing_credentials(
        [command = command->second, profile,
         first = std::optional<Fetched>(std::move(first))]() mutable -> Fetched {
          if (first) {  // the run above: not a second one at start
            Fetched once = std::move(*first);
            first.reset();
            return once;
          }
          return run_credential_process(command, profile);
        },
        source);
  }
  if (values.contains("role_arn") || values.contains("sso_session") ||
      values.contains("sso_start_url")) {
    return std::unexpected("profile " + profile +
                           " uses role_arn or SSO, which this program does not read; export "
                           "its credentials: eval \"$(aws configure export-credentials "
                           "--profile " +
                           profile + " --format env)\"");
  }
  if (named) return std::unexpected("AWS_PROFILE " + profile + " has no keys in the shared files");
  return std::nullopt;
}

// --- (3) web identity -------------------------------------------------------------------------

FetchCredentials web_identity(const Environment& env) {
  const std::string token_file = read_env(env, "AWS_WEB_IDENTITY_TOKEN_FILE");
  const std::string role = read_env(env, "AWS_ROLE_ARN");
  std::string session = read_env(env, "AWS_ROLE_SESSION_NAME");
  if (session.empty()) session = "visitor-counter";
  std::string url = read_env(env, "AWS_ENDPOINT_URL_STS");
  if (url.empty()) {
    std::string region = read_env(env, "AWS_REGION");
    if (region.empty()) region = read_env(env, "AWS_DEFAULT_REGION");
    url = region.empty() ? "https://sts.amazonaws.com" : "https://sts." + region + ".amazonaws.com";
  }
  return [token_file, role, session, url]() -> Fetched {
    auto token = read_file(token_file);
    if (!token) return std::unexpected(token.error());
    const auto encode = [](std::string_view text) {
      return boost::urls::encode(text, boost::urls::unreserved_chars);
    };
    const std::string body =
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + encode(role) +
        "&RoleSessionName=" + encode(session) +
        "&WebIdentityToken=" + encode(util::trim_whitespace(*token));
    auto answer =
        http_call(url, "POST", "/", {{"Content-Type", "application/x-www-form-urlencoded"}}, body);
    if (!answer) return std::unexpected("STS AssumeRoleWithWebIdentity: " + answer.error());
    const std::string& xml = answer->body;
    TemporaryCredentials out{.credentials = {.access_key_id = xml_field(xml, "AccessKeyId"),
                                             .secret_access_key = xml_field(xml, "SecretAccessKey"),
                                             .session_token = xml_field(xml, "SessionToken")},
                             .expires = {}};
    const auto expires = parse_time(xml_field(xml, "Expiration"));
    if (out.credentials.access_key_id.empty() || !expires) {
      return std::unexpected("STS answered without credentials");
    }
    out.expires = *expires;
    return out;
  };
}

// --- (4) ECS ----------------------------------------------------------------------------------

FetchCredentials ecs(const Environment& env) {
  const std::string relative = read_env(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  std::string full = read_env(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!relative.empty()) full = "http://169.254.170.2" + relative;
  const std::string token = read_env(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  const std::string token_file = read_env(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  return [full, token, token_file]() -> Fetched {
    const std::size_t path = full.find('/', full.find("://") + 3);
    const std::string base = path == std::string::npos ? full : full.substr(0, path);
    const std::string target = path == std::string::npos ? "/" : full.substr(path);
    HeaderList headers;
    std::string authorization = token;
    if (!token_file.empty()) {
      auto read = read_file(token_file);  // read each time: the agent may rotate it
      if (!read) return std::unexpected(read.error());
      authorization = std::string(util::trim_whitespace(*read));
    }
    if (!authorization.empty()) headers.emplace_back("Authorization", authorization);
    auto answer = http_call(base, "GET", target, headers);
    if (!answer) return std::unexpected("ECS credentials: " + answer.error());
    return from_json(answer->body, "the ECS credentials endpoint");
  };
}

// --- (5) EC2 instance metadata, IMDSv2 ----------------------------------------------------------

std::string imds_url(const Environment& env) {
  std::string url = read_env(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (url.empty()) url = "http://169.254.169.254";
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

bool imds_disabled(const Environment& env) {
  const std::string disabled = read_env(env, "AWS_EC2_METADATA_DISABLED");
  return disabled == "true" || disabled == "1";
}

// An IMDSv2 session token's header, or why there is none.
std::expected<HeaderList, std::string> imds_session(const std::string& url) {
  auto token = http_call(url, "PUT", "/latest/api/token",
                         {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}});
  if (!token) return std::unexpected("IMDSv2 token: " + token.error());
  return HeaderList{{"X-aws-ec2-metadata-token", token->body}};
}

FetchCredentials imds(const Environment& env) {
  return [url = imds_url(env)]() -> Fetched {
    auto with_token = imds_session(url);
    if (!with_token) return std::unexpected(with_token.error());
    constexpr std::string_view kRoles = "/latest/meta-data/iam/security-credentials/";
    auto roles = http_call(url, "GET", kRoles, *with_token);
    if (!roles) return std::unexpected("IMDSv2 role: " + roles.error());
    const std::string role(util::trim_whitespace(roles->body.substr(0, roles->body.find('\n'))));
    if (role.empty()) return std::unexpected("the instance has no IAM role");
    auto answer = http_call(url, "GET", std::string(kRoles) + role, *with_token);
    if (!answer) return std::unexpected("IMDSv2 credentials: " + answer.error());
    return from_json(answer->body, "the instance metadata service");
  };
}

}  // namespace

std::expected<std::shared_ptr<CredentialProvider>, std::string> default_credential_chain(
    const Environment& env) {
  if (auto fixed = credentials_from_environment(env)) {
    return fixed_credentials(std::move(*fixed), "environment");
  }
  std::string profile;
  if (auto shared = from_shared_files(env, profile)) return std::move(*shared);
  if (!read_env(env, "AWS_WEB_IDENTITY_TOKEN_FILE").empty() &&
      !read_env(env, "AWS_ROLE_ARN").empty()) {
    return refreshing_credentials(web_identity(env), "web identity (STS)");
  }
  if (!read_env(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").empty() ||
      !read_env(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI").empty()) {
    return refreshing_credentials(ecs(env), "ECS container credentials");
  }
  if (!imds_disabled(env)) {
    auto instance = refreshing_credentials(imds(env), "EC2 instance metadata (IMDSv2)");
    if (instance) return instance;
    return std::unexpected(
        "no AWS credentials: none in the environment (AWS_ACCESS_KEY_ID), the shared files "
        "(profile " +
        profile + "), web identity or ECS, and " + instance.error());
  }
  return std::unexpected(
      "no AWS credentials: none in the environment (AWS_ACCESS_KEY_ID), the shared files "
      "(profile " +
      profile + "), web identity or ECS; instance metadata is disabled");
}

std::optional<std::string> default_region(const Environment& env) {
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (std::string region = read_env(env, name); !region.empty()) return region;
  }
  std::string profile;
  bool named = false;
  if (std::string region = shared_profile(env, profile, named)["region"]; !region.empty()) {
    return region;
  }
  if (imds_disabled(env)) return std::nullopt;
  const std::string url = imds_url(env);
  auto with_token = imds_session(url);
  if (!with_token) return std::nullopt;
  auto region = http_call(url, "GET", "/latest/meta-data/placement/region", *with_token);
  if (!region || util::trim_whitespace(region->body).empty()) return std::nullopt;
  return std::string(util::trim_whitespace(region->body));
}

}  // namespace aws
