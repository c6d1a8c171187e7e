// Checks, for the fuzz targets, that bytes from http::write_response are exactly one
// HTTP/1.1 response: the status line, one line per header the response holds (those with
// a CR or LF in the name or value left out), Content-Length where the status allows one,
// Connection, an empty line, then the body. No field can start inside another.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "app/message.hpp"
#include "fuzz_check.hpp"
#include "http/response_writer.hpp"

namespace fuzz {

inline void check_framing(const app::Response& response, bool keep_alive, std::string_view bytes) {
  const std::string status_line = "HTTP/1.1 " + std::to_string(response.status) + " " +
                                  std::string(http::reason_phrase(response.status)) + "\r\n";
  check(bytes.starts_with(status_line), "the response starts with its status line");

  const std::size_t end = bytes.find("\r\n\r\n");
  check(end != std::string_view::npos, "the header block ends with an empty line");
  check(bytes.substr(end + 4) == (response.head ? std::string() : response.body),
        "the body follows the header block unchanged (none for HEAD)");

  std::size_t lines = 0;  // lines of the header block, status line included
  for (std::size_t start = 0; start < end + 2;) {
    const std::size_t crlf = bytes.find("\r\n", start);
    const std::string_view line = bytes.substr(start, crlf - start);
    check(line.find_first_of("\r\n") == std::string_view::npos && !line.empty(),
          "every header line is one non-empty line");
    ++lines;
    start = crlf + 2;
  }
  std::size_t kept = 0;
  for (const auto& [name, value] : response.headers) {
    if ((name + value).find_first_of("\r\n") == std::string::npos) ++kept;
  }
  const int status = response.status;
  const bool length = status >= 200 && status != 204 && status != 304;
  check(lines == 1 + kept + (length ? 1 : 0) + 1, "one line per header, no more and no less");

  const std::string_view head = bytes.substr(0, end + 2);
  if (length) {
    const std::string field =
        "\r\nContent-Length: " + std::to_string(response.body.size()) + "\r\n";
    check(head.find(field) != std::string_view::npos, "Content-Length is the body's size");
  }
  check(head.ends_with(keep_alive ? "\r\nConnection: keep-alive\r\n" : "\r\nConnection: close\r\n"),
        "Connection comes last and says whether the connection stays open");
}

}  // namespace fuzz
