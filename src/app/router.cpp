// The routing table.
#include "app/router.hpp"

#include <array>

#include "app/key.hpp"

namespace app {
namespace {

struct EndpointInfo {
  Endpoint endpoint;
  std::string_view label;
  std::string_view methods;
  std::string_view cors_methods;
};

constexpr std::array kEndpoints{
    EndpointInfo{Endpoint::count, "count", "GET, HEAD, POST, OPTIONS", "GET, POST, OPTIONS"},
    EndpointInfo{Endpoint::read_counter, "counter", "GET, HEAD, PUT, DELETE, OPTIONS",
                 "GET, OPTIONS"},
    EndpointInfo{Endpoint::history, "history", "GET, HEAD, OPTIONS", "GET, OPTIONS"},
    EndpointInfo{Endpoint::counters, "counters", "GET, HEAD", ""},
    EndpointInfo{Endpoint::dashboard, "dashboard", "GET, HEAD", ""},
    EndpointInfo{Endpoint::badge, "badge", "GET, HEAD, OPTIONS", "GET, OPTIONS"},
    EndpointInfo{Endpoint::stream, "stream", "GET, OPTIONS", "GET, OPTIONS"},
    EndpointInfo{Endpoint::healthz, "healthz", "GET, HEAD", ""},
    EndpointInfo{Endpoint::metrics, "metrics", "GET, HEAD", ""},
    EndpointInfo{Endpoint::index_page, "index", "GET, HEAD", ""},
    EndpointInfo{Endpoint::widget, "widget", "GET, HEAD", ""},
    EndpointInfo{Endpoint::stylesheet, "stylesheet", "GET, HEAD", ""},
    EndpointInfo{Endpoint::openapi, "openapi", "GET, HEAD", ""},
    EndpointInfo{Endpoint::not_found, "not_found", "", ""},
};

const EndpointInfo& info(Endpoint endpoint) {
  for (const EndpointInfo& entry : kEndpoints) {
    if (entry.endpoint == endpoint) return entry;
  }
  return kEndpoints.back();
}

}  // namespace

Route route(std::string_view path) {
  if (path == "/count") return {Endpoint::count, kDefaultKey};
  if (path.starts_with("/count/")) return {Endpoint::count, path.substr(7)};
  if (path.starts_with("/counters/")) return {Endpoint::read_counter, path.substr(10)};
  if (path == "/counters") return {Endpoint::counters, {}};
  if (path.starts_with("/history/")) return {Endpoint::history, path.substr(9)};
  if (path == "/dashboard") return {Endpoint::dashboard, "/dashboard.html"};
  for (std::string_view file :
       {"/dashboard.js", "/dashboard.css", "/uPlot.iife.min.js", "/uPlot.min.css"}) {
    if (path == file) return {Endpoint::dashboard, file};
  }
  if (path.starts_with("/badge/") && path.ends_with(".svg") && path.size() >= 11) {
    return {Endpoint::badge, path.substr(7, path.size() - 11)};
  }
  if (path.starts_with("/stream/")) return {Endpoint::stream, path.substr(8)};
  if (path == "/healthz") return {Endpoint::healthz, {}};
  if (path == "/metrics") return {Endpoint::metrics, {}};
  if (path == "/" || path == "/index.html") return {Endpoint::index_page, {}};
  if (path == "/counter.js") return {Endpoint::widget, {}};
  if (path == "/demo.css") return {Endpoint::stylesheet, {}};
  if (path == "/openapi.yaml") return {Endpoint::openapi, {}};
  return {Endpoint::not_found, {}};
}

std::string_view allowed_methods(Endpoint endpoint) { return info(endpoint).methods; }
std::string_view cors_methods(Endpoint endpoint) { return info(endpoint).cors_methods; }

bool allows(Endpoint endpoint, std::string_view method) {
  const std::string_view methods = info(endpoint).methods;
  std::size_t start = 0;
  while (start < methods.size()) {
    std::size_t end = methods.find(", ", start);
    if (end == std::string_view::npos) end = methods.size();
    if (methods.substr(start, end - start) == method) return true;
    start = end + 2;
  }
  return false;
}

std::string_view label(Endpoint endpoint) { return info(endpoint).label; }

}  // namespace app
