// Maps a request path to an endpoint (docs/http-api.md). Pure; the key stays encoded so the
// handler can answer a bad key with 400 rather than 404.
#pragma once

#include <string_view>

namespace app {

enum class Endpoint {
  count,
  read_counter,  // GET /counters/{key}; PUT and DELETE are the owner's (admin)
  history,       // /history/{key}
  counters,      // the listing (admin)
  dashboard,     // the dashboard's files (admin); encoded_key is the file's path
  badge,         // /badge/{key}.svg
  stream,        // /stream/{key}: live counts (Server-Sent Events)
  healthz,
  metrics,
  index_page,
  widget,
  stylesheet,  // the demo page's CSS
  openapi,     // /openapi.yaml: the API's contract (docs/openapi.yaml)
  not_found,
};

struct Route {
  Endpoint endpoint = Endpoint::not_found;
  std::string_view encoded_key;  // into the path (or the default key); empty for fixed paths
                                 // (for a badge: between "/badge/" and ".svg")
};

// `path` excludes the query string.
Route route(std::string_view path);

// The methods an endpoint answers, for 405 and the Allow header: "GET, POST, OPTIONS".
std::string_view allowed_methods(Endpoint endpoint);
// The methods another site's page may use (CORS preflight): never an admin method.
std::string_view cors_methods(Endpoint endpoint);
bool allows(Endpoint endpoint, std::string_view method);

// A stable label for metrics: "count", "counter", ...
std::string_view label(Endpoint endpoint);

}  // namespace app
