// URL parsing with Boost.URL (parse_uri, parse_authority); names are percent-decoded with
// util::percent_decode, the project's one decoder.
#include "util/url.hpp"

#include <boost/core/detail/string_view.hpp>
#include <boost/url/authority_view.hpp>
#include <boost/url/host_type.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

#include "util/percent.hpp"

namespace util {
namespace {

namespace urls = boost::urls;

std::string_view std_view(boost::core::string_view text) { return {text.data(), text.size()}; }
boost::core::string_view core_view(std::string_view text) { return {text.data(), text.size()}; }

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The host and port of a parsed authority. url_view and authority_view have the same
// accessors for them.
template <typename View>
std::expected<HostPort, std::string> host_and_port(const View& view, std::uint16_t min_port) {
  if (view.has_userinfo()) return std::unexpected("user-info (user@) is not allowed");
  HostPort out;
  switch (view.host_type()) {
    case urls::host_type::ipv4:
      out.host = std::string(std_view(view.encoded_host()));
      break;
    case urls::host_type::ipv6:
      out.host = view.host_ipv6_address().to_string();
      out.ipv6 = true;
      break;
    case urls::host_type::name: {
      const std::optional<std::string> name = percent_decode(std_view(view.encoded_host()));
      if (!name || name->empty()) return std::unexpected("empty host");
      for (const char c : *name) {
        if (!name_char(c)) return std::unexpected("bad host name '" + *name + "'");
      }
      out.host = *name;
      break;
    }
    case urls::host_type::none:
      return std::unexpected("empty host");
    default:
      return std::unexpected("unsupported host '" + std::string(std_view(view.encoded_host())) +
                             "'");
  }
  if (view.has_port()) {
    // Boost.URL's own port_number() wraps some overflowing values (99999), so convert here.
    const std::string_view text = std_view(view.port());
    const char* end = text.data() + text.size();
    std::uint16_t port = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), end, port);
    if (text.empty() || ec != std::errc() || ptr != end || port < min_port) {
      return std::unexpected("bad port '" + std::string(text) + "' (expected " +
                             std::to_string(min_port) + "-65535)");
    }
    out.port = port;
  }
  return out;
}

}  // namespace

std::string HostPort::url_host() const { return ipv6 ? "[" + host + "]" : host; }

std::expected<HostPort, std::string> parse_host_url(std::string_view url) {
  const auto parsed = urls::parse_uri(core_view(url));
  if (!parsed) return std::unexpected("not a URL of the form scheme://host[:port]");
  const urls::url_view& view = *parsed;
  if (!view.has_authority()) return std::unexpected("expected scheme://host[:port]");
  if (!view.encoded_path().empty()) return std::unexpected("a path is not allowed");
  if (view.has_query()) return std::unexpected("a query (?) is not allowed");
  if (view.has_fragment()) return std::unexpected("a fragment (#) is not allowed");
  auto out = host_and_port(view, 1);
  if (out) out->scheme = lower(std_view(view.scheme()));
  return out;
}

std::expected<HostPort, std::string> parse_host_port(std::string_view authority,
                                                     bool port_zero_ok) {
  const auto parsed = urls::parse_authority(core_view(authority));
  if (!parsed) return std::unexpected("expected host:port (IPv6 in brackets: [::1]:8080)");
  auto out = host_and_port(*parsed, port_zero_ok ? 0 : 1);
  if (out && !out->port) return std::unexpected("no port (expected host:port)");
  return out;
}

}  // namespace util
