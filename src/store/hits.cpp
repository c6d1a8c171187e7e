// The counting rules every store applies: new visitor, returning visitor or repeat.
#include <unordered_map>

#include "store/store.hpp"

namespace store {

std::vector<HitResult> decide_hits(
    const Batch& batch, const KeyHits& key, Totals before,
    const std::function<std::optional<std::int64_t>(std::string_view visitor)>& seen_at) {
  std::vector<HitResult> results;
  results.reserve(key.hits.size());
  std::unordered_map<std::string_view, std::int64_t> counted;  // earlier in this batch
  Totals totals = before;
  for (const Hit& hit : key.hits) {
    Seen seen = Seen::returning;
    if (!hit.visitor.empty()) {
      const auto earlier = counted.find(hit.visitor);
      const std::optional<std::int64_t> last =
          earlier != counted.end() ? std::optional(earlier->second) : seen_at(hit.visitor);
      if (!last) {
        seen = Seen::new_visitor;
      } else if (batch.now - *last < batch.repeat_window) {
        seen = Seen::repeat;
      }
      if (seen != Seen::repeat) counted[hit.visitor] = batch.now;
    }
    if (seen != Seen::repeat) ++totals.views;
    if (seen == Seen::new_visitor) ++totals.visitors;
    results.push_back({seen, totals});
  }
  return results;
}

Totals gained(std::span<const HitResult> results) {
  Totals sum;
  for (const HitResult& result : results) {
    if (result.seen != Seen::repeat) ++sum.views;
    if (result.seen == Seen::new_visitor) ++sum.visitors;
  }
  return sum;
}

}  // namespace store
