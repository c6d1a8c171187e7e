// The origin policy (docs/configuration.md). CORS alone only stops a browser from reading the
// answer, so a counting request from an origin off the allow-list is refused outright.
// The server's own pages are exempt only through its configured public URL, never through
// the request's Host header (anyone can point a domain of theirs at the server).
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
  // is `*` (`http://localhost:*`). `public_url` is where the server's own demo page is
  // served from (`http(s)://host[:port]`, optionally ending in "/"); an Origin equal to its
  // origin is allowed even when off the list. Empty: no such exemption. Fails with a
  // one-line reason on a malformed pattern, such as one with a path, a trailing slash or a
  // wildcard in the host (`https://*.example.com`: subdomain wildcards are not supported),
  // or on a public URL with a path, query, fragment or user-info.
  static std::expected<OriginPolicy, std::string> create(std::vector<std::string> patterns,
                                                         bool require_origin,
                                                         std::string_view public_url = {});

  Verdict check(std::optional<std::string_view> origin) const;

  // The exempt origin ("http://127.0.0.1:8080"), or empty when there is none.
  const std::string& public_origin() const { return public_origin_; }

 private:
  OriginPolicy(std::vector<std::string> patterns, bool require_origin, std::string public_origin)
      : patterns_(std::move(patterns)),
        require_origin_(require_origin),
        public_origin_(std::move(public_origin)) {}
  bool matches(std::string_view origin) const;

  std::vector<std::string> patterns_;  // normalized: lower-case, no default port
  bool require_origin_;
  std::string public_origin_;  // normalized like the patterns; empty: none
};

}  // namespace app
