// Live counts for GET /stream/{key} (docs/http-api.md, "Live counts"): which counters are
// watched, by which streams, and what each stream was last sent.
//
// A thread of its own (vc-live) wakes every flush interval while anything is watched. It
// reads, in one task on the combiner's read path, the totals of the counters touched here
// since the last read (a hit or an owner's change in this process) and, every poll interval,
// of every watched counter (a store shared by a fleet changes without this process knowing,
// and so does a file changed by the CLI). A counter whose totals differ from what its
// streams were sent gets one event, to all of them. So a stream gets at most one event per
// flush interval whatever the hit rate, a hit here shows within about a flush interval, and
// a hit elsewhere in the fleet within a poll interval. One read task is out at a time; a
// slow store delays events, never piles up reads. A stream's first event comes from a read
// begun after it opened, at once; change events, at most one per counter per flush
// interval, whatever asks for reads.
//
// Bounded: at most max_streams streams, and max_per_client of one client address (open()
// refuses past them); per stream, what waits
// unsent is bounded by EventStream::kMaxBuffered; per watched counter, one totals and one
// rendered event. A stream the transport closes is forgotten at once, and a counter with no
// stream left. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "app/event_stream.hpp"
#include "counting/write_combiner.hpp"
#include "metrics/registry.hpp"
#include "store/store.hpp"

namespace app {

struct LiveOptions {
  std::size_t max_streams = 1000;
  std::size_t max_per_client = 100;  // open streams of one client address
  std::chrono::milliseconds flush_interval{250};
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds heartbeat{15'000};  // a comment, so proxies keep the connection
  std::chrono::milliseconds retry{3000};        // the `retry:` hint to reconnecting clients
};

class LiveHub {
 public:
  // An event's data: the JSON of GET /counters/{key} for these totals.
  using Render = std::function<std::string(std::string_view key, const store::Totals& totals)>;

  // `counter` and `metrics` must outlive the hub's thread (stop() or the destructor).
  LiveHub(counting::WriteCombiner& counter, metrics::Registry& metrics, Render render,
          LiveOptions options = {});
  ~LiveHub();
  LiveHub(const LiveHub&) = delete;
  LiveHub& operator=(const LiveHub&) = delete;

  // A new stream on `key` (decoded, valid) for `client` (its address), or nullptr when
  // max_streams are open, or max_per_client of this client's. Its first event, the totals
  // from a read begun after it opened (zeros for a counter that never counted, and so never
  // older than a hit its client saw answered), follows as soon as that read is done; then
  // one per change. Closing or destroying the stream forgets it.
  std::shared_ptr<EventStream> open(std::string key, std::string client);
  // Something changed `key` here: its streams hear of it after the next read.
  void touch(std::string_view key);
  // What a stream's body starts with: the reconnection hint.
  std::string preamble() const;
  // Ends the thread; open streams stay open but get nothing more. Idempotent.
  void stop();

  struct State;  // shared with the read tasks in flight and the streams' close hooks

 private:
  void run();

  counting::WriteCombiner& counter_;
  LiveOptions options_;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace app
