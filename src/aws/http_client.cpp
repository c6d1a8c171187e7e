// HttpClient: Beast async operations driven to completion on a private io_context, so
// every step (resolve, connect, handshake, write, read) is bounded by a deadline.
#include "aws/http_client.hpp"

#include <openssl/ssl.h>
#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cstdlib>
#include <optional>
#include <vector>

#include "util/ca_bundle.hpp"

namespace aws {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A deadline during the exchange is `timeout`; during resolve, connect or the handshake the
// request was never sent, so the phase's own kind stays (callers may retry those freely).
HttpError error(HttpError::Kind kind, std::string_view what, const beast::error_code& ec,
                bool sent = false) {
  if (ec == beast::error::timeout && kind == HttpError::Kind::io) kind = HttpError::Kind::timeout;
  return HttpError{kind, std::string(what) + ": " + ec.message(), sent};
}

}  // namespace

std::optional<std::string_view> HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return std::nullopt;
}

namespace {

using Clock = std::chrono::steady_clock;
using Timeout = std::optional<std::chrono::milliseconds>;
using Request = bhttp::request<bhttp::string_body>;

// The time left until `deadline` (at least 1 ms, so an expired deadline still fails as a
// timeout rather than waiting forever), or nullopt for no deadline.
Timeout remaining(std::optional<Clock::time_point> deadline) {
  if (!deadline) return std::nullopt;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

Timeout earlier(Timeout a, Timeout b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

void set_deadline(beast::tcp_stream& stream, Timeout timeout) {
  if (timeout) {
    stream.expires_after(*timeout);
  } else {
    stream.expires_never();
  }
}

// True when an idle kept-alive connection must not carry the next request: the peer closed
// it (or it failed), or, on plain HTTP, sent bytes nobody asked for. Over TLS, bytes may be
// a late session ticket, which the TLS layer reads with the next answer: not a close.
bool peer_closed(int fd, bool tls) {
  pollfd entry{.fd = fd, .events = POLLIN | POLLRDHUP, .revents = 0};
  if (::poll(&entry, 1, 0) <= 0) return false;
  if ((entry.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return true;
  return !tls && (entry.revents & POLLIN) != 0;
}

}  // namespace

struct HttpClient::Connection {
  asio::io_context ioc;
  std::optional<asio::ssl::context> ssl;  // for TLS endpoints only: making one loads OpenSSL
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& tcp() { return plain ? *plain : beast::get_lowest_layer(*secure); }
  bool is_open() { return (plain || secure) && tcp().socket().is_open(); }
  // Open, and not closed by the peer while idle.
  bool reusable() {
    return is_open() && !peer_closed(tcp().socket().native_handle(), secure.has_value());
  }
  void close() {
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  // Runs the queued asynchronous operations to completion (deadlines cancel them).
  void run() {
    ioc.restart();
    ioc.run();
  }

  // Resolves, connects and (for TLS) handshakes, all within `limit`.
  std::expected<void, HttpError> open(const Endpoint& endpoint, const HttpClientOptions& options,
                                      Timeout limit);
  std::expected<HttpResponse, HttpError> exchange(Request& request, Timeout timeout,
                                                  std::size_t max_bytes);
};

std::expected<void, HttpError> HttpClient::Connection::open(const Endpoint& endpoint,
                                                            const HttpClientOptions& options,
                                                            Timeout limit) {
  close();
  const Timeout phase = earlier(options.connect_timeout, limit);
  const Clock::time_point started = Clock::now();
  beast::error_code ec;
  std::vector<tcp::endpoint> addresses;
  // An address needs no resolver (whose first use starts a thread: a Lambda function's
  // Runtime API and the local fakes are addresses).
  if (const auto literal = asio::ip::make_address(endpoint.host, ec); !ec) {
    addresses.emplace_back(literal, endpoint.port);
  } else {
    tcp::resolver resolver(ioc);
    bool resolved = false;
    resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                           [&](beast::error_code e, const tcp::resolver::results_type& r) {
                             ec = e;
                             resolved = true;
                             for (const auto& entry : r) addresses.push_back(entry.endpoint());
                           });
    ioc.restart();
    ioc.run_for(*phase);  // a resolver has no deadline of its own
    if (!resolved) {
      resolver.cancel();
      run();
      return std::unexpected(
          HttpError{HttpError::Kind::resolve, "resolve " + endpoint.host + ": timed out", false});
    }
    if (ec) return std::unexpected(error(HttpError::Kind::resolve, "resolve " + endpoint.host, ec));
  }
  if (endpoint.tls) {
    secure.emplace(ioc, *ssl);
  } else {
    plain.emplace(ioc);
  }
  // Connect and handshake share what the resolver left of the phase's time.
  const auto phase_end = started + *phase;
  tcp().expires_at(phase_end);
  tcp().async_connect(addresses, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  run();
  if (ec) return std::unexpected(error(HttpError::Kind::connect, "connect " + endpoint.host, ec));
  tcp().socket().set_option(tcp::no_delay(true), ec);
  if (!endpoint.tls) return {};
  // SSL_set_tlsext_host_name, minus the macro's C cast.
  if (SSL_ctrl(secure->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(endpoint.host.c_str())) != 1) {
    return std::unexpected(HttpError{HttpError::Kind::tls, "cannot set TLS server name"});
  }
  secure->set_verify_callback(asio::ssl::host_name_verification(endpoint.host));
  tcp().expires_at(phase_end);
  secure->async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  run();
  if (ec) return std::unexpected(error(HttpError::Kind::tls, "TLS handshake", ec));
  return {};
}

std::expected<HttpResponse, HttpError> HttpClient::Connection::exchange(Request& request,
                                                                        Timeout timeout,
                                                                        std::size_t max_bytes) {
  beast::error_code ec;
  bool written = false;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_bytes);
  set_deadline(tcp(), timeout);
  auto on_read = [&](beast::error_code e, std::size_t) { ec = e; };
  auto on_write = [&](beast::error_code e, std::size_t) {
    written = !e;
    if (e) {
      ec = e;
    } else if (plain) {
      bhttp::async_read(*plain, buffer, parser, on_read);
    } else {
      bhttp::async_read(*secure, buffer, parser, on_read);
    }
  };
  if (plain) {
    bhttp::async_write(*plain, request, on_write);
  } else {
    bhttp::async_write(*secure, request, on_write);
  }
  run();
  if (ec) return std::unexpected(error(HttpError::Kind::io, "HTTP exchange", ec, written));
  auto& message = parser.get();
  HttpResponse response{
      .status = static_cast<int>(message.result_int()), .headers = {}, .body = {}};
  for (const auto& field : message) {
    response.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
  }
  response.body = std::move(message.body());
  if (!message.keep_alive()) close();
  return response;
}

HttpClient::HttpClient(Endpoint endpoint, HttpClientOptions options)
    : endpoint_(std::move(endpoint)),
      options_(std::move(options)),
      connection_(std::make_unique<Connection>()) {
  if (!endpoint_.tls) return;
  auto& ssl = connection_->ssl.emplace(asio::ssl::context::tls_client);
  ssl.set_verify_mode(asio::ssl::verify_peer);
  boost::system::error_code ec;
  const std::string bundle = util::find_ca_bundle(options_.ca_file);
  if (!bundle.empty()) ssl.load_verify_file(bundle, ec);
  if (bundle.empty() || ec) ssl.set_default_verify_paths(ec);
}

HttpClient::~HttpClient() = default;

std::expected<HttpResponse, HttpError> HttpClient::send(std::string_view method,
                                                        std::string_view target,
                                                        const HeaderList& headers,
                                                        std::string_view body,
                                                        const SendOptions& send_options) {
  Request request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  bool has_host = false;
  for (const auto& [name, value] : headers) {
    has_host = has_host || lower(name) == "host";
    request.insert(name, value);
  }
  if (!has_host) request.set(bhttp::field::host, endpoint_.host_header());
  request.body() = std::string(body);
  request.prepare_payload();

  const Timeout timeout = send_options.timeout ? *send_options.timeout : options_.request_timeout;
  std::optional<Clock::time_point> deadline;
  if (timeout) deadline = Clock::now() + *timeout;
  for (int attempt = 0;; ++attempt) {
    const bool reused = connection_->reusable();
    if (!reused) {
      if (auto opened = connection_->open(endpoint_, options_, remaining(deadline)); !opened) {
        connection_->close();
        return std::unexpected(opened.error());
      }
    }
    auto response =
        connection_->exchange(request, remaining(deadline), options_.max_response_bytes);
    if (response) return response;
    connection_->close();
    // A kept-alive connection the peer closed just as we wrote: one more try on a fresh
    // one, unless the request was written and must not apply twice.
    const HttpError& failed = response.error();
    const bool stale = reused && attempt == 0 && failed.kind == HttpError::Kind::io &&
                       (send_options.idempotent || !failed.sent);
    if (!stale) return std::unexpected(failed);
  }
}

}  // namespace aws
