// Query strings on Boost.URL.
#include "app/query.hpp"

#include <algorithm>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse_query.hpp>

namespace app {

std::expected<QueryParams, std::string> parse_query(std::string_view query) {
  if (query.empty()) return QueryParams{};
  // Boost.URL 1.81's parse_query reads its text up to a NUL (strlen), past the end of a view
  // into a longer buffer: it gets its own NUL-terminated copy.
  const std::string text(query);
  auto parsed = boost::urls::parse_query(text);
  if (!parsed) return std::unexpected("the query has a malformed %-escape");
  const boost::urls::encoding_opts plus_is_space(/*space_as_plus=*/true);
  QueryParams params;
  for (const auto& encoded : *parsed) {
    if (encoded.key.empty() && !encoded.has_value) continue;
    params.emplace_back(encoded.key.decode(plus_is_space), encoded.value.decode(plus_is_space));
  }
  return params;
}

std::string_view query_of(std::string_view target) {
  const std::size_t question = target.find('?');
  return question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
}

std::optional<std::string_view> param(const QueryParams& params, std::string_view name) {
  std::optional<std::string_view> found;
  for (const auto& [key, value] : params) {
    if (key == name) found = value;
  }
  return found;
}

std::expected<void, std::string> only_known(const QueryParams& params,
                                            std::initializer_list<std::string_view> known,
                                            std::string_view what) {
  for (const auto& [name, value] : params) {
    if (std::ranges::find(known, name) != known.end()) continue;
    const bool plain = name.size() <= 32 && std::ranges::all_of(name, [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '_';
                       });
    return std::unexpected(
        (plain ? "unknown option '" + name + "'" : std::string("unknown option")) + ": " +
        std::string(what));
  }
  return {};
}

}  // namespace app
