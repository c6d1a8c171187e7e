// Metrics registry: atomics for the hot counters, one small lock for the request table.
#include "metrics/registry.hpp"

#include <charconv>

namespace metrics {
namespace {

std::string number(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : "NaN";
}

std::string line(std::string_view name, std::string_view labels, const std::string& value) {
  std::string out(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  return out.append(" ").append(value).append("\n");
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// The bounds of the histograms that count hits, and of those that time a store's work.
std::vector<double> hit_bounds() { return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}; }
std::vector<double> second_bounds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(bounds_.size() + 1) {}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

void Histogram::render(std::string& out, std::string_view name, std::string_view help) const {
  header(out, name, "histogram", help);
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    const std::string le = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
    out += line(bucket, "le=\"" + le + "\"", std::to_string(cumulative));
  }
  out += line(std::string(name) + "_sum", "", number(sum_.load()));
  out += line(std::string(name) + "_count", "", std::to_string(count_.load()));
}

Registry::Registry()
    : batch_hits_(hit_bounds()),
      batch_keys_({1, 2, 4, 8, 16, 64, 256}),
      commit_seconds_(second_bounds()),
      sync_seconds_(second_bounds()),
      sync_hits_(hit_bounds()) {}

void Registry::count_request(std::string_view route, int status) {
  std::lock_guard lock(requests_mutex_);
  ++requests_[{route, status}];
}

void Registry::observe_sync(double seconds, std::uint64_t hits) {
  sync_seconds_.observe(seconds);
  sync_hits_.observe(static_cast<double>(hits));
}

void Registry::observe_batch(std::size_t keys, std::uint64_t hits) {
  batch_keys_.observe(static_cast<double>(keys));
  batch_hits_.observe(static_cast<double>(hits));
}

std::string Registry::render() const {
  std::string out;
  header(out, "vc_http_requests_total", "counter", "Requests answered, by route and status.");
  {
    std::lock_guard lock(requests_mutex_);
    for (const auto& [labels, n] : requests_) {
      const std::string label_text = "route=\"" + std::string(labels.first) + "\",status=\"" +
                                     std::to_string(labels.second) + "\"";
      out += line("vc_http_requests_total", label_text, std::to_string(n));
    }
  }
  header(out, "vc_hits_total", "counter", "Hits counted durably.");
  out += line("vc_hits_total", "", std::to_string(hits_.load()));
  header(out, "vc_hits_ignored_total", "counter",
         "Counting requests answered 200 that counted nothing, by reason.");
  constexpr std::string_view kReasons[] = {"bot", "repeat", "dnt", "idempotent_replay"};
  static_assert(std::size(kReasons) == static_cast<std::size_t>(Ignored::count));
  for (std::size_t i = 0; i < std::size(kReasons); ++i) {
    out += line("vc_hits_ignored_total", "reason=\"" + std::string(kReasons[i]) + "\"",
                std::to_string(ignored_[i].load()));
  }
  header(out, "vc_failed_batches_total", "counter", "Write batches the store refused.");
  out += line("vc_failed_batches_total", "", std::to_string(failed_batches_.load()));
  header(out, "vc_hits_outcome_unknown_total", "counter",
         "Hits answered 503 whose write may have been applied.");
  out += line("vc_hits_outcome_unknown_total", "", std::to_string(outcome_unknown_.load()));
  header(out, "vc_shed_total", "counter", "Hits and reads refused at once: pending bound reached.");
  out += line("vc_shed_total", "", std::to_string(shed_.load()));
  header(out, "vc_refused_connections_total", "counter",
         "Connections closed at once: connection bound reached.");
  out += line("vc_refused_connections_total", "", std::to_string(refused_connections_.load()));
  header(out, "vc_queue_timeouts_total", "counter",
         "Hits refused, never counted, and reads refused: not sent to the store within "
         "--queue-timeout-ms.");
  out += line("vc_queue_timeouts_total", "", std::to_string(expired_.load()));
  header(out, "vc_new_counters_refused_total", "counter",
         "Hits refused, never counted: a new counter past --max-counters.");
  out += line("vc_new_counters_refused_total", "", std::to_string(refused_new_counter_.load()));
  header(out, "vc_store_halted", "gauge",
         "1 once a sync of the store failed: nothing is counted until the server restarts.");
  out += line("vc_store_halted", "", store_halted_.load() ? "1" : "0");
  header(out, "vc_store_write_failing", "gauge",
         "1 while the store's last write failed (a full disk), until a write succeeds.");
  out += line("vc_store_write_failing", "", write_failing_.load() ? "1" : "0");
  header(out, "vc_pending", "gauge", "Hits and reads accepted and not yet answered.");
  out += line("vc_pending", "", std::to_string(pending_.load()));
  header(out, "vc_max_pending", "gauge", "The bound on vc_pending (--max-pending).");
  out += line("vc_max_pending", "", std::to_string(max_pending_.load()));
  header(out, "vc_connections", "gauge", "Open client connections.");
  out += line("vc_connections", "", std::to_string(connections_.load()));
  header(out, "vc_max_connections", "gauge", "The bound on vc_connections (--max-connections).");
  out += line("vc_max_connections", "", std::to_string(max_connections_.load()));
  header(out, "vc_streams", "gauge", "Open live streams (GET /stream/{key}).");
  out += line("vc_streams", "", std::to_string(streams_.load()));
  header(out, "vc_max_streams", "gauge", "The bound on vc_streams (--max-streams).");
  out += line("vc_max_streams", "", std::to_string(max_streams_.load()));
  header(out, "vc_streams_refused_total", "counter",
         "Live streams refused: --max-streams open, or a client's share.");
  out += line("vc_streams_refused_total", "", std::to_string(refused_streams_.load()));
  header(out, "vc_streams_dropped_total", "counter",
         "Live streams closed because their reader fell behind: 64 KiB waiting, or a write "
         "waiting longer than --read-timeout-ms.");
  out += line("vc_streams_dropped_total", "", std::to_string(dropped_streams_.load()));
  header(out, "vc_stream_events_total", "counter", "Events sent on live streams.");
  out += line("vc_stream_events_total", "", std::to_string(stream_events_.load()));
  batch_hits_.render(out, "vc_write_batch_hits", "Hits merged into one store write batch.");
  batch_keys_.render(out, "vc_write_batch_keys", "Distinct counters in one store write batch.");
  commit_seconds_.render(out, "vc_store_commit_seconds",
                         "Seconds from a write batch's start until a counter's write in it was "
                         "durable, one observation per counter written.");
  sync_seconds_.render(out, "vc_store_sync_seconds",
                       "Seconds one sync of the store's log took (SQLite with --sync full).");
  sync_hits_.render(out, "vc_store_sync_hits", "Hits one sync of the store's log made durable.");
  return out;
}

}  // namespace metrics
