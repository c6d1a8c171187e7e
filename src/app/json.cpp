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

Response json_ok(std::string body) {
  Response response{.status = 200, .headers = {}, .body = std::move(body)};
  response.set("Content-Type", "application/json");
  response.set("Cache-Control", "no-store");
  return response;
}

Response unavailable(const store::StoreError& error, bool counting) {
  using Kind = store::StoreError::Kind;
  const bool overloaded = error.kind == Kind::overloaded;
  const bool unknown = error.kind == Kind::outcome_unknown;
  std::string_view outcome;
  if (counting) outcome = unknown ? "unknown" : "not_counted";
  if (error.kind == Kind::refused) {
    return error_response(403, "too_many_counters",
                          "this server holds as many counters as its owner allows "
                          "(--max-counters); existing counters still count",
                          outcome);
  }
  if (error.kind == Kind::halted) {
    return error_response(503, "store_halted",
                          "a sync to disk failed, so the counter stopped writing until it is "
                          "restarted",
                          outcome);
  }
  return error_response(503, overloaded ? "overloaded" : "store_unavailable",
                        overloaded ? "too many requests are waiting; try again shortly"
                        : unknown  ? "the store did not confirm this hit; it may have counted"
                                   : "the counter store is unavailable; try again shortly",
                        outcome);
}

std::string counter_body(std::string_view key, std::int64_t count, const store::Totals& totals) {
  return "{\"key\":" + json_string(key) + ",\"count\":" + std::to_string(count) +
         ",\"views\":" + std::to_string(totals.views) +
         ",\"visitors\":" + std::to_string(totals.visitors) + "}";
}

}  // namespace app
