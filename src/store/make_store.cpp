// make_store: the one place that maps a store URL to a backend.
#include "store/memory/memory_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

namespace store {

std::expected<std::unique_ptr<Store>, std::string> make_store(std::string_view url,
                                                              const StoreOptions& options) {
  if (url == "memory:") return std::make_unique<MemoryStore>();
  if (url.starts_with("sqlite:")) {
    const std::string path(url.substr(7));
    if (path.empty()) return std::unexpected("store URL sqlite:PATH needs a path");
    auto opened = SqliteStore::open(path, options.sync);
    if (!opened) return std::unexpected(opened.error());
    return std::unique_ptr<Store>(std::move(*opened));
  }
  return std::unexpected("unknown store URL '" + std::string(url) +
                         "' (expected sqlite:PATH or memory:)");
}

}  // namespace store
