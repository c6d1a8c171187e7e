// The Redis store's Lua scripts (count_batch.lua, import.lua), compiled into the binary.
#pragma once

#include <optional>
#include <string_view>

namespace store::redis::scripts {

// The body of the script at `name` ("/count_batch.lua"), if any.
std::optional<std::string_view> find_asset(std::string_view name);

}  // namespace store::redis::scripts
