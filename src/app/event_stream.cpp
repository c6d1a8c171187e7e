// EventStream: a bounded byte queue with a wake-up.
#include "app/event_stream.hpp"

#include <utility>

namespace app {

void EventStream::push(std::string_view bytes) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    if (closed_ || overrun_) return;
    const bool was_empty = waiting_.empty();
    if (waiting_.size() + bytes.size() > kMaxBuffered) {
      overrun_ = true;
      std::string().swap(waiting_);
    } else {
      waiting_.append(bytes);
      if (!was_empty) return;  // the transport has been woken for what waits already
    }
    wake = wake_;
  }
  if (wake) wake();
}

void EventStream::attach(std::function<void()> wake) {
  bool now = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    wake_ = wake;
    now = !waiting_.empty() || overrun_;
  }
  if (now) wake();
}

std::string EventStream::take() {
  std::lock_guard lock(mutex_);
  std::string out;
  out.swap(waiting_);
  return out;
}

bool EventStream::overrun() const {
  std::lock_guard lock(mutex_);
  return overrun_;
}

void EventStream::close() {
  std::function<void()> released;
  std::function<void(const EventStream&)> on_close;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    std::string().swap(waiting_);
    released.swap(wake_);
    on_close.swap(on_close_);
  }
  if (on_close) on_close(*this);  // outside the lock: the hub locks its own state, then streams
}

bool EventStream::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace app
