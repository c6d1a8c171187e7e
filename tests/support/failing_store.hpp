// A failure-injecting Store wrapper for tests: passes calls through to an inner store
// until told to fail (every call, or only some kinds of call), then refuses those calls
// with an injected error without touching the inner store. Counts the calls it receives.
// Thread-safe switches; the wrapped calls keep the inner store's threading rules.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "store/store.hpp"

namespace testing_support {

class FailingStore final : public store::Store {
 public:
  // The kinds of call that can be made to fail, and are counted, separately.
  // `owner`: history, list, set_totals, remove, import and dump.
  enum class Call : std::size_t { add, get, salt, forget_before, ping, sync, owner, count };

  explicit FailingStore(store::Store& inner) : inner_(inner) {}

  // Every kind of call fails (true) or passes through (false).
  void set_failing(bool failing);
  // Only calls of kind `call` fail (true) or pass through (false).
  void set_failing(Call call, bool failing);
  // The kind of the injected error (failed unless set).
  void set_error_kind(store::StoreError::Kind kind) { kind_ = kind; }

  int calls(Call call) const { return calls_[index(call)]; }
  int add_calls() const { return calls(Call::add); }

  void add(const store::Batch& batch, const store::AddCallback& done) override;
  store::StoreResult<std::optional<store::Totals>> get(std::string_view key) override;
  store::StoreResult<std::string> salt(std::string_view day) override;
  store::StoreResult<bool> forget_before(std::string_view day) override;
  store::StoreResult<std::vector<store::DayRow>> history(std::string_view key,
                                                         std::string_view from,
                                                         std::string_view to) override;
  store::StoreResult<store::CounterPage> list(std::string_view prefix, std::string_view after,
                                              std::size_t limit) override;
  store::StoreResult<void> set_totals(std::string_view key, std::optional<std::int64_t> views,
                                      std::optional<std::int64_t> visitors) override;
  store::StoreResult<bool> remove(std::string_view key) override;
  store::StoreResult<void> import(std::span<const store::CounterRecord> records,
                                  store::ImportMode mode) override;
  store::StoreResult<void> dump(const DumpSink& each) override;
  store::StoreResult<void> ping() override;
  bool defers_sync() const override { return inner_.defers_sync(); }
  store::StoreResult<void> sync() override;

 private:
  static constexpr std::size_t kCalls = static_cast<std::size_t>(Call::count);
  static std::size_t index(Call call) { return static_cast<std::size_t>(call); }
  // Counts the call; true when it is to fail.
  bool fails(Call call);
  store::StoreError injected() const;

  store::Store& inner_;
  std::array<std::atomic<bool>, kCalls> failing_{};
  std::array<std::atomic<int>, kCalls> calls_{};
  std::atomic<store::StoreError::Kind> kind_{store::StoreError::Kind::failed};
};

}  // namespace testing_support
