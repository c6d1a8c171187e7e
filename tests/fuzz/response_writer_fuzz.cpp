// Fuzz target: the HTTP/1.1 response writer on any response, not only the app's. Each input
// is read like a raw request (see fuzz_request.hpp): the first word is the status (digits;
// anything else is 200), the second is "close" for Connection: close, then header lines
// with any bytes in names and values, and the body (dropped for 1xx, 204 and 304, which
// must have none). Invariant: the bytes are exactly one response framed as http_framing.hpp
// says, whatever the headers hold.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_request.hpp"
#include "http/response_writer.hpp"
#include "http_framing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::RawRequest raw = fuzz::split_request({reinterpret_cast<const char*>(data), size});
  int status = 200;
  const char* end = raw.method.data() + raw.method.size();
  if (const auto parsed = std::from_chars(raw.method.data(), end, status);
      parsed.ec != std::errc() || parsed.ptr != end || status < 100 || status > 999) {
    status = 200;
  }
  app::Response response{.status = status, .headers = std::move(raw.headers), .body = {}};
  if (status >= 200 && status != 204 && status != 304) response.body = std::move(raw.body);
  const bool keep_alive = raw.target != "close";

  std::string bytes;
  http::write_response(response, keep_alive, bytes);
  fuzz::check_framing(response, keep_alive, bytes);
  return 0;
}
