// Transport-neutral HTTP request and response: what app/ consumes and produces. The HTTP
// server and the Lambda runtime map their wire formats to and from these.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/event_stream.hpp"
#include "util/text.hpp"

namespace app {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // upper-case, as sent: "GET"
  std::string target;  // path and query, still percent-encoded: "/count/home?x=1"
  Headers headers;     // names lower-case
  std::string body;
  std::string peer;  // the address the request came from (the TCP peer; on Lambda, sourceIp)
  // It came in on the operator's listener (--metrics-listen), which serves only /metrics and
  // /healthz.
  bool operator_listener = false;

  // Every value of header `name` (lower-case), in order.
  std::vector<std::string_view> header_lines(std::string_view name) const {
    std::vector<std::string_view> lines;
    for (const auto& [key, value] : headers) {
      if (key == name) lines.push_back(value);
    }
    return lines;
  }

  // The first value of header `name` (lower-case), if present.
  std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // An answer to HEAD: the headers (Content-Length the body's) without the body.
  bool head = false;
  // A streamed answer (Server-Sent Events): `body` is its beginning, and the transport goes
  // on writing what the stream gives until either side closes, then closes the stream. Only
  // a transport that can stream gets one (the HTTP server, not Lambda).
  std::shared_ptr<EventStream> stream = nullptr;

  // Sets header `name` to `value`, replacing any value it had (names compare ignoring case),
  // so a header is never sent twice with two values.
  void set(std::string name, std::string value) {
    for (auto& [key, old] : headers) {
      if (util::equals_ignoring_case(key, name)) {
        old = std::move(value);
        return;
      }
    }
    headers.emplace_back(std::move(name), std::move(value));
  }
};

}  // namespace app
