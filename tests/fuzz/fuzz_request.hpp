// A fuzz input read as a raw HTTP/1.1 request, so that seeds are readable requests:
//   METHOD SP TARGET [SP VERSION] LF, header lines "Name:value" LF, an empty line, the body.
// Lenient on purpose: any bytes give some request. Lines end at LF, and a CR right before
// it is dropped; a CR anywhere else stays, so a header value may carry one. A line that
// starts with a space or a tab continues the previous header's value (after an LF, as the
// SigV4 test suite writes folded headers). Names and values are kept exactly as written.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fuzz {

struct RawRequest {
  std::string method;
  std::string target;  // path and query, as written
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Removes the first line from `rest` and returns it without its LF or CR LF.
inline std::string_view take_line(std::string_view& rest) {
  const std::size_t lf = rest.find('\n');
  std::string_view line = rest.substr(0, lf);
  rest = lf == std::string_view::npos ? std::string_view{} : rest.substr(lf + 1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

inline RawRequest split_request(std::string_view bytes) {
  RawRequest request;
  std::string_view line = take_line(bytes);
  const std::size_t space = line.find(' ');
  request.method = line.substr(0, space);
  if (space != std::string_view::npos) {
    std::string_view target = line.substr(space + 1);
    if (const std::size_t version = target.rfind(" HTTP/"); version != std::string_view::npos) {
      target = target.substr(0, version);
    }
    request.target = target;
  }
  while (!bytes.empty()) {
    line = take_line(bytes);
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      if (!request.headers.empty()) request.headers.back().second.append("\n").append(line);
      continue;
    }
    const std::size_t colon = line.find(':');
    request.headers.emplace_back(line.substr(0, colon), colon == std::string_view::npos
                                                            ? std::string_view{}
                                                            : line.substr(colon + 1));
  }
  request.body = bytes;
  return request;
}

}  // namespace fuzz
