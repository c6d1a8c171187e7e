// Embedded web files.
#include "app/web_file.hpp"

#include "app/json.hpp"
#include "web/assets.hpp"

namespace app {
namespace {

// A page runs only its own files: no inline script or style, no other origin.
constexpr std::string_view kPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string_view content_type(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".yaml")) return "application/yaml";  // UTF-8 by definition (RFC 9512)
  return "application/octet-stream";
}

}  // namespace

Response web_file(std::string_view path) {
  const auto bytes = web::find_asset(path);
  if (!bytes) return error_response(404, "not_found", "no such file");
  Response response{.status = 200, .headers = {}, .body = std::string(*bytes)};
  response.set("Content-Type", std::string(content_type(path)));
  response.set("Cache-Control", "public, max-age=300");
  response.set("X-Content-Type-Options", "nosniff");
  if (path.ends_with(".html")) {
    response.set("Content-Security-Policy", std::string(kPagePolicy));
    response.set("Referrer-Policy", "no-referrer");
  }
  return response;
}

}  // namespace app
