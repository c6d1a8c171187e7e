// Process metrics, rendered in the Prometheus text format for GET /metrics.
// Thread-safe: every method may be called from any thread.
#pragma once

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

class Registry {
 public:
  Registry();

  // `route` must outlive the registry (a string literal).
  void count_request(std::string_view route, int status);
  void count_hits(std::uint64_t n) { hits_ += n; }
  void count_failed_batch() { failed_batches_ += 1; }
  void observe_batch(std::size_t keys, std::uint64_t hits, double commit_seconds);

  std::string render() const;

 private:
  mutable std::mutex requests_mutex_;
  std::map<std::pair<std::string_view, int>, std::uint64_t> requests_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> failed_batches_{0};
  Histogram batch_hits_;
  Histogram batch_keys_;
  Histogram commit_seconds_;
};

}  // namespace metrics
