// Session: the read → app → write loop for one connection on a non-blocking socket, with
// Beast's parser limits (431, 413, 400) and a deadline on every read and write.
#include "http/session.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include "app/json.hpp"
#include "http/response_writer.hpp"

namespace http {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

// The answer to a request Beast could not parse; nullopt when there is nothing to say
// (the peer left, or stalled past the deadline).
std::optional<app::Response> parse_error_answer(beast::error_code ec) {
  if (ec == bhttp::error::header_limit) {
    return app::error_response(431, "headers_too_large", "request headers are limited to 16 KiB");
  }
  if (ec == bhttp::error::body_limit) {
    return app::error_response(413, "body_too_large", "request bodies are limited to 4096 bytes");
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    return app::error_response(400, "bad_request", "malformed HTTP request");
  }
  return std::nullopt;
}

app::Request to_app_request(bhttp::request<bhttp::string_body>& req, const std::string& peer) {
  app::Request out;
  out.peer = peer;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  out.headers.reserve(8);
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = std::move(req.body());
  return out;
}

}  // namespace

session::session(net::ip::tcp::socket&& socket, SessionContext& context, bool operator_listener)
    : socket_(std::move(socket)),
      deadline_(socket_.get_executor()),
      context_(context),
      operator_listener_(operator_listener) {
  beast::error_code ec;
  const auto remote = socket_.remote_endpoint(ec);
  if (!ec) peer_ = remote.address().to_string();
  ++context_.connections;
  context_.app->metrics().add_connections(1);
}

session::~session() {
  if (stream_) stream_->close();
  if (socket_.is_open()) close_socket();
  context_.app->metrics().add_connections(-1);
  if (--context_.connections == 0 && context_.draining && context_.on_drained) {
    context_.on_drained();
  }
}

void session::start() {
  net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    self->socket_.non_blocking(true, ec);
    if (ec) return self->do_close();
    self->context_.sockets.add(self->socket_.native_handle());
    // Accepted just as the server began to drain: it missed the shutdown of open sockets.
    if (self->context_.draining) return self->do_close();
    self->do_read();
  });
}

void OpenSockets::add(int fd) {
  std::lock_guard lock(mutex_);
  fds_.insert(fd);
}

void OpenSockets::remove(int fd) {
  std::lock_guard lock(mutex_);
  fds_.erase(fd);
}

void OpenSockets::shut_down(int how) {
  std::lock_guard lock(mutex_);
  for (int fd : fds_) ::shutdown(fd, how);
}

void session::close_socket() {
  context_.sockets.remove(socket_.native_handle());
  beast::error_code ignored;
  socket_.close(ignored);
}

void session::do_read() {
  if (context_.draining) return do_close();
  arm_deadline();
  if (exchange_) return read_request();  // pipelined: the next request is here
  wait_readable();
}

void session::wait_readable() {
  // A plain lambda: Beast's bind_front_handler would make every waiting connection's
  // operation larger by the executors it forwards.
  socket_.async_wait(net::socket_base::wait_read,
                     [self = shared_from_this()](beast::error_code ec) { self->on_readable(ec); });
}

void session::on_readable(beast::error_code ec) {
  if (ec) return do_close();  // closed by the deadline
  read_request();
}

void session::read_request() {
  if (!exchange_) exchange_ = std::make_unique<Exchange>();
  auto& parser = exchange_->parser;
  if (!parser) {
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(context_.options.header_limit));
    parser->body_limit(context_.options.body_limit);
  }
  beast::error_code ec;
  bhttp::read(socket_, exchange_->buffer, *parser, ec);
  if (ec == net::error::would_block) {
    return wait_readable();
  }
  on_read(ec);
}

void session::on_read(beast::error_code ec) {
  disarm_deadline();
  if (ec) {
    std::optional<app::Response> answer = parse_error_answer(ec);
    if (!answer) return do_close();
    return on_answer(std::move(*answer), false);
  }
  const bool keep_alive = exchange_->parser->get().keep_alive();
  chunked_ = exchange_->parser->get().version() >= 11;
  app::Request request = to_app_request(exchange_->parser->get(), peer_);
  request.operator_listener = operator_listener_;
  exchange_->parser.reset();
  in_request_ = true;
  ++context_.in_flight;
  // The server keeps its io_context running until no request is in flight.
  context_.app->handle(
      request, [self = shared_from_this(), keep_alive](app::Response answer) mutable {
        run_here(std::move(self), [keep_alive, answer = std::move(answer)](session& me) mutable {
          me.on_answer(std::move(answer), keep_alive);
        });
      });
}

void session::run_here(std::shared_ptr<session> self,
                       std::move_only_function<void(session&)> work) {
  AnswerInbox& inbox = self->context_.inbox;
  inbox.post([self = std::move(self), work = std::move(work)]() mutable {
    auto executor = self->socket_.get_executor();
    net::dispatch(executor,
                  [self = std::move(self), work = std::move(work)]() mutable { work(*self); });
  });
}

void session::on_answer(app::Response answer, bool keep_alive) {
  if (answer.stream) return start_stream(std::move(answer));
  keep_alive_ = keep_alive && !context_.draining;
  write_response(answer, keep_alive_, exchange_->response);
  exchange_->written = 0;
  write_some();
}

void session::start_stream(app::Response answer) {
  keep_alive_ = false;
  stream_ = std::move(answer.stream);
  write_stream_head(answer, chunked_, exchange_->response);
  // A reader that vanishes without closing (a laptop lid, a dropped network) would keep its
  // stream until TCP gave up, minutes later: with the heartbeat unacknowledged for this
  // long, the kernel drops the connection.
  constexpr unsigned kUnackedMs = 45'000;
  ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &kUnackedMs,
               sizeof(kUnackedMs));
  exchange_->written = 0;
  stream_writing_ = true;
  // Called on the hub's thread: the events are taken and written on this session's.
  stream_->attach([weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      run_here(std::move(self), [](session& me) {
        if (!me.stream_writing_) me.pump_stream();
      });
    }
  });
  watch_peer();
  write_some();
}

void session::pump_stream() {
  stream_writing_ = false;
  if (!socket_.is_open()) return;
  if (stream_->overrun()) {
    context_.app->metrics().count_dropped_stream();
    return do_close();
  }
  const std::string events = stream_->take();
  if (events.empty()) return;  // the next push wakes this session again
  stream_writing_ = true;
  if (chunked_) {
    write_chunk(events, exchange_->response);
  } else {
    exchange_->response = events;
  }
  exchange_->written = 0;
  write_some();
}

void session::watch_peer() {
  socket_.async_wait(
      net::socket_base::wait_read, [self = shared_from_this()](beast::error_code ec) {
        if (ec) return self->do_close();
        std::array<char, 512> discarded{};
        beast::error_code read_ec;
        const std::size_t n = self->socket_.read_some(net::buffer(discarded), read_ec);
        if (read_ec == net::error::would_block) return self->watch_peer();
        if (read_ec || n == 0) return self->do_close();
        self->watch_peer();  // nothing after a stream's request is read as a request
      });
}

void session::write_some() {
  beast::error_code ec;
  std::size_t& written = exchange_->written;
  written += socket_.write_some(net::buffer(exchange_->response) + written, ec);
  if (ec == net::error::would_block || (!ec && written < exchange_->response.size())) {
    if (!timed_) arm_deadline();
    return socket_.async_wait(net::socket_base::wait_write,
                              [self = shared_from_this()](beast::error_code waited) {
                                if (waited) return self->on_written(waited);
                                self->write_some();
                              });
  }
  on_written(ec);
}

void session::on_written(beast::error_code ec) {
  disarm_deadline();
  finish_request();
  if (stream_ && !ec) return pump_stream();
  if (ec || !keep_alive_) return do_close();
  // An idle keep-alive connection keeps no buffers: thousands of them cost little memory.
  if (exchange_->buffer.size() == 0) exchange_.reset();
  do_read();
}

void session::finish_request() {
  if (!in_request_) return;
  in_request_ = false;
  if (--context_.in_flight == 0 && context_.draining && context_.on_drained) {
    context_.on_drained();
  }
}

void session::arm_deadline() {
  timed_ = true;
  deadline_.expires_after(context_.options.read_timeout);
  deadline_.async_wait(
      [self = shared_from_this()](beast::error_code ec) { self->on_deadline(ec); });
}

void session::disarm_deadline() {
  if (!timed_) return;
  timed_ = false;
  deadline_.cancel();
}

void session::on_deadline(beast::error_code ec) {
  // Aborted: what was owed came in time. Not timed: it came just as the timer fired.
  if (ec || !timed_) return;
  if (stream_) context_.app->metrics().count_dropped_stream();  // a reader that stopped
  close_socket();
}

void session::do_close() {
  if (stream_) {
    stream_->close();
    // Ends the body properly when nothing is half written (a drain, not a vanished reader).
    if (chunked_ && !stream_writing_ && socket_.is_open()) {
      beast::error_code ignored;
      socket_.write_some(net::buffer(kLastChunk), ignored);
    }
  }
  disarm_deadline();  // its pending wait would keep the session alive until it fires
  beast::error_code ignored;
  socket_.shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  close_socket();
}

}  // namespace http
