// Origin matching: exact, `*`, and port wildcards, compared case-insensitively.
#include "app/origin_policy.hpp"

#include <algorithm>
#include <cctype>

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

// scheme "://" host [":" port-or-star], with nothing after the host part.
bool is_origin_pattern(std::string_view text) {
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return false;
  const std::string_view rest = text.substr(scheme_end + 3);
  if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) return false;
  std::size_t host_end = rest.find(':');
  if (rest.front() == '[') {  // IPv6 literal: [::1]
    const std::size_t bracket = rest.find(']');
    if (bracket == std::string_view::npos) return false;
    host_end = bracket + 1 < rest.size() ? bracket + 1 : std::string_view::npos;
    if (host_end != std::string_view::npos && rest[host_end] != ':') return false;
  }
  // No wildcard in the host: `https://*.example.com` would never match an origin.
  if (rest.substr(0, host_end).find('*') != std::string_view::npos) return false;
  if (host_end == std::string_view::npos) return true;
  const std::string_view port = rest.substr(host_end + 1);
  return host_end > 0 && (port == "*" || all_digits(port));
}

// True when `origin` is http(s)://HOST exactly, HOST being the Host header's value.
bool is_same_host(std::string_view origin, std::string_view host) {
  if (host.empty()) return false;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (origin.starts_with(scheme) && origin.substr(scheme.size()) == host) return true;
  }
  return false;
}

}  // namespace

std::expected<OriginPolicy, std::string> OriginPolicy::create(std::vector<std::string> patterns,
                                                              bool require_origin) {
  for (std::string& pattern : patterns) {
    if (pattern != "*" && !is_origin_pattern(pattern)) {
      return std::unexpected("bad allowed origin '" + pattern +
                             "': expected *, scheme://host[:port] or scheme://host:* "
                             "(no path, no trailing slash, no wildcard in the host: "
                             "list each subdomain)");
    }
    pattern = lower(pattern);
  }
  return OriginPolicy(std::move(patterns), require_origin);
}

OriginPolicy::Verdict OriginPolicy::check(std::optional<std::string_view> origin,
                                          std::optional<std::string_view> host) const {
  if (!origin) return require_origin_ ? Verdict::refused : Verdict::no_origin;
  const std::string normalized = lower(*origin);
  if (host && is_same_host(normalized, lower(*host))) return Verdict::allowed;
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
