// Serializes an app::Response as HTTP/1.1 bytes in one buffer, so a response is one
// write with no per-field iteration. Pure.
#pragma once

#include <string>
#include <string_view>

#include "app/message.hpp"

namespace http {

// The standard reason phrase for `status` ("OK", "Not Found"), or "Unknown".
std::string_view reason_phrase(int status);

// Replaces `out` with the status line, `response`'s headers, Content-Length (not on 1xx,
// 204 and 304), Connection (keep-alive or close) and the body. A header whose name or
// value holds a CR or LF is left out, so no field can inject another. The body of a 204
// or 304 must be empty. An answer to HEAD (`response.head`) states its body's length and
// leaves the body out.
void write_response(const app::Response& response, bool keep_alive, std::string& out);

}  // namespace http
