// The crawler list of third_party/isbot, compiled into the binary by the build (vc_embed):
// "/patterns.json" (isbot's `list`, a JSON array of regex sources) and "/VERSION".
// Only bots.cpp reads it.
#pragma once

#include <optional>
#include <string_view>
#include <utility>

namespace counting::policy::bot_list {

// The bytes of the embedded file `name` ("/patterns.json", "/VERSION"), if there is one.
std::optional<std::string_view> find_asset(std::string_view name);

}  // namespace counting::policy::bot_list
