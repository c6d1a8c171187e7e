// Test helpers around Store::add's per-increment callback: gather the results of a batch.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <stdexcept>
#include <vector>

#include "store/store.hpp"

namespace testing_support {

// Every increment's result, by index. Safe for stores that report from several threads.
inline std::vector<store::StoreResult<std::int64_t>> add_all(
    store::Store& store, std::span<const store::Increment> batch) {
  std::vector<store::StoreResult<std::int64_t>> results(batch.size());
  std::vector<int> reported(batch.size(), 0);
  std::mutex mutex;
  store.add(batch, [&](std::size_t i, store::StoreResult<std::int64_t> value) {
    std::lock_guard lock(mutex);
    results.at(i) = std::move(value);
    ++reported.at(i);
  });
  for (int count : reported) {
    if (count != 1) throw std::logic_error("an increment was not reported exactly once");
  }
  return results;
}

// The new values when every increment succeeded, else the first error.
inline store::StoreResult<std::vector<std::int64_t>> add_values(
    store::Store& store, std::span<const store::Increment> batch) {
  std::vector<std::int64_t> values;
  for (auto& result : add_all(store, batch)) {
    if (!result) return std::unexpected(result.error());
    values.push_back(*result);
  }
  return values;
}

}  // namespace testing_support
