// FailingStore: the switches in front of the inner store.
#include "support/failing_store.hpp"

namespace testing_support {

void FailingStore::set_failing(bool failing) {
  for (auto& flag : failing_) flag = failing;
}

void FailingStore::set_failing(Call call, bool failing) { failing_[index(call)] = failing; }

bool FailingStore::fails(Call call) {
  ++calls_[index(call)];
  return failing_[index(call)];
}

store::StoreError FailingStore::injected() const {
  return store::StoreError{"injected failure", kind_};
}

void FailingStore::add(const store::Batch& batch, const store::AddCallback& done) {
  if (fails(Call::add)) {
    return store::report_batch(std::unexpected(injected()), batch.keys.size(), done);
  }
  inner_.add(batch, done);
}

store::StoreResult<std::optional<store::Totals>> FailingStore::get(std::string_view key) {
  if (fails(Call::get)) return std::unexpected(injected());
  return inner_.get(key);
}

store::StoreResult<std::string> FailingStore::salt(std::string_view day) {
  if (fails(Call::salt)) return std::unexpected(injected());
  return inner_.salt(day);
}

store::StoreResult<bool> FailingStore::forget_before(std::string_view day) {
  if (fails(Call::forget_before)) return std::unexpected(injected());
  return inner_.forget_before(day);
}

store::StoreResult<std::vector<store::DayRow>> FailingStore::history(std::string_view key,
                                                                     std::string_view from,
                                                                     std::string_view to) {
  if (fails(Call::owner)) return std::unexpected(injected());
  return inner_.history(key, from, to);
}

store::StoreResult<store::CounterPage> FailingStore::list(std::string_view prefix,
                                                          std::string_view after,
                                                          std::size_t limit) {
  if (fails(Call::owner)) return std::unexpected(injected());
  return inner_.list(prefix, after, limit);
}

store::StoreResult<void> FailingStore::set_totals(std::string_view key,
                                                  std::optional<std::int64_t> views,
                                                  std::optional<std::int64_t> visitors) {
  if (fails(Call::owner)) return std::unexpected(injected());
  return inner_.set_totals(key, views, visitors);
}

store::StoreResult<bool> FailingStore::remove(std::string_view key) {
  if (fails(Call::owner)) return std::unexpected(injected());
  return inner_.remove(key);
}

store::StoreResult<void> FailingStore::import(std::span<const store::CounterRecord> records,
                                              store::ImportMode mode) {
  if (fails(Call::owner)) return std::unexpected(injected());
  return inner_.import(records, mode);
}

store::StoreResult<void> FailingStore::dump(const DumpSink& each) {
  if (fails(Call::owner)) return std::unexpected(injected());
  return inner_.dump(each);
}

store::StoreResult<void> FailingStore::ping() {
  if (fails(Call::ping)) return std::unexpected(injected());
  return inner_.ping();
}

store::StoreResult<void> FailingStore::sync() {
  if (fails(Call::sync)) return std::unexpected(injected());
  return inner_.sync();
}

}  // namespace testing_support
