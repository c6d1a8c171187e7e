// Origin matching: exact, `*`, and port wildcards, compared case-insensitively. Patterns
// and the public URL are parsed with util::parse_host_url and kept in the serialized form
// browsers send (lower-case, no default port).
#include "app/origin_policy.hpp"

#include <algorithm>
#include <cctype>

#include "util/url.hpp"

namespace app {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool all_digits(std::string_view text) {
  return !text.empty() && text.size() <= 5 &&
         std::ranges::all_of(text, [](unsigned char c) { return std::isdigit(c) != 0; });
}

// `scheme://host[:port]` as a browser serializes it in an Origin header: lower-case, and
// without the port when it is the scheme's default.
std::string serialized_origin(const util::HostPort& parsed) {
  std::string origin = parsed.scheme + "://" + lower(parsed.url_host());
  const bool default_port = (parsed.scheme == "http" && parsed.port == 80) ||
                            (parsed.scheme == "https" && parsed.port == 443);
  if (parsed.port && !default_port) {
    origin += ':';
    origin += std::to_string(*parsed.port);
  }
  return origin;
}

// A pattern: `*`, an origin, or an origin without a port followed by `:*`. nullopt when
// malformed.
std::optional<std::string> normalized_pattern(std::string_view text) {
  if (text == "*") return std::string(text);
  const bool any_port = text.ends_with(":*");
  if (any_port) text.remove_suffix(2);
  const auto parsed = util::parse_host_url(text);
  if (!parsed || (any_port && parsed->port)) return std::nullopt;
  return serialized_origin(*parsed) + (any_port ? ":*" : "");
}

}  // namespace

std::expected<OriginPolicy, std::string> OriginPolicy::create(std::vector<std::string> patterns,
                                                              bool require_origin,
                                                              std::string_view public_url) {
  for (std::string& pattern : patterns) {
    auto normalized = normalized_pattern(pattern);
    if (!normalized) {
      return std::unexpected("bad allowed origin '" + pattern +
                             "': expected *, scheme://host[:port] or scheme://host:* "
                             "(no path, no trailing slash, no wildcard in the host: "
                             "list each subdomain)");
    }
    pattern = std::move(*normalized);
  }
  std::string public_origin;
  if (!public_url.empty()) {
    std::string_view url = public_url;
    if (url.ends_with('/')) url.remove_suffix(1);  // the demo page's own URL is fine
    const auto parsed = util::parse_host_url(url);
    if (!parsed || (parsed->scheme != "http" && parsed->scheme != "https")) {
      return std::unexpected("bad public URL '" + std::string(public_url) +
                             "': expected http(s)://host[:port], with no path" +
                             (parsed ? std::string() : " (" + parsed.error() + ")"));
    }
    public_origin = serialized_origin(*parsed);
  }
  return OriginPolicy(std::move(patterns), require_origin, std::move(public_origin));
}

OriginPolicy::Verdict OriginPolicy::check(std::optional<std::string_view> origin) const {
  if (!origin) return require_origin_ ? Verdict::refused : Verdict::no_origin;
  const std::string normalized = lower(*origin);
  if (!public_origin_.empty() && normalized == public_origin_) return Verdict::allowed;
  return matches(normalized) ? Verdict::allowed : Verdict::refused;
}

bool OriginPolicy::matches(std::string_view origin) const {
  for (const std::string& pattern : patterns_) {
    if (pattern == "*" || pattern == origin) return true;
    if (!pattern.ends_with(":*")) continue;
    const std::string_view base = std::string_view(pattern).substr(0, pattern.size() - 2);
    if (!origin.starts_with(base)) continue;
    const std::string_view tail = origin.substr(base.size());
    if (tail.empty() || (tail[0] == ':' && all_digits(tail.substr(1)))) return true;
  }
  return false;
}

}  // namespace app
