// In-memory Store: a sorted map from key to count.
#include "store/memory/memory_store.hpp"

namespace store {

void MemoryStore::add(std::span<const Increment> batch, const AddCallback& done) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto it = counts_.find(batch[i].key);
    if (it == counts_.end()) it = counts_.emplace(std::string(batch[i].key), 0).first;
    it->second += batch[i].delta;
    done(i, it->second);
  }
}

StoreResult<std::optional<std::int64_t>> MemoryStore::get(std::string_view key) {
  auto it = counts_.find(key);
  if (it == counts_.end()) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{it->second};
}

StoreResult<void> MemoryStore::ping() { return {}; }

}  // namespace store
