// Process metrics, rendered in the Prometheus text format for GET /metrics.
// Thread-safe: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace metrics {

// A cumulative histogram with fixed upper bounds (plus +Inf).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  void render(std::string& out, std::string_view name, std::string_view help) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<std::uint64_t>> buckets_;  // one per bound, then +Inf
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Why a counting request counted nothing although it was answered 200.
enum class Ignored : std::uint8_t { bot, repeat, dnt, idempotent_replay, count };

class Registry {
 public:
  Registry();

  // `route` must outlive the registry (a string literal).
  void count_request(std::string_view route, int status);
  void count_hits(std::uint64_t n) { hits_ += n; }
  // Hits answered 200 that counted nothing, by why (hits_ignored_total{reason}).
  void count_ignored(Ignored reason, std::uint64_t n = 1) {
    ignored_[static_cast<std::size_t>(reason)] += n;
  }
  void count_failed_batch() { failed_batches_ += 1; }
  // Hits answered 503 whose write may have been applied (hits_outcome_unknown_total).
  void count_outcome_unknown(std::uint64_t n) { outcome_unknown_ += n; }
  // Hits and reads refused at once because the pending bound was reached.
  void count_shed() { shed_ += 1; }
  // Hits answered 503 because they were not sent to the store within --queue-timeout-ms.
  void count_expired(std::uint64_t n) { expired_ += n; }
  // Hits refused because their counter would be a new one past --max-counters.
  void count_refused_new_counter(std::uint64_t n) { refused_new_counter_ += n; }
  // The store stopped writing after a failed sync (until restart).
  void set_store_halted() { store_halted_ = true; }
  // Whether the store's last write failed (a full disk), until one succeeds.
  void set_write_failing(bool failing) { write_failing_ = failing; }
  // Connections closed at accept because the connection bound was reached.
  void count_refused_connection() { refused_connections_ += 1; }
  // A write batch as it goes to the store: its distinct counters and its hits.
  void observe_batch(std::size_t keys, std::uint64_t hits);
  // Seconds from a batch's start until one counter's write in it was durable.
  void observe_commit(double seconds) { commit_seconds_.observe(seconds); }
  // One sync of a store that defers it (SQLite --sync full): how long it took and how many
  // hits it made durable (the group commit's size).
  void observe_sync(double seconds, std::uint64_t hits);

  // Gauges: the bounds and how much of them is in use.
  void set_bounds(std::uint64_t max_pending, std::uint64_t max_connections) {
    max_pending_ = max_pending;
    max_connections_ = max_connections;
  }
  void add_pending(std::int64_t delta) { pending_ += delta; }
  void add_connections(std::int64_t delta) { connections_ += delta; }

  // Live streams (GET /stream/{key}): open now and their bound (--max-streams), refused past
  // it (or past a client's share), dropped for falling behind, and the events sent.
  void set_max_streams(std::uint64_t max_streams) { max_streams_ = max_streams; }
  void add_streams(std::int64_t delta) { streams_ += delta; }
  void count_refused_stream() { refused_streams_ += 1; }
  void count_dropped_stream() { dropped_streams_ += 1; }
  void count_stream_events(std::uint64_t n) { stream_events_ += n; }

  std::string render() const;

 private:
  mutable std::mutex requests_mutex_;
  std::map<std::pair<std::string_view, int>, std::uint64_t> requests_;
  std::atomic<std::uint64_t> hits_{0};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Ignored::count)> ignored_{};
  std::atomic<std::uint64_t> failed_batches_{0};
  std::atomic<std::uint64_t> outcome_unknown_{0};
  std::atomic<std::uint64_t> shed_{0};
  std::atomic<std::uint64_t> expired_{0};
  std::atomic<std::uint64_t> refused_new_counter_{0};
  std::atomic<bool> store_halted_{false};
  std::atomic<bool> write_failing_{false};
  std::atomic<std::uint64_t> refused_connections_{0};
  std::atomic<std::uint64_t> max_pending_{0};
  std::atomic<std::uint64_t> max_connections_{0};
  std::atomic<std::int64_t> pending_{0};
  std::atomic<std::int64_t> connections_{0};
  std::atomic<std::uint64_t> max_streams_{0};
  std::atomic<std::int64_t> streams_{0};
  std::atomic<std::uint64_t> refused_streams_{0};
  std::atomic<std::uint64_t> dropped_streams_{0};
  std::atomic<std::uint64_t> stream_events_{0};
  Histogram batch_hits_;
  Histogram batch_keys_;
  Histogram commit_seconds_;
  Histogram sync_seconds_;
  Histogram sync_hits_;
};

}  // namespace metrics
