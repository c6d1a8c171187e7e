// In-memory Store: a sorted map from key to count.
#include "store/memory/memory_store.hpp"

namespace store {

StoreResult<std::vector<std::int64_t>> MemoryStore::add(std::span<const Increment> batch) {
  std::vector<std::int64_t> values;
  values.reserve(batch.size());
  for (const Increment& inc : batch) {
    auto it = counts_.find(inc.key);
    if (it == counts_.end()) it = counts_.emplace(std::string(inc.key), 0).first;
    it->second += inc.delta;
    values.push_back(it->second);
  }
  return values;
}

StoreResult<std::optional<std::int64_t>> MemoryStore::get(std::string_view key) {
  auto it = counts_.find(key);
  if (it == counts_.end()) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{it->second};
}

StoreResult<void> MemoryStore::ping() { return {}; }

}  // namespace store
