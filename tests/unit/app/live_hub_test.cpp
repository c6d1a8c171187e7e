// Live streams: EventStream's bound, wake-up and close hook; LiveHub's first event, the
// events after hits here (coalesced to one per flush interval), the poll that sees changes
// made elsewhere, heartbeats, the stream bound, and that a closed stream is forgotten.
#include "app/live_hub.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/memory/memory_store.hpp"
#include "support/failing_store.hpp"

namespace app {
namespace {

using namespace std::chrono_literals;

TEST(EventStream, WakesWhenBytesArriveAndHandsThemOverInOrder) {
  EventStream stream("home", [](const EventStream&) {});
  int wakes = 0;
  stream.push("a");
  stream.attach([&] { ++wakes; });
  EXPECT_EQ(wakes, 1);  // bytes were waiting
  stream.push("b");     // not woken again: the transport has not taken "a" yet
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(stream.take(), "ab");
  stream.push("c");
  EXPECT_EQ(wakes, 2);
  EXPECT_EQ(stream.take(), "c");
  EXPECT_EQ(stream.take(), "");
}

TEST(EventStream, AReaderTooFarBehindIsOverrunAndItsBytesDropped) {
  EventStream stream("home", [](const EventStream&) {});
  const std::string event(1000, 'x');
  for (std::size_t sent = 0; sent + event.size() <= EventStream::kMaxBuffered; sent += 1000) {
    stream.push(event);
  }
  EXPECT_FALSE(stream.overrun());
  stream.push(event);
  EXPECT_TRUE(stream.overrun());
  EXPECT_EQ(stream.take(), "");
  stream.push("more");
  EXPECT_EQ(stream.take(), "");
}

TEST(EventStream, ClosingDropsPushesAndRunsTheHookOnce) {
  int closed = 0;
  {
    EventStream stream("home", [&](const EventStream& which) {
      EXPECT_EQ(which.key(), "home");
      ++closed;
    });
    stream.close();
    stream.close();
    stream.push("late");
    EXPECT_EQ(stream.take(), "");
    EXPECT_TRUE(stream.closed());
  }
  EXPECT_EQ(closed, 1);  // not again when destroyed
  {
    EventStream dropped("x", [&](const EventStream&) { ++closed; });
  }
  EXPECT_EQ(closed, 2);  // destroyed without a close
}

// A stream's reader: collects what the hub pushes, and waits for it. What the wake-up uses
// is shared with it, since a push under way may call it once more after the reader is gone.
class Reader {
 public:
  explicit Reader(std::shared_ptr<EventStream> stream)
      : stream_(std::move(stream)), inbox_(std::make_shared<Inbox>()) {
    stream_->attach([inbox = inbox_, stream = stream_.get()] {
      std::lock_guard lock(inbox->mutex);
      inbox->received += stream->take();
      inbox->changed.notify_all();
    });
  }
  ~Reader() { stream_->close(); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  // Waits (up to 10 s) until what was received contains `text`; returns whether it did.
  bool wait_for(const std::string& text) {
    std::unique_lock lock(inbox_->mutex);
    return inbox_->changed.wait_for(
        lock, 10s, [&] { return inbox_->received.find(text) != std::string::npos; });
  }
  std::string received() {
    std::lock_guard lock(inbox_->mutex);
    return inbox_->received;
  }
  std::size_t events() {
    const std::string text = received();
    std::size_t n = 0;
    for (std::size_t at = text.find("id: "); at != std::string::npos;
         at = text.find("id: ", at + 1))
      ++n;
    return n;
  }

 private:
  struct Inbox {
    std::mutex mutex;
    std::condition_variable changed;
    std::string received;
  };
  std::shared_ptr<EventStream> stream_;
  std::shared_ptr<Inbox> inbox_;
};

class LiveHubTest : public ::testing::Test {
 protected:
  store::MemoryStore store_;
  testing_support::FailingStore failing_{store_};  // passes every call through until told
  metrics::Registry metrics_;
  counting::WriteCombiner counter_{failing_, metrics_, counting::CombinerOptions{}};

  static std::string render(std::string_view key, const store::Totals& totals) {
    return std::string(key) + "=" + std::to_string(totals.views);
  }
  LiveOptions options(std::size_t max_streams = 10) {
    return {.max_streams = max_streams,
            .flush_interval = 20ms,
            .poll_interval = 100ms,
            .heartbeat = 60s,
            .retry = 3000ms};
  }
  // Counts a view on `key` and waits until it is durable.
  void hit(LiveHub& hub, const std::string& key) {
    std::promise<void> done;
    counter_.hit(
        key,
        counting::Visitor{
            .client = "192.0.2.1", .user_agent = "test", .tracked = true, .idempotency_key = {}},
        [&](auto result) {
          ASSERT_TRUE(result.has_value());
          done.set_value();
        });
    done.get_future().wait();
    hub.touch(key);  // as App::count does
  }
  std::int64_t streams_metric() {
    const std::string text = metrics_.render();
    const auto at = text.find("\nvc_streams ");
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + 12));
  }
  void TearDown() override { counter_.stop(); }
};

TEST_F(LiveHubTest, AStreamStartsWithTheTotalsNowThenHearsOfEachChange) {
  LiveHub hub(counter_, metrics_, render, options());
  EXPECT_EQ(hub.preamble(), "retry: 3000\n\n");
  Reader reader(hub.open("home", "192.0.2.1"));
  ASSERT_TRUE(reader.wait_for("id: 1\ndata: home=0\n\n"));
  hit(hub, "home");
  ASSERT_TRUE(reader.wait_for("id: 2\ndata: home=1\n\n"));
  hit(hub, "home");
  ASSERT_TRUE(reader.wait_for("id: 3\ndata: home=2\n\n"));
  // A second stream on the counter starts with the last event; the first hears nothing new.
  Reader second(hub.open("home", "192.0.2.1"));
  ASSERT_TRUE(second.wait_for("id: 3\ndata: home=2\n\n"));
  EXPECT_EQ(reader.events(), 3u);
}

TEST_F(LiveHubTest, HitsFasterThanTheFlushIntervalAreCoalesced) {
  LiveHub hub(counter_, metrics_, render, options());
  Reader reader(hub.open("busy", "192.0.2.1"));
  ASSERT_TRUE(reader.wait_for("data: busy=0"));
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 300; ++i) hit(hub, "busy");
  ASSERT_TRUE(reader.wait_for("data: busy=300\n\n"));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  // One read per flush interval at most, so at most one event per interval (plus the first
  // and the one in flight when the hits began).
  EXPECT_LE(reader.events(), 2 + static_cast<std::size_t>(elapsed / 20ms) + 1);
  EXPECT_LT(reader.events(), 300u);
}

TEST_F(LiveHubTest, NewStreamsDoNotSpeedUpTheEventsOfOthers) {
  LiveHub hub(counter_, metrics_, render, options());
  Reader watching(hub.open("page", "192.0.2.1"));
  ASSERT_TRUE(watching.wait_for("data: page=0"));
  const auto started = std::chrono::steady_clock::now();
  for (int n = 1; n <= 100; ++n) {
    hit(hub, "page");
    Reader opened(hub.open("page", "192.0.2.2"));  // read at once, off the pace
    ASSERT_TRUE(opened.wait_for("data: page=" + std::to_string(n) + "\n"));
  }
  ASSERT_TRUE(watching.wait_for("data: page=100\n"));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  // The first stream's changes keep the pace: one per flush interval at most.
  EXPECT_LE(watching.events(), 2 + static_cast<std::size_t>(elapsed / 20ms) + 1);
  EXPECT_LT(watching.events(), 100u);
}

TEST_F(LiveHubTest, AStoreThatCannotReadDelaysEventsAndLosesNone) {
  LiveHub hub(counter_, metrics_, render, options());
  Reader reader(hub.open("home", "192.0.2.1"));
  ASSERT_TRUE(reader.wait_for("data: home=0"));
  failing_.set_failing(testing_support::FailingStore::Call::get, true);
  hit(hub, "home");  // counted (the store still writes), but its totals cannot be read
  Reader late(hub.open("home", "192.0.2.2"));
  const int failed_before = failing_.calls(testing_support::FailingStore::Call::get);
  // The hub keeps asking, at its pace, while nothing is sent.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (failing_.calls(testing_support::FailingStore::Call::get) < failed_before + 3) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the hub stopped reading";
    std::this_thread::yield();
  }
  EXPECT_EQ(reader.events(), 1u);
  EXPECT_EQ(late.events(), 0u);  // no first event from totals older than it
  failing_.set_failing(testing_support::FailingStore::Call::get, false);
  ASSERT_TRUE(reader.wait_for("data: home=1\n"));
  ASSERT_TRUE(late.wait_for("data: home=1\n"));
}

TEST_F(LiveHubTest, TheFirstEventOfANewCounterSaysZeroAndOtherCountersStayQuiet) {
  LiveHub hub(counter_, metrics_, render, options());
  Reader quiet(hub.open("quiet", "192.0.2.1"));
  Reader loud(hub.open("loud", "192.0.2.1"));
  ASSERT_TRUE(quiet.wait_for("data: quiet=0"));
  ASSERT_TRUE(loud.wait_for("data: loud=0"));
  hit(hub, "loud");
  ASSERT_TRUE(loud.wait_for("data: loud=1"));
  hit(hub, "loud");
  ASSERT_TRUE(loud.wait_for("data: loud=2"));
  EXPECT_EQ(quiet.events(), 1u);
}

TEST_F(LiveHubTest, AChangeMadeElsewhereShowsWithinAPollInterval) {
  LiveHub hub(counter_, metrics_, render, options());
  Reader reader(hub.open("shared", "192.0.2.1"));
  ASSERT_TRUE(reader.wait_for("data: shared=0"));
  // Another process of the fleet counts: this one is never told (no touch).
  std::promise<void> set;
  counter_.with_store([&](store::Store& store) {
    ASSERT_TRUE(store.set_totals("shared", 41, 7).has_value());
    set.set_value();
  });
  set.get_future().wait();
  ASSERT_TRUE(reader.wait_for("data: shared=41\n\n"));
}

TEST_F(LiveHubTest, HeartbeatsAreCommentsToEveryStream) {
  LiveOptions beating = options();
  beating.heartbeat = 30ms;
  LiveHub hub(counter_, metrics_, render, beating);
  Reader reader(hub.open("home", "192.0.2.1"));
  ASSERT_TRUE(reader.wait_for("data: home=0\n\n"));
  ASSERT_TRUE(reader.wait_for(":\n\n"));
}

TEST_F(LiveHubTest, OneClientGetsAtMostItsShare) {
  LiveOptions shared = options(10);
  shared.max_per_client = 2;
  LiveHub hub(counter_, metrics_, render, shared);
  auto first = hub.open("a", "198.51.100.7");
  auto second = hub.open("b", "198.51.100.7");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(hub.open("c", "198.51.100.7"), nullptr);
  EXPECT_NE(hub.open("c", "203.0.113.9"), nullptr);  // another client's room is its own
  first.reset();
  EXPECT_NE(hub.open("c", "198.51.100.7"), nullptr);
}

TEST_F(LiveHubTest, AStreamOpenedAfterAHitStartsWithIt) {
  LiveHub hub(counter_, metrics_, render, options());
  Reader watching(hub.open("page", "192.0.2.1"));
  ASSERT_TRUE(watching.wait_for("data: page=0"));
  for (int n = 1; n <= 20; ++n) {
    hit(hub, "page");  // the page's own hit, answered: its stream must not start before it
    Reader page(hub.open("page", "192.0.2.2"));
    ASSERT_TRUE(page.wait_for("data: page="));
    EXPECT_NE(page.received().find("data: page=" + std::to_string(n) + "\n"), std::string::npos)
        << page.received();
  }
}

TEST_F(LiveHubTest, StreamsAreBoundedAndAClosedOneIsForgottenAtOnce) {
  LiveHub hub(counter_, metrics_, render, options(2));
  auto first = hub.open("a", "192.0.2.1");
  auto second = hub.open("b", "192.0.2.1");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(hub.open("c", "192.0.2.1"), nullptr);
  EXPECT_EQ(streams_metric(), 2);
  EXPECT_NE(metrics_.render().find("\nvc_streams_refused_total 1\n"), std::string::npos);
  first->close();
  EXPECT_EQ(streams_metric(), 1);
  auto third = hub.open("c", "192.0.2.1");
  ASSERT_NE(third, nullptr);
  second.reset();  // destroyed without a close: forgotten as well
  third.reset();
  EXPECT_EQ(streams_metric(), 0);
  EXPECT_NE(hub.open("d", "192.0.2.1"), nullptr);
}

}  // namespace
}  // namespace app
