// Payload 2.0 codec on Boost.JSON, using only its non-throwing parse and accessors.
#include "lambda/payload.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <cstdint>

#include "util/text.hpp"

namespace lambda {
namespace {

namespace json = boost::json;

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

template <typename T>
using Result = std::expected<T, std::string>;

std::string_view view(const json::string& text) { return {text.data(), text.size()}; }

// `text` quoted in a one-line reason: each control character (a line break too) is a '?'.
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

// The member `name` of `object`, or nullptr when it is absent or null.
const json::value* member(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value == nullptr || value->is_null() ? nullptr : value;
}

// An optional string member: nullopt when absent or null, an error when not a string.
Result<std::optional<std::string_view>> optional_string(const json::object& object,
                                                        std::string_view name,
                                                        std::string_view where) {
  const json::value* value = member(object, name);
  if (value == nullptr) return std::nullopt;
  const json::string* text = value->if_string();
  if (text == nullptr) return std::unexpected(std::string(where) + " must be a string");
  return view(*text);
}

// What requestContext.http says: the HTTP method and the caller's address (sourceIp, which
// API Gateway sets from the connection, or empty).
struct HttpContext {
  std::string method;
  std::string source_ip;
};

Result<HttpContext> read_http_context(const json::object& event) {
  const json::value* context = member(event, "requestContext");
  if (context == nullptr || !context->is_object()) {
    return std::unexpected("event has no requestContext object (not an HTTP API event?)");
  }
  const json::value* http = member(context->get_object(), "http");
  if (http == nullptr || !http->is_object()) {
    return std::unexpected("event has no requestContext.http object (payload format 1.0?)");
  }
  auto method = optional_string(http->get_object(), "method", "requestContext.http.method");
  if (!method) return std::unexpected(method.error());
  if (!*method || (*method)->empty()) {
    return std::unexpected("event has no requestContext.http.method");
  }
  auto source = optional_string(http->get_object(), "sourceIp", "requestContext.http.sourceIp");
  if (!source) return std::unexpected(source.error());
  return HttpContext{.method = std::string(**method),
                     .source_ip = std::string(source->value_or(std::string_view{}))};
}

Result<std::string> read_target(const json::object& event) {
  auto path = optional_string(event, "rawPath", "rawPath");
  if (!path) return std::unexpected(path.error());
  if (!*path || !(*path)->starts_with('/')) {
    return std::unexpected("event has no rawPath starting with '/'");
  }
  auto query = optional_string(event, "rawQueryString", "rawQueryString");
  if (!query) return std::unexpected(query.error());
  std::string target(**path);
  if (*query && !(*query)->empty()) target.append("?").append(**query);
  return target;
}

Result<app::Headers> read_headers(const json::object& event) {
  app::Headers headers;
  const json::value* value = member(event, "headers");
  if (value == nullptr) return headers;
  const json::object* object = value->if_object();
  if (object == nullptr) return std::unexpected("headers must be an object");
  headers.reserve(object->size());
  for (const auto& entry : *object) {
    std::string name(entry.key().data(), entry.key().size());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const json::string* text = entry.value().if_string();
    if (text == nullptr) return std::unexpected("header '" + one_line(name) + "' must be a string");
    headers.emplace_back(std::move(name), std::string(view(*text)));
  }
  return headers;
}

Result<std::string> read_body(const json::object& event) {
  auto body = optional_string(event, "body", "body");
  if (!body) return std::unexpected(body.error());
  if (!*body) return std::string();
  const json::value* encoded = member(event, "isBase64Encoded");
  if (encoded != nullptr && !encoded->is_bool()) {
    return std::unexpected("isBase64Encoded must be true or false");
  }
  if (encoded == nullptr || !encoded->get_bool()) return std::string(**body);
  auto decoded = base64_decode(**body);
  if (!decoded) return std::unexpected("body is marked isBase64Encoded but is not valid base64");
  return std::move(*decoded);
}

// Unicode's well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 4;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead == 0xF0) {
      low = 0x90;
    } else if (lead == 0xF4) {
      high = 0x8F;
    } else if (lead < 0xF1 || lead > 0xF3) {
      return false;
    }
    if (text.size() - i < length) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto byte = static_cast<unsigned char>(text[i + k]);
      if (byte < (k == 1 ? low : 0x80) || byte > (k == 1 ? high : 0xBF)) return false;
    }
    i += length;
  }
  return true;
}

}  // namespace

std::expected<app::Request, std::string> parse_event(std::string_view text) {
  boost::system::error_code ec;
  const json::value root = json::parse(text, ec);
  if (ec) return std::unexpected("event is not valid JSON: " + ec.message());
  const json::object* event = root.if_object();
  if (event == nullptr) return std::unexpected("event is not a JSON object");
  auto version = optional_string(*event, "version", "version");
  if (!version) return std::unexpected(version.error());
  if (*version && **version != "2.0") {
    return std::unexpected("unsupported payload format version '" + one_line(**version) +
                           "' (expected 2.0)");
  }
  auto http = read_http_context(*event);
  if (!http) return std::unexpected(http.error());
  auto target = read_target(*event);
  if (!target) return std::unexpected(target.error());
  auto headers = read_headers(*event);
  if (!headers) return std::unexpected(headers.error());
  auto body = read_body(*event);
  if (!body) return std::unexpected(body.error());
  return app::Request{.method = std::move(http->method),
                      .target = std::move(*target),
                      .headers = std::move(*headers),
                      .body = std::move(*body),
                      .peer = std::move(http->source_ip)};
}

std::string format_response(const app::Response& response) {
  app::Headers combined;
  for (const auto& [name, value] : response.headers) {
    auto it = std::find_if(combined.begin(), combined.end(), [&](const auto& entry) {
      return util::equals_ignoring_case(entry.first, name);
    });
    if (it == combined.end()) {
      combined.emplace_back(name, value);
    } else {
      it->second.append(", ").append(value);
    }
  }
  json::object headers;
  for (auto& [name, value] : combined) headers[name] = std::move(value);
  const std::string_view body = response.head ? std::string_view() : response.body;
  const bool text = valid_utf8(body);
  json::object out;
  out["statusCode"] = response.status;
  out["headers"] = std::move(headers);
  out["body"] = text ? json::string(body) : json::string(base64_encode(body));
  out["isBase64Encoded"] = !text;
  return json::serialize(out);
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::size_t padding = 0;
  while (padding < 2 && text.ends_with('=')) {
    text.remove_suffix(1);
    ++padding;
  }
  if (text.size() % 4 == 1 || (padding != 0 && (text.size() + padding) % 4 != 0)) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    const std::size_t index = kBase64Alphabet.find(c);
    if (index == std::string_view::npos) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(index);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFFU));
      bits &= (1U << count) - 1U;
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  const auto octet = [bytes](std::size_t i) -> std::uint32_t {
    return i < bytes.size() ? static_cast<unsigned char>(bytes[i]) : 0U;
  };
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::uint32_t group = octet(i) << 16U | octet(i + 1) << 8U | octet(i + 2);
    const std::size_t present = std::min<std::size_t>(3, bytes.size() - i);
    for (std::size_t k = 0; k < 4; ++k) {  // 1, 2 or 3 bytes make 2, 3 or 4 characters
      out.push_back(k <= present ? kBase64Alphabet[(group >> (18 - 6 * k)) & 63U] : '=');
    }
  }
  return out;
}

}  // namespace lambda
