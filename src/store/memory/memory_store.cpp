// In-memory Store: sorted maps for totals, daily rows, visitor marks and salts.
#include "store/memory/memory_store.hpp"

#include "util/crypto.hpp"
#include "util/utc_day.hpp"

namespace store {

void MemoryStore::add(const Batch& batch, const AddCallback& done) {
  const std::string day(batch.day);
  for (std::size_t i = 0; i < batch.keys.size(); ++i) {
    const KeyHits& key = batch.keys[i];
    const std::string name(key.key);
    auto seen_at = [&](std::string_view visitor) -> std::optional<std::int64_t> {
      const auto it = marks_.find({day, name, std::string(visitor)});
      if (it == marks_.end()) return std::nullopt;
      return it->second;
    };
    auto answered = [&](std::string_view token) -> std::optional<Answered> {
      const auto it = answers_.find({name, std::string(token)});
      if (it == answers_.end() || it->second.expires <= batch.now) return std::nullopt;
      return Answered{.seen = Seen::replayed, .totals = it->second.totals};
    };
    Totals& totals = totals_[name];
    std::vector<HitResult> results = decide_hits(batch, key, totals, seen_at, answered);
    for (std::size_t h = 0; h < key.hits.size(); ++h) {
      const Hit& hit = key.hits[h];
      if (counted(results[h].seen) && !hit.visitor.empty()) {
        marks_[{day, name, std::string(hit.visitor)}] = batch.now;
      }
      if (remembered(hit, results[h].seen)) {
        answers_[{name, std::string(hit.idempotency_key)}] = {results[h].totals,
                                                              batch.now + kIdempotencySeconds};
      }
    }
    const Totals gain = gained(results);
    totals.views += gain.views;
    totals.visitors += gain.visitors;
    Totals& row = days_[{name, day}];
    row.views += gain.views;
    row.visitors += gain.visitors;
    done(i, std::move(results));
  }
}

StoreResult<std::optional<Totals>> MemoryStore::get(std::string_view key) {
  auto it = totals_.find(key);
  if (it == totals_.end()) return std::optional<Totals>{};
  return std::optional<Totals>{it->second};
}

StoreResult<std::string> MemoryStore::salt(std::string_view day) {
  auto it = salts_.find(day);
  if (it != salts_.end()) return it->second;
  std::optional<std::string> fresh = util::random_bytes(32);
  if (!fresh) return std::unexpected(StoreError{"no random bytes for the day's salt"});
  return salts_.emplace(std::string(day), std::move(*fresh)).first->second;
}

StoreResult<void> MemoryStore::forget_before(std::string_view day) {
  std::erase_if(salts_, [&](const auto& entry) { return entry.first < day; });
  std::erase_if(marks_, [&](const auto& entry) { return std::get<0>(entry.first) < day; });
  const std::int64_t start = util::day_start(day);
  std::erase_if(answers_, [&](const auto& entry) { return entry.second.expires <= start; });
  return {};
}

StoreResult<void> MemoryStore::ping() { return {}; }

Totals MemoryStore::day_row(std::string_view key, std::string_view day) const {
  const auto it = days_.find({std::string(key), std::string(day)});
  return it == days_.end() ? Totals{} : it->second;
}

}  // namespace store
