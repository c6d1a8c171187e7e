// FailingStore: the switch in front of the inner store.
#include "support/failing_store.hpp"

namespace testing_support {
namespace {
store::StoreError injected() { return store::StoreError{"injected failure"}; }
}  // namespace

void FailingStore::add(std::span<const store::Increment> batch, const store::AddCallback& done) {
  ++add_calls_;
  if (failing_) return store::report_batch(std::unexpected(injected()), batch.size(), done);
  inner_.add(batch, done);
}

store::StoreResult<std::optional<std::int64_t>> FailingStore::get(std::string_view key) {
  if (failing_) return std::unexpected(injected());
  return inner_.get(key);
}

store::StoreResult<void> FailingStore::ping() {
  if (failing_) return std::unexpected(injected());
  return inner_.ping();
}

}  // namespace testing_support
