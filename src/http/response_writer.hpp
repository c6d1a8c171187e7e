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

// The head of a streamed answer (`response.stream`): as write_response(), but without
// Content-Length, with Connection: close, and the body so far. `chunked` (an HTTP/1.1
// client): with Transfer-Encoding: chunked, the body as its first chunk; else (HTTP/1.0,
// which has no chunks) the body as it is, ended by the close.
void write_stream_head(const app::Response& response, bool chunked, std::string& out);

// Replaces `out` with `data` as one chunk of a chunked body; `data` must not be empty (an
// empty chunk ends the body).
void write_chunk(std::string_view data, std::string& out);

// The last chunk, which ends a chunked body.
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace http
