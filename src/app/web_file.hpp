// The files compiled into the binary (web/, and docs/openapi.yaml), served with their type
// and, for pages, the
// strict Content-Security-Policy: a page runs only its own scripts and styles.
#pragma once

#include <string_view>

#include "app/message.hpp"

namespace app {

// The embedded file at `path` ("/index.html", "/counter.js", ...) with its Content-Type, or
// 404 when there is none.
Response web_file(std::string_view path);

}  // namespace app
