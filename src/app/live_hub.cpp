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
  std::string client;        // whose it is, for the per-client bound
  std::uint64_t joined = 0;  // reads begun before it opened: its first event needs a later one
  bool greeted = false;      // has had its first event
};

struct Watched {
  std::vector<Subscriber> subscribers;
  std::uint64_t created = 0;          // reads begun before the entry was made
  std::optional<store::Totals> read;  // the latest totals read; nullopt: not read yet
  std::uint64_t read_number = 0;      // the read that said so
  std::optional<store::Totals> sent;  // what `event` says
  std::string event;                  // the last event sent, for streams that join
  std::uint64_t sequence = 0;         // the id of `event`
  std::chrono::steady_clock::time_point next_event;  // no change event to its streams before
  bool touched = false;                              // changed here since the last read began
};

using Delivery = std::pair<std::shared_ptr<EventStream>, std::string>;

// Lets the maps be searched with a string_view: touch() runs on every counted hit, and
// must not build a string to look a key up.
struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};
template <typename Value>
using KeyMap = std::unordered_map<std::string, Value, KeyHash, std::equal_to<>>;

}  // namespace

struct LiveHub::State {
  State(metrics::Registry& registry, Render renderer, const LiveOptions& options)
      : metrics(registry),
        render(std::move(renderer)),
        max_streams(options.max_streams),
        max_per_client(options.max_per_client) {}

  metrics::Registry& metrics;
  const Render render;
  const std::size_t max_streams;
  const std::size_t max_per_client;

  std::mutex mutex;
  std::condition_variable wake;
  KeyMap<Watched> watched;
  KeyMap<std::size_t> per_client;            // open streams by client
  std::atomic<std::size_t> watched_keys{0};  // watched.size(), without the lock
  std::size_t streams = 0;
  std::uint64_t reads_begun = 0;
  bool stopping = false;
  bool reading = false;    // a read task is out
  bool read_done = false;  // its results wait to be delivered
  bool wanted = false;     // a counter was touched: read when the pace allows
  bool greeting = false;   // a stream opened: read its counter at once
  std::chrono::steady_clock::time_point read_began;  // of the read out, or the last one

  void forget(const std::string& key, const EventStream* id) {
    std::lock_guard lock(mutex);
    const auto found = watched.find(key);
    if (found == watched.end()) return;
    auto& subscribers = found->second.subscribers;
    const auto gone = std::ranges::find(subscribers, id, &Subscriber::id);
    if (gone == subscribers.end()) return;
    if (const auto client = per_client.find(gone->client); client != per_client.end()) {
      if (--client->second == 0) per_client.erase(client);
    }
    subscribers.erase(gone);
    --streams;
    metrics.add_streams(-1);
    if (subscribers.empty()) {
      watched.erase(found);
      watched_keys = watched.size();
    }
  }

  // Under the lock, after the read begun at `began`: an event for every counter whose totals
  // changed since its streams were last told, from reads begun at least `pace` apart (a
  // change read sooner is read again later), and its first event for every stream a read
  // begun after it opened has answered for.
  std::vector<Delivery> deliveries(std::chrono::steady_clock::time_point began,
                                   std::chrono::milliseconds pace) {
    std::vector<Delivery> out;
    for (auto& [key, entry] : watched) {
      if (!entry.read) continue;
      const bool changed = !entry.sent || *entry.sent != *entry.read;
      const bool tell = changed && began >= entry.next_event;
      if (tell) {
        entry.sent = entry.read;
        entry.event = "id: " + std::to_string(++entry.sequence) +
                      "\ndata: " + render(key, *entry.read) + "\n\n";
        entry.next_event = began + pace;
      } else if (changed) {
        entry.touched = true;  // for the streams that have it, at the next paced read
        wanted = true;
      }
      std::string first_event;  // the totals read, for new streams, when the change waits
      for (Subscriber& subscriber : entry.subscribers) {
        if (subscriber.greeted ? !tell : entry.read_number <= subscriber.joined) continue;
        const bool first = !subscriber.greeted;
        subscriber.greeted = true;
        auto stream = subscriber.stream.lock();
        if (!stream) continue;
        if (first && changed && !tell) {
          if (first_event.empty()) {
            first_event = "id: " + std::to_string(entry.sequence) +
                          "\ndata: " + render(key, *entry.read) + "\n\n";
          }
          out.emplace_back(std::move(stream), first_event);
        } else {
          out.emplace_back(std::move(stream), entry.event);
        }
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

  // Where read number `number` of `keys` (`totals`, or why it failed) lands.
  void take(std::uint64_t number, const std::vector<std::string>& keys,
            const store::StoreResult<std::vector<std::optional<store::Totals>>>& totals) {
    {
      std::lock_guard lock(mutex);
      for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto found = watched.find(keys[i]);
        // A read begun before the entry was made may predate what its streams know.
        if (found == watched.end() || number <= found->second.created) continue;
        Watched& entry = found->second;
        if (totals) {
          entry.read = (*totals)[i].value_or(store::Totals{});
          entry.read_number = number;
        } else {
          entry.touched = true;  // read again at the next turn
          wanted = true;
        }
      }
      reading = false;
      read_done = true;
    }
    wake.notify_all();
  }
};

LiveHub::LiveHub(counting::WriteCombiner& counter, metrics::Registry& metrics, Render render,
                 LiveOptions options)
    : counter_(counter),
      options_(options),
      state_(std::make_shared<State>(metrics, std::move(render), options)) {
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

std::shared_ptr<EventStream> LiveHub::open(std::string key, std::string client) {
  State& state = *state_;
  std::unique_lock lock(state.mutex);
  const auto mine = state.per_client.find(client);
  if (state.streams >= state.max_streams ||
      (mine != state.per_client.end() && mine->second >= state.max_per_client)) {
    lock.unlock();
    state.metrics.count_refused_stream();
    return nullptr;
  }
  auto stream = std::make_shared<EventStream>(
      key, [state = state_](const EventStream& closed) { state->forget(closed.key(), &closed); });
  auto [found, made] = state.watched.try_emplace(key);
  if (made) found->second.created = state.reads_begun;
  found->second.subscribers.push_back({.id = stream.get(),
                                       .stream = stream,
                                       .client = client,
                                       .joined = state.reads_begun,
                                       .greeted = false});
  state.watched_keys = state.watched.size();
  ++state.per_client[std::move(client)];
  ++state.streams;
  state.metrics.add_streams(1);
  state.greeting = true;
  lock.unlock();
  state.wake.notify_all();
  return stream;
}

void LiveHub::touch(std::string_view key) {
  State& state = *state_;
  if (state.watched_keys.load(std::memory_order_relaxed) == 0) return;
  {
    std::lock_guard lock(state.mutex);
    const auto found = state.watched.find(key);
    if (found == state.watched.end() || found->second.touched) return;
    found->second.touched = true;
    if (state.wanted) return;  // the thread has been woken since the last read began
    state.wanted = true;
  }
  state.wake.notify_all();
}

std::string LiveHub::preamble() const {
  return "retry: " + std::to_string(options_.retry.count()) + "\n\n";
}

void LiveHub::run() {
  State& state = *state_;
  using clock = std::chrono::steady_clock;
  auto next_read = clock::now();  // reads begin at most once per flush interval
  auto next_poll = clock::now() + options_.poll_interval;
  auto next_heartbeat = clock::now() + options_.heartbeat;
  std::unique_lock lock(state.mutex);
  while (true) {
    state.wake.wait(lock, [&] { return state.stopping || !state.watched.empty(); });
    // A new stream's counter is read at once; a touched one when the last paced read began
    // a flush interval ago: a lone hit shows in milliseconds, a burst as one event per
    // interval.
    state.wake.wait_for(lock, options_.flush_interval, [&] {
      return state.stopping || state.read_done || (state.greeting && !state.reading) ||
             (state.wanted && !state.reading && clock::now() >= next_read);
    });
    if (state.stopping) return;
    std::vector<Delivery> out;
    if (state.read_done) {
      state.read_done = false;
      out = state.deliveries(state.read_began, options_.flush_interval);
    }
    const auto now = clock::now();
    if (now >= next_heartbeat) {
      next_heartbeat = now + options_.heartbeat;
      auto beats = state.heartbeats();
      std::ranges::move(beats, std::back_inserter(out));
    }
    std::vector<std::string> keys;
    std::uint64_t number = 0;
    const bool paced = now >= next_read;
    if (!state.reading && (paced || state.greeting)) {
      // Off the pace, only the counters of streams waiting for their first event.
      const bool poll = paced && now >= next_poll;
      if (poll) next_poll = now + options_.poll_interval;
      for (auto& [key, entry] : state.watched) {
        const bool ungreeted = std::ranges::any_of(
            entry.subscribers, [](const Subscriber& subscriber) { return !subscriber.greeted; });
        if (ungreeted || (paced && (poll || entry.touched))) keys.push_back(key);
        if (paced) entry.touched = false;
      }
      state.greeting = false;
      if (paced) state.wanted = false;
      if (!keys.empty()) {
        state.reading = true;
        number = ++state.reads_begun;
        state.read_began = now;
        if (paced) next_read = now + options_.flush_interval;
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
      counter_.read_with_store(
          [state = state_, number, keys = std::move(keys)](store::Store& store) {
            state->take(number, keys, store.get_many(keys));
          });
    }
    lock.lock();
  }
}

}  // namespace app
