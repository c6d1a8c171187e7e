// One client connection: read a request, hand it to the app, write the answer, repeat
// while keep-alive. A session's handlers never run concurrently: one thread runs the loop,
// or the session has its own strand.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_set>

#include "app/app.hpp"
#include "http/answer_inbox.hpp"
#include "http/server.hpp"

namespace http {

// The sockets of the sessions alive, so that a shutdown can end their reads from another
// thread: shutdown(2) is a system call on a descriptor, safe beside the session's own
// operations, and a socket leaves the set before it is closed, so a descriptor number in it
// is never one the system has handed out again. Thread-safe.
class OpenSockets {
 public:
  void add(int fd);
  void remove(int fd);
  // shutdown(fd, how) on each: SHUT_RD ends an idle connection's wait (the session reads
  // end-of-stream and closes), and lets a request already received be read and answered.
  void shut_down(int how);

 private:
  std::mutex mutex_;
  std::unordered_set<int> fds_;
};

// What every session shares with the server. Outlives all sessions.
struct SessionContext {
  app::App* app;  // set before the first session starts
  ServerOptions options;
  std::atomic<bool> draining{false};
  std::atomic<int> in_flight{0};
  std::atomic<std::size_t> connections{0};  // sessions alive
  // Called while draining, after the last request finished or the last session went.
  std::function<void()> on_drained;
  AnswerInbox& inbox;  // answers coming back from the counter
  OpenSockets sockets;
};

class session : public std::enable_shared_from_this<session> {
 public:
  // Counts itself in context.connections (and the app's metrics) until destroyed.
  // `operator_listener`: accepted by the operator's listener (app::Request says so).
  session(boost::asio::ip::tcp::socket&& socket, SessionContext& context, bool operator_listener);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  void start();

 private:
  using request_parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  // Waits for the next request. Idle, a connection holds no buffer and no parser, only a
  // wait for bytes and its deadline: 0.92 KiB per idle connection, where a pending Beast
  // read held 3.2 KiB (bench/idle_bench.py).
  void do_read();
  void wait_readable();
  void on_readable(boost::beast::error_code ec);
  // Parses what has arrived, without blocking (the socket is non-blocking); waits again
  // when the request is not complete yet.
  void read_request();
  void on_read(boost::beast::error_code ec);
  void on_answer(app::Response answer, bool keep_alive);
  // Runs `work` on `self`'s executor, from any thread: through the answer inbox (one
  // reactor wake-up per burst), then dispatched to the session's strand.
  static void run_here(std::shared_ptr<session> self, std::move_only_function<void(session&)> work);
  // A streamed answer (Server-Sent Events): writes its head, then each batch of events the
  // stream has waiting, one write at a time, until the client leaves, falls behind (the
  // stream is overrun, or a write outlasts the deadline) or the server drains.
  void start_stream(app::Response answer);
  void pump_stream();
  // While streaming: reads and discards what the client sends, and closes at its end.
  void watch_peer();
  // Writes what the socket takes now, and waits for room only when it takes less: a small
  // answer costs one send and no pending operation.
  void write_some();
  void on_written(boost::beast::error_code ec);
  void finish_request();
  void do_close();
  // Closes the socket, out of context_.sockets first.
  void close_socket();
  // One deadline for whatever the client owes: a whole request (from the moment the last
  // answer was written) or taking an answer. Closing the socket ends the pending wait.
  void arm_deadline();
  void disarm_deadline();
  void on_deadline(boost::beast::error_code ec);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer deadline_;
  // What a request and its answer need: made when a request starts to arrive, dropped when
  // the connection goes idle (kept while pipelined bytes wait in the buffer).
  struct Exchange {
    boost::beast::flat_buffer buffer;      // bytes read and not yet parsed
    std::optional<request_parser> parser;  // while a request is being read
    std::string response;                  // the serialized answer being written
    std::size_t written = 0;               // of response
  };
  std::unique_ptr<Exchange> exchange_;
  std::shared_ptr<app::EventStream> stream_;  // while streaming an answer
  bool stream_writing_ = false;               // a write of the stream is out
  bool chunked_ = true;                       // the request was HTTP/1.1: chunks may be sent
  SessionContext& context_;
  std::string peer_;    // the client's address, as the socket says
  bool timed_ = false;  // the deadline applies now
  bool keep_alive_ = false;
  bool in_request_ = false;
  bool operator_listener_;
};

}  // namespace http
