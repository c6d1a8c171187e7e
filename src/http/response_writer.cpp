// HTTP/1.1 response serialization.
#include "http/response_writer.hpp"

#include <array>
#include <utility>

namespace http {

std::string_view reason_phrase(int status) {
  static constexpr std::array<std::pair<int, std::string_view>, 17> kReasons{{
      {200, "OK"},
      {204, "No Content"},
      {304, "Not Modified"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {408, "Request Timeout"},
      {413, "Content Too Large"},
      {414, "URI Too Long"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
  }};
  for (const auto& [code, reason] : kReasons) {
    if (code == status) return reason;
  }
  return "Unknown";
}

namespace {

// A CR or LF would end the field early and let the rest pose as further headers.
bool is_single_line(std::string_view text) {
  return text.find_first_of("\r\n") == std::string_view::npos;
}

// RFC 9110 §8.6: a 1xx or 204 answer must not carry Content-Length, and a 304's would have
// to state the length of the 200 it stands for; none of them has a body.
bool carries_content_length(int status) { return status >= 200 && status != 204 && status != 304; }

// The status line and the headers that are single lines.
void write_head(const app::Response& response, std::string& out) {
  out.clear();
  out.append("HTTP/1.1 ").append(std::to_string(response.status)).append(" ");
  out.append(reason_phrase(response.status)).append("\r\n");
  for (const auto& [name, value] : response.headers) {
    if (!is_single_line(name) || !is_single_line(value)) continue;
    out.append(name).append(": ").append(value).append("\r\n");
  }
}

void append_chunk(std::string_view data, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string size;
  for (std::size_t n = data.size(); n > 0; n /= 16) size.insert(size.begin(), kHex[n % 16]);
  out.append(size).append("\r\n").append(data).append("\r\n");
}

}  // namespace

void write_response(const app::Response& response, bool keep_alive, std::string& out) {
  write_head(response, out);
  if (carries_content_length(response.status)) {
    out.append("Content-Length: ").append(std::to_string(response.body.size())).append("\r\n");
  }
  out.append(keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
  if (!response.head) out.append(response.body);
}

void write_stream_head(const app::Response& response, bool chunked, std::string& out) {
  write_head(response, out);
  if (!chunked) {
    out.append("Connection: close\r\n\r\n").append(response.body);
    return;
  }
  out.append("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  if (!response.body.empty()) append_chunk(response.body, out);
}

void write_chunk(std::string_view data, std::string& out) {
  out.clear();
  append_chunk(data, out);
}

}  // namespace http
