// LiveHub: the watched counters, the vc-live thread's reads and its deliveries.
#include "app/live_hub.hpp"

#include <algorithm>
#include <atomic>
#include <iterator>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "util/thread_name.hpp"

namespace app {
namespace {

struct Subscriber {
  const EventStream* id;  // to find it when it closes, when it can no longer be locked
  std::weak_ptr<EventStream> stream;
  bool greeted = false;  // has had its first event
};

struct Watched {
  std::vector<Subscriber> subscribers;
  std::optional<store::Totals> read;  // the latest totals read; nullopt: not read yet
  std::optional<store::Totals> sent;  // what `event` says
  std::string event;                  // the last event sent, for streams that join
  std::uint64_t sequence = 0;         // the id of `event`
  bool touched = false;               // changed here since the last read began
};

using Delivery = std::pair<std::shared_ptr<EventStream>, std::string>;

}  // namespace

struct LiveHub::State {
  State(metrics::Registry& registry, Render renderer, std::size_t bound)
      : metrics(registry), render(std::move(renderer)), max_streams(bound) {}

  metrics::Registry& metrics;
  const Render render;
  const std::size_t max_streams;

  std::mutex mutex;
  std::condition_variable wake;
  std::unordered_map<std::string, Watched> watched;
  std::atomic<std::size_t> watched_keys{0};  // watched.size(), read without the lock
  std::size_t streams = 0;
  bool stopping = false;
  bool reading = false;      // a read task is out
  bool read_done = false;    // its results wait to be delivered
  bool to_greet = false;     // a stream opened since the last delivery
  bool deliver_now = false;  // a stream joined a counter whose totals are known
  bool any_touched = false;  // some counter was touched since the last read began

  void forget(const std::string& key, const EventStream* id) {
    std::lock_guard lock(mutex);
    const auto found = watched.find(key);
    if (found == watched.end()) return;
    auto& subscribers = found->second.subscribers;
    const auto gone = std::ranges::find(subscribers, id, &Subscriber::id);
    if (gone == subscribers.end()) return;
    subscribers.erase(gone);
    --streams;
    metrics.add_streams(-1);
    if (subscribers.empty()) {
      watched.erase(found);
      watched_keys = watched.size();
    }
  }

  // Under the lock: an event for every counter whose totals changed since its streams were
  // last told, and the last event for every stream that has had none.
  std::vector<Delivery> deliveries() {
    std::vector<Delivery> out;
    for (auto& [key, entry] : watched) {
      if (!entry.read) continue;
      const bool changed = !entry.sent || *entry.sent != *entry.read;
      if (changed) {
        entry.sent = entry.read;
        entry.event = "id: " + std::to_string(++entry.sequence) +
                      "\ndata: " + render(key, *entry.read) + "\n\n";
      }
      for (Subscriber& subscriber : entry.subscribers) {
        // A stream's first event waits for a read that began after the counter's last change.
        if (subscriber.greeted ? !changed : entry.touched) continue;
        subscriber.greeted = true;
        if (auto stream = subscriber.stream.lock())
          out.emplace_back(std::move(stream), entry.event);
      }
    }
    return out;
  }

  // Under the lock: a comment to every stream.
  std::vector<Delivery> heartbeats() {
    std::vector<Delivery> out;
    for (auto& [key, entry] : watched) {
      for (Subscriber& subscriber : entry.subscribers) {
        if (auto stream = subscriber.stream.lock()) out.emplace_back(std::move(stream), ":\n\n");
      }
    }
    return out;
  }
};

LiveHub::LiveHub(counting::WriteCombiner& counter, metrics::Registry& metrics, Render render,
                 LiveOptions options)
    : counter_(counter),
      options_(options),
      state_(std::make_shared<State>(metrics, std::move(render), options.max_streams)) {
  metrics.set_max_streams(options.max_streams);
  thread_ = util::named_thread("vc-live", [this] { run(); });
}

LiveHub::~LiveHub() { stop(); }

void LiveHub::stop() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<EventStream> LiveHub::open(std::string key) {
  State& state = *state_;
  std::unique_lock lock(state.mutex);
  if (state.streams >= state.max_streams) {
    lock.unlock();
    state.metrics.count_refused_stream();
    return nullptr;
  }
  auto stream = std::make_shared<EventStream>(
      key, [state = state_](const EventStream& closed) { state->forget(closed.key(), &closed); });
  Watched& entry = state.watched[key];
  entry.subscribers.push_back({stream.get(), stream, false});
  state.watched_keys = state.watched.size();
  ++state.streams;
  state.metrics.add_streams(1);
  // A counter changed since its last read is read again first: a stream opened just after
  // a hit (the page that made it) must not start with the totals from before it.
  if (entry.read && !entry.touched) {
    state.deliver_now = true;
  } else {
    state.to_greet = true;
  }
  lock.unlock();
  state.wake.notify_all();
  return stream;
}

void LiveHub::touch(std::string_view key) {
  State& state = *state_;
  if (state.watched_keys.load(std::memory_order_relaxed) == 0) return;
  {
    std::lock_guard lock(state.mutex);
    const auto found = state.watched.find(std::string(key));
    if (found == state.watched.end() || found->second.touched) return;
    found->second.touched = true;
    if (state.any_touched) return;  // the thread has been woken since the last read began
    state.any_touched = true;
  }
  state.wake.notify_all();
}

std::string LiveHub::preamble() const {
  return "retry: " + std::to_string(options_.retry.count()) + "\n\n";
}

void LiveHub::run() {
  State& state = *state_;
  using clock = std::chrono::steady_clock;
  auto next_read = clock::now();  // reads start at most once per flush interval
  auto next_poll = clock::now() + options_.poll_interval;
  auto next_heartbeat = clock::now() + options_.heartbeat;
  std::unique_lock lock(state.mutex);
  while (true) {
    state.wake.wait(lock, [&] { return state.stopping || !state.watched.empty(); });
    // A touch read at once when the last read began a flush interval ago: a lone hit shows
    // in milliseconds, a burst as one event per interval.
    state.wake.wait_for(lock, options_.flush_interval, [&] {
      return state.stopping || state.read_done || state.deliver_now ||
             (state.to_greet && !state.reading) ||
             (state.any_touched && !state.reading && clock::now() >= next_read);
    });
    if (state.stopping) return;
    std::vector<Delivery> out;
    if (state.read_done || state.deliver_now) {
      state.read_done = false;
      state.deliver_now = false;
      out = state.deliveries();
    }
    const auto now = clock::now();
    if (now >= next_heartbeat) {
      next_heartbeat = now + options_.heartbeat;
      auto beats = state.heartbeats();
      std::ranges::move(beats, std::back_inserter(out));
    }
    // A new stream on an unread counter is read at once; otherwise reads keep the pace of
    // the flush interval.
    std::vector<std::string> keys;
    if (!state.reading && (now >= next_read || state.to_greet)) {
      const bool poll = now >= next_poll;
      if (poll) next_poll = now + options_.poll_interval;
      for (auto& [key, entry] : state.watched) {
        const bool ungreeted =
            std::ranges::any_of(entry.subscribers, [](const Subscriber& s) { return !s.greeted; });
        if (poll || entry.touched || !entry.read || ungreeted) keys.push_back(key);
        entry.touched = false;
      }
      state.to_greet = false;
      state.any_touched = false;
      if (!keys.empty()) {
        state.reading = true;
        next_read = now + options_.flush_interval;
      }
    }
    lock.unlock();
    std::uint64_t events = 0;
    for (auto& [stream, bytes] : out) {
      if (bytes.starts_with("id:")) ++events;
      stream->push(bytes);
    }
    state.metrics.count_stream_events(events);
    out.clear();  // a stream released here may close, which takes the lock
    if (!keys.empty()) {
      counter_.read_with_store([state = state_, keys = std::move(keys)](store::Store& store) {
        auto totals = store.get_many(keys);  // on a failure, nothing changes
        {
          std::lock_guard done(state->mutex);
          for (std::size_t i = 0; i < keys.size(); ++i) {
            const auto found = state->watched.find(keys[i]);
            if (found != state->watched.end() && totals) {
              found->second.read = (*totals)[i].value_or(store::Totals{});
            }
          }
          state->reading = false;
          state->read_done = true;
        }
        state->wake.notify_all();
      });
    }
    lock.lock();
  }
}

}  // namespace app
