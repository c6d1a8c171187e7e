// Endpoint URLs: the scheme picks TLS and the default port, util::parse_host_url the rest.
#include "aws/endpoint.hpp"

#include "util/url.hpp"

namespace aws {

std::string Endpoint::host_header() const {
  const bool default_port = (tls && port == 443) || (!tls && port == 80);
  const bool ipv6 = host.find(':') != std::string::npos;  // no name has one
  const std::string name = ipv6 ? "[" + host + "]" : host;
  return default_port ? name : name + ":" + std::to_string(port);
}

std::expected<Endpoint, std::string> parse_endpoint(std::string_view url) {
  if (url.ends_with('/')) url.remove_suffix(1);
  auto parsed = util::parse_host_url(url);
  if (!parsed) return std::unexpected("bad endpoint: " + parsed.error());
  if (parsed->scheme != "http" && parsed->scheme != "https") {
    return std::unexpected("endpoint must start with http:// or https://");
  }
  Endpoint endpoint;
  endpoint.tls = parsed->scheme == "https";
  endpoint.host = std::move(parsed->host);
  endpoint.port = parsed->port.value_or(endpoint.tls ? 443 : 80);
  return endpoint;
}

}  // namespace aws
