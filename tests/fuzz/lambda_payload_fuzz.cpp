// Fuzz target: the Lambda payload 2.0 codec. Each input is an event as the Runtime API
// would deliver it (JSON, or not). Invariants: parse_event fails with a one-line reason or
// gives a request with a method, a target starting with '/' and lower-case header names;
// a response that echoes the request's headers and body (any bytes, once base64-decoded)
// is formatted as valid JSON, from which its status, headers and body read back; and
// base64 round-trips the body.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "lambda/payload.hpp"

namespace {

using fuzz::check;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

void check_request(const app::Request& request) {
  check(!request.method.empty(), "a decoded request has a method");
  check(request.target.starts_with('/'), "a decoded target starts with '/'");
  for (const auto& [name, value] : request.headers) {
    for (const char c : name) check(c < 'A' || c > 'Z', "decoded header names are lower-case");
  }
}

// Formats `response` and reads the JSON back.
void check_round_trip(const app::Response& response) {
  const std::string text = lambda::format_response(response);
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(text, ec);
  check(!ec, "format_response gives valid JSON");
  const boost::json::object* out = parsed.if_object();
  check(out != nullptr, "format_response gives a JSON object");
  check(out->at("statusCode").as_int64() == response.status, "statusCode is the status");

  const boost::json::string& body = out->at("body").as_string();
  const std::string_view sent(body.data(), body.size());
  if (out->at("isBase64Encoded").as_bool()) {
    check(lambda::base64_decode(sent) == response.body, "a base64 body decodes to the body");
  } else {
    check(sent == response.body, "a text body is sent as it is");
  }

  // Names that differ only in case are one entry, their values joined with ", ".
  const boost::json::object& headers = out->at("headers").as_object();
  for (const auto& [name, value] : response.headers) {
    const std::string* entry_name = nullptr;  // the first spelling of the name
    std::string joined;
    for (const auto& [other, other_value] : response.headers) {
      if (!same_name(name, other)) continue;
      if (entry_name != nullptr) joined += ", ";
      if (entry_name == nullptr) entry_name = &other;
      joined += other_value;
    }
    const boost::json::value* sent_value = headers.if_contains(*entry_name);
    check(sent_value != nullptr && sent_value->is_string() &&
              std::string_view(sent_value->get_string()) == joined,
          "each header name is one entry holding its values joined with \", \"");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto request = lambda::parse_event(bytes);
  if (!request) {
    check(!request.error().empty(), "a refused event has a reason");
    check(request.error().find('\n') == std::string::npos, "the reason is one line");
    return 0;
  }
  check_request(*request);
  check(lambda::base64_decode(lambda::base64_encode(request->body)) == request->body,
        "base64 round-trips any bytes");

  // The app echoes request header values (Access-Control-Allow-Origin), so any of them
  // may reach a response; the status is any three digits.
  const app::Response response{.status = 100 + static_cast<int>(size % 900),
                               .headers = request->headers,
                               .body = request->body};
  check_round_trip(response);
  return 0;
}
