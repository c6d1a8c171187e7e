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
    if (!totals_.contains(name) &&
        (!batch.create_counters ||
         (batch.max_counters > 0 && totals_.size() >= batch.max_counters))) {
      done(i, std::unexpected(StoreError{"too many counters", StoreError::Kind::refused}));
      continue;
    }
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
    if (batch.history) {
      Totals& row = days_[{name, day}];
      row.views += gain.views;
      row.visitors += gain.visitors;
    }
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

StoreResult<bool> MemoryStore::forget_before(std::string_view day) {
  std::erase_if(salts_, [&](const auto& entry) { return entry.first < day; });
  std::erase_if(marks_, [&](const auto& entry) { return std::get<0>(entry.first) < day; });
  const std::int64_t start = util::day_start(day);
  std::erase_if(answers_, [&](const auto& entry) { return entry.second.expires <= start; });
  if (keep_days_ > 0) {
    const std::string first_kept = util::days_before(day, keep_days_ - 1);
    std::erase_if(days_, [&](const auto& entry) { return entry.first.second < first_kept; });
  }
  return true;
}

std::expected<void, std::string> MemoryStore::keep_days(int days) {
  keep_days_ = days;
  return {};
}

StoreResult<std::vector<DayRow>> MemoryStore::history(std::string_view key, std::string_view from,
                                                      std::string_view to) {
  std::vector<DayRow> rows;
  const std::string name(key);
  for (auto it = days_.lower_bound({name, std::string(from)});
       it != days_.end() && it->first.first == name && it->first.second <= to; ++it) {
    rows.push_back({it->first.second, it->second});
  }
  return rows;
}

StoreResult<CounterPage> MemoryStore::list(std::string_view prefix, std::string_view after,
                                           std::size_t limit) {
  CounterPage page;
  auto it = after < prefix ? totals_.lower_bound(prefix) : totals_.upper_bound(after);
  for (; it != totals_.end() && it->first.starts_with(prefix); ++it) {
    if (page.counters.size() == limit) {
      if (page.counters.empty()) break;
      page.next = page.counters.back().key;
      break;
    }
    std::string last_day;
    const auto day = days_.lower_bound({it->first, "~"});  // past every "YYYY-MM-DD"
    if (day != days_.begin() && std::prev(day)->first.first == it->first) {
      last_day = std::prev(day)->first.second;
    }
    page.counters.push_back({it->first, it->second, std::move(last_day)});
  }
  return page;
}

StoreResult<void> MemoryStore::set_totals(std::string_view key, std::optional<std::int64_t> views,
                                          std::optional<std::int64_t> visitors) {
  Totals& totals = totals_[std::string(key)];
  if (views) totals.views = *views;
  if (visitors) totals.visitors = *visitors;
  return {};
}

StoreResult<bool> MemoryStore::remove(std::string_view key) {
  const bool existed = totals_.erase(std::string(key)) > 0;
  std::erase_if(days_, [&](const auto& entry) { return entry.first.first == key; });
  std::erase_if(marks_, [&](const auto& entry) { return std::get<1>(entry.first) == key; });
  std::erase_if(answers_, [&](const auto& entry) { return entry.first.first == key; });
  return existed;
}

StoreResult<void> MemoryStore::import(std::span<const CounterRecord> records, ImportMode mode) {
  const auto apply = [mode](Totals& into, const Totals& from) {
    if (mode == ImportMode::set) into = Totals{};
    into.views += from.views;
    into.visitors += from.visitors;
  };
  for (const CounterRecord& record : records) {
    apply(totals_[record.key], record.totals);
    for (const DayRow& row : record.days) apply(days_[{record.key, row.day}], row.totals);
  }
  return {};
}

StoreResult<void> MemoryStore::dump(const DumpSink& each) {
  for (const auto& [key, totals] : totals_) {
    CounterRecord record{.key = key, .totals = totals, .days = {}};
    for (auto it = days_.lower_bound({key, ""}); it != days_.end() && it->first.first == key;
         ++it) {
      record.days.push_back({it->first.second, it->second});
    }
    each(std::move(record), totals_.size());
  }
  return {};
}

StoreResult<void> MemoryStore::ping() { return {}; }

Totals MemoryStore::day_row(std::string_view key, std::string_view day) const {
  const auto it = days_.find({std::string(key), std::string(day)});
  return it == days_.end() ? Totals{} : it->second;
}

}  // namespace store
