// The counting rules every store applies: new visitor, returning visitor or repeat.
#include <unordered_map>

#include "store/store.hpp"

namespace store {

std::vector<HitResult> decide_hits(const Batch& batch, const KeyHits& key, Totals before,
                                   const SeenAt& seen_at, const AnsweredOf& answered) {
  std::vector<HitResult> results;
  results.reserve(key.hits.size());
  std::unordered_map<std::string_view, std::int64_t> counted_now;  // visitors, this batch
  std::unordered_map<std::string_view, Answered> answered_now;     // keys, this batch
  Totals totals = before;
  for (const Hit& hit : key.hits) {
    if (!hit.idempotency_key.empty()) {
      const auto earlier = answered_now.find(hit.idempotency_key);
      std::optional<Answered> known;
      if (earlier != answered_now.end()) {
        known = Answered{.seen = Seen::replayed, .totals = earlier->second.totals};
      } else if (answered) {
        known = answered(hit.idempotency_key);
      }
      if (known) {
        results.push_back({known->seen, known->totals});
        continue;
      }
    }
    Seen seen = Seen::returning;
    if (!hit.visitor.empty()) {
      const auto earlier = counted_now.find(hit.visitor);
      const std::optional<std::int64_t> last =
          earlier != counted_now.end() ? std::optional(earlier->second) : seen_at(hit.visitor);
      if (!last) {
        seen = Seen::new_visitor;
      } else if (batch.repeat_window > 0 && batch.now - *last < batch.repeat_window) {
        // (Without a window nothing repeats, even a mark a little ahead of this batch's
        // clock: another process's, or this one's before its clock was set back.)
        seen = Seen::repeat;
      }
      if (seen != Seen::repeat) counted_now[hit.visitor] = batch.now;
    }
    if (counted(seen)) ++totals.views;
    if (seen == Seen::new_visitor) ++totals.visitors;
    results.push_back({seen, totals});
    if (!hit.idempotency_key.empty()) answered_now[hit.idempotency_key] = {seen, totals};
  }
  return results;
}

Totals gained(std::span<const HitResult> results) {
  Totals sum;
  for (const HitResult& result : results) {
    if (counted(result.seen)) ++sum.views;
    if (result.seen == Seen::new_visitor) ++sum.visitors;
  }
  return sum;
}

}  // namespace store
