// The files compiled into the binary (web/index.html, demo.css, counter.js, the dashboard's,
// docs/openapi.yaml), by URL path.
#pragma once

#include <optional>
#include <string_view>
#include <utility>

namespace web {

// The bytes of the asset served at `path` ("/index.html", "/counter.js"), if any.
std::optional<std::string_view> find_asset(std::string_view path);

}  // namespace web
