// The origin policy (DESIGN.md §4). CORS alone only stops a browser from reading the
// answer, so a counting request from an origin off the allow-list is refused outright.
// Immutable after construction; thread-safe.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace app {

class OriginPolicy {
 public:
  enum class Verdict {
    allowed,    // Origin on the list: answer with Access-Control-Allow-Origin
    no_origin,  // no Origin header and none required (curl, image proxies)
    refused,    // 403, never counted
  };

  // Each pattern is `*`, an exact origin (`https://example.com`), or an origin whose port
  // is `*` (`http://localhost:*`). Fails with a one-line reason on a malformed pattern,
  // such as one with a path, a trailing slash or a wildcard in the host
  // (`https://*.example.com`: subdomain wildcards are not supported).
  static std::expected<OriginPolicy, std::string> create(std::vector<std::string> patterns,
                                                         bool require_origin);

  // `host` is the request's Host header: an Origin naming this same host (the counter's
  // own demo page, served by this server) is always allowed, since no other site can
  // make a browser send it.
  Verdict check(std::optional<std::string_view> origin,
                std::optional<std::string_view> host = std::nullopt) const;

 private:
  OriginPolicy(std::vector<std::string> patterns, bool require_origin)
      : patterns_(std::move(patterns)), require_origin_(require_origin) {}
  bool matches(std::string_view origin) const;

  std::vector<std::string> patterns_;  // lower-case
  bool require_origin_;
};

}  // namespace app
