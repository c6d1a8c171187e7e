// An in-memory Store for tests and `--store memory:`. Nothing survives the process.
#pragma once

#include <map>
#include <string>

#include "store/store.hpp"

namespace store {

class MemoryStore final : public Store {
 public:
  void add(std::span<const Increment> batch, const AddCallback& done) override;
  StoreResult<std::optional<std::int64_t>> get(std::string_view key) override;
  StoreResult<void> ping() override;

 private:
  std::map<std::string, std::int64_t, std::less<>> counts_;
};

}  // namespace store
