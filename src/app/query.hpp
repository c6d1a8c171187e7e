// Query strings, read with Boost.URL: the one place that splits and decodes them. Pure.
#pragma once

#include <expected>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace app {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// The parameters of `query` (the text after '?', without it), decoded ('+' is a space), in
// order; empty pieces ("a=1&&b=2") are skipped. Fails on a malformed %-escape.
std::expected<QueryParams, std::string> parse_query(std::string_view query);

// The query part of a request target ("" when there is none).
std::string_view query_of(std::string_view target);

// The last value of parameter `name`, if any.
std::optional<std::string_view> param(const QueryParams& params, std::string_view name);

// Fails when `params` holds a name not in `known`, with "unknown option 'NAME': WHAT" (the
// name shown only when it is plain ASCII letters, digits and '_', so an answer never echoes
// arbitrary bytes). A misspelt option silently ignored would do what the caller did not ask.
std::expected<void, std::string> only_known(const QueryParams& params,
                                            std::initializer_list<std::string_view> known,
                                            std::string_view what);

}  // namespace app
