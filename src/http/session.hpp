// One client connection: read a request, hand it to the app, write the answer, repeat
// while keep-alive. All of a session's work runs on its own strand.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <optional>

#include "app/app.hpp"
#include "http/answer_inbox.hpp"
#include "http/server.hpp"

namespace http {

// What every session shares with the server. Outlives all sessions.
struct SessionContext {
  app::App* app;  // set before the first session starts
  ServerOptions options;
  std::atomic<bool> draining{false};
  std::atomic<int> in_flight{0};
  std::atomic<std::size_t> connections{0};  // sessions alive
  std::function<void()> on_drained;         // called when draining and the last request finished
  AnswerInbox& inbox;                       // answers coming back from the counter's worker
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

  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void on_answer(app::Response answer, bool keep_alive);
  void do_write(bool keep_alive);
  void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  void finish_request();
  void do_close();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<request_parser> parser_;
  std::string response_;  // the serialized answer being written
  SessionContext& context_;
  std::string peer_;  // the client's address, as the socket says
  bool in_request_ = false;
  bool operator_listener_;
};

}  // namespace http
