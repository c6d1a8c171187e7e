// Session: the read → app → write loop for one connection, with Beast's parser limits
// (431, 413, 400) and a deadline on every read and write.
#include "http/session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
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
    : stream_(std::move(socket)), context_(context), operator_listener_(operator_listener) {
  beast::error_code ec;
  const auto remote = stream_.socket().remote_endpoint(ec);
  if (!ec) peer_ = remote.address().to_string();
  ++context_.connections;
  context_.app->metrics().add_connections(1);
}

session::~session() {
  --context_.connections;
  context_.app->metrics().add_connections(-1);
}

void session::start() {
  net::dispatch(stream_.get_executor(),
                beast::bind_front_handler(&session::do_read, shared_from_this()));
}

void session::do_read() {
  if (context_.draining) return do_close();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(context_.options.header_limit));
  parser_->body_limit(context_.options.body_limit);
  stream_.expires_after(context_.options.read_timeout);
  bhttp::async_read(stream_, buffer_, *parser_,
                    beast::bind_front_handler(&session::on_read, shared_from_this()));
}

void session::on_read(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec) {
    std::optional<app::Response> answer = parse_error_answer(ec);
    if (!answer) return do_close();
    return on_answer(std::move(*answer), false);
  }
  const bool keep_alive = parser_->get().keep_alive();
  app::Request request = to_app_request(parser_->get(), peer_);
  request.operator_listener = operator_listener_;
  stream_.expires_never();
  in_request_ = true;
  ++context_.in_flight;
  // The server keeps its io_context running until no request is in flight.
  context_.app->handle(
      request, [self = shared_from_this(), keep_alive](app::Response answer) mutable {
        AnswerInbox& inbox = self->context_.inbox;
        inbox.post([self = std::move(self), keep_alive, answer = std::move(answer)]() mutable {
          auto executor = self->stream_.get_executor();
          net::dispatch(executor,
                        [self = std::move(self), keep_alive, answer = std::move(answer)]() mutable {
                          self->on_answer(std::move(answer), keep_alive);
                        });
        });
      });
}

void session::on_answer(app::Response answer, bool keep_alive) {
  keep_alive = keep_alive && !context_.draining;
  write_response(answer, keep_alive, response_);
  do_write(keep_alive);
}

void session::do_write(bool keep_alive) {
  stream_.expires_after(context_.options.read_timeout);
  net::async_write(stream_, net::buffer(response_),
                   beast::bind_front_handler(&session::on_write, shared_from_this(), keep_alive));
}

void session::on_write(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
  finish_request();
  if (ec || !keep_alive) return do_close();
  do_read();
}

void session::finish_request() {
  if (!in_request_) return;
  in_request_ = false;
  if (--context_.in_flight == 0 && context_.draining && context_.on_drained) {
    context_.on_drained();
  }
}

void session::do_close() {
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  stream_.close();
}

}  // namespace http
