// The body of a Server-Sent Events answer (GET /stream/{key}) after its head: bytes the live
// hub puts in from its thread, which the transport takes out and writes. Bounded: a reader
// that falls behind by more than kMaxBuffered bytes is overrun, and the transport drops it,
// so a stalled client costs a fixed amount of memory whatever the event rate. Thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace app {

class EventStream {
 public:
  // What may wait unsent: at a few events a second of ~80 bytes, minutes of a stalled reader
  // (whose socket the transport's write deadline closes first).
  static constexpr std::size_t kMaxBuffered = 64 * 1024;

  // `on_close` runs once, with this stream, when it is closed or destroyed (the hub forgets
  // it then).
  EventStream(std::string key, std::function<void(const EventStream&)> on_close)
      : key_(std::move(key)), on_close_(std::move(on_close)) {}
  ~EventStream() { close(); }
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // The counter this stream watches (decoded).
  const std::string& key() const { return key_; }

  // Appends `bytes` (whole events or comments) for the transport. Calls the wake-up set by
  // attach() when nothing was waiting before, outside the stream's lock. Past kMaxBuffered,
  // the waiting bytes are dropped and the stream is overrun for good. Nothing after close().
  void push(std::string_view bytes);

  // The transport's side: `wake` is called (on the pushing thread; it must only post) when
  // bytes arrive with none waiting; it is called at once when some already wait. A push
  // under way as the stream closes may still call it once: it must hold what it uses.
  void attach(std::function<void()> wake);
  // Everything waiting, in order; empty when nothing is.
  std::string take();
  // True once the reader fell kMaxBuffered behind: the transport must close the connection.
  bool overrun() const;
  // The connection ended: pushes are dropped, the wake-up is released (it may hold the
  // session) and `on_close` runs. Idempotent.
  void close();
  bool closed() const;

 private:
  const std::string key_;
  mutable std::mutex mutex_;
  std::string waiting_;
  std::function<void()> wake_;
  std::function<void(const EventStream&)> on_close_;
  bool overrun_ = false;
  bool closed_ = false;
};

}  // namespace app
