// Test helpers around Store::add: build a Batch from short literals (HitBatch), and gather
// what the store reports for it, one result per key (add_all, add_results).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "store/store.hpp"

namespace testing_support {

// When a test batch happens. The defaults are one fixed moment on 2026-01-01 (UTC).
struct BatchAt {
  std::string day = "2026-01-01";
  std::int64_t now = 1767268800;  // 2026-01-01T12:00:00Z
  std::int64_t window = 0;        // Batch::repeat_window, seconds
  std::size_t max_counters = 0;   // Batch::max_counters
  bool create_counters = true;    // Batch::create_counters
  bool history = true;            // Batch::history
};

// A Batch that owns its keys and visitor ids, written as
//   HitBatch batch({{"a", {"v1", "v1", ""}}, {"b", {"v2"}}}, {.now = 100, .window = 60});
// (an empty visitor is an untracked hit). It converts to `const store::Batch&`. Not copyable
// or movable: the Batch points into it.
class HitBatch {
 public:
  using Keys = std::initializer_list<std::pair<std::string, std::vector<std::string>>>;

  explicit HitBatch(Keys keys, BatchAt at = {}) : day_(std::move(at.day)) {
    keys_.reserve(keys.size());
    visitors_.reserve(keys.size());
    for (const auto& [key, visitors] : keys) {
      keys_.push_back(key);
      visitors_.push_back(visitors);
    }
    hits_.resize(keys_.size());
    key_hits_.reserve(keys_.size());
    for (std::size_t k = 0; k < keys_.size(); ++k) {
      for (const std::string& visitor : visitors_[k]) {
        store::Hit hit;
        hit.visitor = visitor;
        hits_[k].push_back(hit);
      }
      key_hits_.push_back({.key = keys_[k], .hits = hits_[k]});
    }
    batch_ = store::Batch{.day = day_,
                          .now = at.now,
                          .repeat_window = at.window,
                          .marker_expires = at.now + 86400,
                          .keys = key_hits_,
                          .max_counters = at.max_counters,
                          .create_counters = at.create_counters,
                          .history = at.history};
  }
  HitBatch(const HitBatch&) = delete;
  HitBatch& operator=(const HitBatch&) = delete;

  const store::Batch& batch() const { return batch_; }
  operator const store::Batch&() const { return batch_; }  // NOLINT: implicit on purpose

 private:
  std::string day_;
  std::vector<std::string> keys_;
  std::vector<std::vector<std::string>> visitors_;
  std::vector<std::vector<store::Hit>> hits_;
  std::vector<store::KeyHits> key_hits_;
  store::Batch batch_;
};

using KeyResults = store::StoreResult<std::vector<store::HitResult>>;

// Every key's results, by index. Throws unless the store reported each key exactly once
// before add() returned. Safe for stores that report from several threads.
inline std::vector<KeyResults> add_all(store::Store& store, const store::Batch& batch) {
  std::vector<KeyResults> results(batch.keys.size());
  std::vector<int> reported(batch.keys.size(), 0);
  std::mutex mutex;
  store.add(batch, [&](std::size_t i, KeyResults key_results) {
    std::lock_guard lock(mutex);
    results.at(i) = std::move(key_results);
    ++reported.at(i);
  });
  for (int count : reported) {
    if (count != 1) throw std::logic_error("a key was not reported exactly once");
  }
  return results;
}

// Every key's results when every key succeeded, else the first error.
inline store::StoreResult<std::vector<std::vector<store::HitResult>>> add_results(
    store::Store& store, const store::Batch& batch) {
  std::vector<std::vector<store::HitResult>> all;
  for (KeyResults& key_results : add_all(store, batch)) {
    if (!key_results) return std::unexpected(key_results.error());
    all.push_back(std::move(*key_results));
  }
  return all;
}

// The results of a batch of one key, or its error.
inline KeyResults add_one(store::Store& store, const store::Batch& batch) {
  if (batch.keys.size() != 1) throw std::logic_error("add_one takes a batch of one key");
  return std::move(add_all(store, batch).front());
}

}  // namespace testing_support
