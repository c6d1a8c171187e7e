// An in-memory Store for tests and `--store memory:`. Nothing survives the process.
#pragma once

#include <map>
#include <string>
#include <tuple>

#include "store/store.hpp"

namespace store {

class MemoryStore final : public Store {
 public:
  void add(const Batch& batch, const AddCallback& done) override;
  StoreResult<std::optional<Totals>> get(std::string_view key) override;
  StoreResult<std::string> salt(std::string_view day) override;
  StoreResult<bool> forget_before(std::string_view day) override;
  std::expected<void, std::string> keep_days(int days) override;
  StoreResult<std::vector<DayRow>> history(std::string_view key, std::string_view from,
                                           std::string_view to) override;
  StoreResult<CounterPage> list(std::string_view prefix, std::string_view after,
                                std::size_t limit) override;
  StoreResult<void> set_totals(std::string_view key, std::optional<std::int64_t> views,
                               std::optional<std::int64_t> visitors) override;
  StoreResult<bool> remove(std::string_view key) override;
  StoreResult<void> import(std::span<const CounterRecord> records, ImportMode mode) override;
  StoreResult<void> dump(const DumpSink& each) override;
  StoreResult<void> ping() override;
  bool in_process() const override { return true; }

  // The daily row of `key` on `day` (zero when absent); for tests.
  Totals day_row(std::string_view key, std::string_view day) const;
  // How many visitor marks are kept; for tests.
  std::size_t marks() const { return marks_.size(); }

 private:
  using DayKey = std::tuple<std::string, std::string, std::string>;  // day, key, visitor
  std::map<std::string, Totals, std::less<>> totals_;
  std::map<std::pair<std::string, std::string>, Totals, std::less<>> days_;  // (key, day)
  std::map<DayKey, std::int64_t> marks_;                                     // when last counted
  std::map<std::string, std::string, std::less<>> salts_;
  struct Remembered {
    Totals totals;
    std::int64_t expires;
  };
  std::map<std::pair<std::string, std::string>, Remembered> answers_;  // (key, idempotency key)
  int keep_days_ = 0;
};

}  // namespace store
