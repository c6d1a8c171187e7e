// What the write combiner's source files share (write_combiner.cpp, its reads and health,
// its deadlines): the errors it answers with, its slot and deadline arithmetic, and a store
// that stands in when a call cannot reach the real one. Internal to counting/.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>

#include "store/store.hpp"

namespace counting::combiner_detail {

using Kind = store::StoreError::Kind;

inline store::StoreError stopped() { return {"the counter is shutting down", Kind::failed}; }
inline store::StoreError overloaded() {
  return {"too many hits and reads pending", Kind::overloaded};
}
inline store::StoreError expired() {
  return {"not sent to the store within --queue-timeout-ms", Kind::overloaded};
}

// Takes one of `bound` slots counted by `pending`; false when none is left.
inline bool take_slot(std::atomic<std::size_t>& pending, std::size_t bound) {
  std::size_t now = pending.load(std::memory_order_relaxed);
  do {
    if (now >= bound) return false;
  } while (!pending.compare_exchange_weak(now, now + 1, std::memory_order_relaxed));
  return true;
}

// When something queued now must be sent by: `timeout` from now, or never with 0.
inline std::chrono::steady_clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  return timeout.count() > 0 ? std::chrono::steady_clock::now() + timeout
                             : std::chrono::steady_clock::time_point::max();
}

// Stands in for the store when a call cannot reach it (the combiner stopped, or is over its
// bound), so that call still gets an answer: `error`, from every method.
class UnavailableStore final : public store::Store {
 public:
  explicit UnavailableStore(store::StoreError error) : error_(std::move(error)) {}
  void add(const store::Batch& batch, const store::AddCallback& done) override {
    store::report_batch(std::unexpected(error_), batch.keys.size(), done);
  }
  store::StoreResult<std::optional<store::Totals>> get(std::string_view) override {
    return std::unexpected(error_);
  }
  store::StoreResult<std::string> salt(std::string_view) override {
    return std::unexpected(error_);
  }
  store::StoreResult<bool> forget_before(std::string_view) override {
    return std::unexpected(error_);
  }
  store::StoreResult<std::vector<store::DayRow>> history(std::string_view, std::string_view,
                                                         std::string_view) override {
    return std::unexpected(error_);
  }
  store::StoreResult<store::CounterPage> list(std::string_view, std::string_view,
                                              std::size_t) override {
    return std::unexpected(error_);
  }
  store::StoreResult<void> set_totals(std::string_view, std::optional<std::int64_t>,
                                      std::optional<std::int64_t>) override {
    return std::unexpected(error_);
  }
  store::StoreResult<bool> remove(std::string_view) override { return std::unexpected(error_); }
  store::StoreResult<void> import(std::span<const store::CounterRecord>,
                                  store::ImportMode) override {
    return std::unexpected(error_);
  }
  store::StoreResult<void> dump(const DumpSink&) override { return std::unexpected(error_); }
  store::StoreResult<void> ping() override { return std::unexpected(error_); }

 private:
  store::StoreError error_;
};

}  // namespace counting::combiner_detail
