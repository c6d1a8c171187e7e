// Parsing of redis:// store URLs with Boost.URL.
#include "store/redis/redis_url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "util/text.hpp"

namespace store::redis {
namespace {

namespace urls = boost::urls;

constexpr std::string_view kNameChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._";

std::expected<int, std::string> number(std::string_view what, std::string_view text, int low,
                                       int high) {
  if (auto value = util::bounded_number(text, low, high)) return *value;
  return std::unexpected(std::string(what) + " must be a whole number from " + std::to_string(low) +
                         " to " + std::to_string(high));
}

}  // namespace

std::expected<RedisConfig, std::string> parse_redis_url(std::string_view text) {
  const auto fail = [&](const std::string& why) {
    // Named without its user and password: the message may be logged.
    std::string shown(text);
    const std::size_t at = shown.find('@');
    const std::size_t start = shown.find("://");
    if (at != std::string::npos && start != std::string::npos && start < at) {
      shown.replace(start + 3, at - start - 3, "***");
    }
    return std::unexpected("bad store URL '" + shown + "': " + why);
  };
  const auto parsed = urls::parse_uri(boost::core::string_view(text.data(), text.size()));
  if (!parsed) return fail("not a URL");
  const urls::url_view& url = *parsed;
  if (url.scheme() != "redis" && url.scheme() != "rediss") {
    return fail("expected redis:// or rediss://");
  }
  RedisConfig config;
  config.tls = url.scheme() == "rediss";
  config.host = url.host_address();
  if (config.host.empty()) return fail("no host");
  const bool name = url.host_type() == urls::host_type::name;
  if (name && config.host.find_first_not_of(kNameChars) != std::string::npos) {
    return fail("a host name is A-Z a-z 0-9 - . _");
  }
  if (url.has_port()) {
    auto port = number("the port", url.port(), 1, 65535);
    if (!port) return fail(port.error());
    config.port = static_cast<std::uint16_t>(*port);
  }
  if (url.has_userinfo()) {
    config.user = url.user();
    config.password = url.password();
    if (config.password.empty()) return fail("a user without a password");
  }
  const std::string_view path(url.encoded_path().data(), url.encoded_path().size());
  if (!path.empty() && path != "/") {
    auto db = number("the database", path.substr(1), 0, 15);
    if (!db) return fail(db.error());
    config.db = *db;
  }
  if (url.has_fragment()) return fail("a fragment");
  for (const auto& param : url.params()) {
    if (param.key == "prefix") {
      config.prefix = param.value;
      if (config.prefix.size() > 64 || config.prefix.find(' ') != std::string::npos) {
        return fail("prefix must be 0-64 characters without spaces");
      }
    } else if (param.key == "timeout_ms") {
      auto ms = number("timeout_ms", param.value, 1, 60'000);
      if (!ms) return fail(ms.error());
      config.timeout = std::chrono::milliseconds(*ms);
    } else if (param.key == "ca_file" && config.tls && !param.value.empty()) {
      config.ca_file = param.value;
    } else {
      return fail("unknown parameter '" + std::string(param.key) + "'" +
                  (param.key == "ca_file" ? " (ca_file is for rediss:// URLs)" : ""));
    }
  }
  return config;
}

}  // namespace store::redis
