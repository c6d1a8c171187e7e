// The API Gateway HTTP API payload format 2.0 codec (aws-wire.md §B): an event from the
// Runtime API becomes an app::Request, an app::Response becomes the JSON that the function
// returns. Pure functions; thread-safe; never throw except std::bad_alloc.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "app/message.hpp"

namespace lambda {

// Reads an HTTP API payload 2.0 event:
// - method from requestContext.http.method (required, a non-empty string);
// - target = rawPath (required, starts with '/') + "?" + rawQueryString when that is
//   non-empty, both kept percent-encoded as sent;
// - headers from `headers` with names lower-cased and values as given (API Gateway has
//   already comma-joined repeated headers); `cookies` is ignored;
// - body from `body`, base64-decoded when isBase64Encoded is true.
// Absent and null optional members are treated alike. Fails with a one-line reason on
// malformed JSON, a missing or mistyped member, a payload version other than "2.0", or a
// body that is not valid base64.
std::expected<app::Request, std::string> parse_event(std::string_view json);

// The payload 2.0 response: {"statusCode":N,"headers":{...},"body":"...",
// "isBase64Encoded":false}. Header names that repeat (case-insensitively) are combined
// into one entry, their values joined with ", ". A body that is not valid UTF-8 is sent
// base64-encoded with "isBase64Encoded":true, so the output is always valid JSON.
std::string format_response(const app::Response& response);

// The standard base64 alphabet with '=' padding (padding may be left out when decoding).
// nullopt on any other character or an impossible length.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace lambda
