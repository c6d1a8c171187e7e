// A Store that passes every call to an inner store: the base of test stores that change or
// watch only a few calls.
#pragma once

#include "store/store.hpp"

namespace testing_support {

class ForwardingStore : public store::Store {
 public:
  explicit ForwardingStore(store::Store& inner) : inner_(inner) {}

  void add(const store::Batch& batch, const store::AddCallback& done) override {
    inner_.add(batch, done);
  }
  store::StoreResult<std::optional<store::Totals>> get(std::string_view key) override {
    return inner_.get(key);
  }
  store::StoreResult<std::string> salt(std::string_view day) override { return inner_.salt(day); }
  store::StoreResult<bool> forget_before(std::string_view day) override {
    return inner_.forget_before(day);
  }
  store::StoreResult<std::vector<store::DayRow>> history(std::string_view key,
                                                         std::string_view from,
                                                         std::string_view to) override {
    return inner_.history(key, from, to);
  }
  store::StoreResult<store::CounterPage> list(std::string_view prefix, std::string_view after,
                                              std::size_t limit) override {
    return inner_.list(prefix, after, limit);
  }
  store::StoreResult<void> set_totals(std::string_view key, std::optional<std::int64_t> views,
                                      std::optional<std::int64_t> visitors) override {
    return inner_.set_totals(key, views, visitors);
  }
  store::StoreResult<bool> remove(std::string_view key) override { return inner_.remove(key); }
  store::StoreResult<void> import(std::span<const store::CounterRecord> records,
                                  store::ImportMode mode) override {
    return inner_.import(records, mode);
  }
  store::StoreResult<void> dump(const DumpSink& each) override { return inner_.dump(each); }
  store::StoreResult<void> ping() override { return inner_.ping(); }
  bool defers_sync() const override { return inner_.defers_sync(); }
  store::StoreResult<void> sync() override { return inner_.sync(); }

 protected:
  store::Store& inner_;
};

}  // namespace testing_support
