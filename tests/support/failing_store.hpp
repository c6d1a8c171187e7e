// A failure-injecting Store wrapper for tests: passes calls through to an inner store
// until told to fail, then refuses every call without touching the inner store.
// Thread-safe switch; the wrapped calls keep the inner store's threading rules.
#pragma once

#include <atomic>

#include "store/store.hpp"

namespace testing_support {

class FailingStore final : public store::Store {
 public:
  explicit FailingStore(store::Store& inner) : inner_(inner) {}

  void set_failing(bool failing) { failing_ = failing; }
  int add_calls() const { return add_calls_; }

  void add(std::span<const store::Increment> batch, const store::AddCallback& done) override;
  store::StoreResult<std::optional<std::int64_t>> get(std::string_view key) override;
  store::StoreResult<void> ping() override;

 private:
  store::Store& inner_;
  std::atomic<bool> failing_{false};
  std::atomic<int> add_calls_{0};
};

}  // namespace testing_support
