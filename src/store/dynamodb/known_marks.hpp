// The visitor marks one process knows exist on the current UTC day: each one it wrote, or
// found there, since the day began. With no repeat window a mark only tells a new visitor
// from a returning one, so a visitor in this set is returning without asking DynamoDB,
// which saves a round trip and a write per hit of a returning visitor.
//
// Bounded: the set is emptied when the day changes and when it reaches `capacity` ids (a
// forgotten id only costs the request it would have saved). Another process's remove() of
// a counter, which deletes the counter's marks, is not seen here: until the day ends, a
// visitor this process knew counts as returning on the counter made anew. Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace store::dynamodb {

class KnownMarks {
 public:
  explicit KnownMarks(std::size_t capacity) : capacity_(capacity) {}

  bool contains(std::string_view day, const std::string& id) const {
    std::lock_guard lock(mutex_);
    return day == day_ && ids_.contains(id);
  }
  void insert(std::string_view day, std::string id) {
    std::lock_guard lock(mutex_);
    if (day != day_ || ids_.size() >= capacity_) {
      ids_.clear();
      day_ = day;
    }
    ids_.insert(std::move(id));
  }
  void clear() {
    std::lock_guard lock(mutex_);
    ids_.clear();
  }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::string day_;
  std::unordered_set<std::string> ids_;
};

}  // namespace store::dynamodb
