// Serializes an app::Response as HTTP/1.1 bytes in one buffer, so a response is one
// write with no per-field iteration. Pure.
#pragma once

#include <string>
#include <string_view>

#include "app/message.hpp"

namespace http {

// The standard reason phrase for `status` ("OK", "Not Found"), or "Unknown".
std::string_view reason_phrase(int status);

// Replaces `out` with the status line, `response`'s headers, Content-Length, Connection
// (keep-alive or close) and the body. Header values must not contain CR or LF.
void write_response(const app::Response& response, bool keep_alive, std::string& out);

}  // namespace http
