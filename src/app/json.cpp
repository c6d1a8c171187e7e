// JSON building.
#include "app/json.hpp"

namespace app {

std::string json_string(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out += '"';
}

std::string count_body(std::int64_t count) { return "{\"count\":" + std::to_string(count) + "}"; }

Response error_response(int status, std::string_view code, std::string_view message,
                        std::string_view outcome) {
  Response response{.status = status, .headers = {}, .body = {}};
  response.body = "{\"error\":" + json_string(code) + ",\"message\":" + json_string(message);
  if (!outcome.empty()) response.body += ",\"outcome\":" + json_string(outcome);
  response.body += "}";
  response.set("Content-Type", "application/json");
  response.set("Cache-Control", "no-store");
  if (status == 503) response.set("Retry-After", "1");
  return response;
}

}  // namespace app
