// Server: the acceptor, the I/O threads, and graceful shutdown on SIGINT/SIGTERM.
#include "http/server.hpp"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <csignal>
#include <thread>
#include <vector>

#include "http/session.hpp"
#include "util/log_throttle.hpp"

namespace http {
namespace net = boost::asio;
using net::ip::tcp;

// How long a drain waits for the requests in flight before it closes every connection, and
// then for the sessions to go before it stops the loop anyway.
constexpr std::chrono::seconds kDrainBound{10};
constexpr std::chrono::seconds kCloseBound{1};

struct Server::Impl {
  explicit Impl(const ServerOptions& options)
      : context{.app = nullptr,
                .options = options,
                .on_drained = [this] { stop_if_drained(); },
                .inbox = inbox,
                .sockets = {}},
        ioc(static_cast<int>(options.threads)),
        acceptor(ioc),
        operator_acceptor(ioc),
        pause(ioc),
        drain_bound(ioc),
        signals(ioc, SIGINT, SIGTERM),
        inbox(ioc) {}

  // Accepts on `from` until it closes; `operator_listener` marks its sessions.
  void do_accept(tcp::acceptor& from, bool operator_listener) {
    auto on_accepted = [this, &from, operator_listener](boost::system::error_code ec,
                                                        tcp::socket socket) {
      if (!from.is_open()) return;
      if (!ec) {
        on_accept(std::move(socket), operator_listener);
        return do_accept(from, operator_listener);
      }
      if (ec == net::error::operation_aborted) return;
      util::log_to_stderr("accept failed: " + ec.message());
      // Out of file descriptors: accepting again at once would spin; wait a little.
      const bool exhausted = ec == net::error::no_descriptors ||
                             ec == boost::system::errc::too_many_files_open_in_system;
      if (!exhausted) return do_accept(from, operator_listener);
      pause.expires_after(std::chrono::milliseconds(100));
      pause.async_wait([this, &from, operator_listener](boost::system::error_code) {
        do_accept(from, operator_listener);
      });
    };
    // A session's handlers need a strand only when several threads run the loop; with one,
    // the strand's bookkeeping was 3% of a request's CPU (perf, bench/http_bench.py).
    if (context.options.threads > 1) {
      from.async_accept(net::make_strand(ioc), std::move(on_accepted));
    } else {
      from.async_accept(ioc, std::move(on_accepted));
    }
  }

  // Past the connection bound, a new connection is closed at once: no buffers, no session.
  void on_accept(tcp::socket socket, bool operator_listener) {
    if (context.connections.load() >= context.options.max_connections) {
      context.app->metrics().count_refused_connection();
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      std::make_shared<session>(std::move(socket), context, operator_listener)->start();
    }
  }

  // Stops accepting, ends the reads of idle connections (a request already received is
  // still read and answered, with Connection: close), and stops the loop once no request
  // is in flight and no connection is open, or at the bound.
  void drain() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    operator_acceptor.close(ignored);
    context.draining = true;
    context.sockets.shut_down(SHUT_RD);
    drain_bound.expires_after(kDrainBound);
    drain_bound.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      context.sockets.shut_down(SHUT_RDWR);  // a client that does not take its answer
      drain_bound.expires_after(kCloseBound);
      drain_bound.async_wait([this](boost::system::error_code) { stop(); });
    });
    stop_if_drained();
  }

  void stop_if_drained() {
    if (context.in_flight == 0 && context.connections == 0) stop();
  }

  void stop() {
    if (stopped.exchange(true)) return;
    drain_bound.cancel();
    ioc.stop();
  }

  // Declared before the io_context, so that sessions still queued in it when it is destroyed
  // (a drain cut short by its bound) find it alive.
  SessionContext context;
  net::io_context ioc;
  tcp::acceptor acceptor;
  tcp::acceptor operator_acceptor;  // open only with ServerOptions::operator_port
  net::steady_timer pause;          // before accepting again when out of file descriptors
  net::steady_timer drain_bound;
  net::signal_set signals;
  // After the io_context: the sessions its pending answers hold go while the loop is alive.
  AnswerInbox inbox;
  std::atomic<bool> stopped{false};
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

namespace {

// Opens `acceptor` on `host`:`port`; fails with a one-line reason.
std::expected<void, std::string> listen_on(net::io_context& ioc, tcp::acceptor& acceptor,
                                           const std::string& host, std::uint16_t port) {
  const std::string where = host + ":" + std::to_string(port);
  boost::system::error_code ec;
  tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(host, std::to_string(port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return std::unexpected("cannot listen on " + where + ": " + (ec ? ec.message() : "no address"));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  if (acceptor.open(endpoint.protocol(), ec); !ec) {
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return std::unexpected("cannot listen on " + where + ": " + ec.message());
  return {};
}

std::string url_of(const tcp::acceptor& acceptor) {
  boost::system::error_code ec;
  const tcp::endpoint local = acceptor.local_endpoint(ec);
  const std::string address = local.address().to_string();
  const std::string host = local.address().is_v6() ? "[" + address + "]" : address;
  return "http://" + host + ":" + std::to_string(local.port());
}

}  // namespace

std::expected<std::unique_ptr<Server>, std::string> Server::bind(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  auto main = listen_on(impl->ioc, impl->acceptor, options.host, options.port);
  if (!main) return std::unexpected(main.error());
  if (options.operator_port) {
    auto second = listen_on(impl->ioc, impl->operator_acceptor, options.operator_host,
                            *options.operator_port);
    if (!second) return std::unexpected(second.error());
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::string Server::url() const { return url_of(impl_->acceptor); }

std::string Server::operator_url() const {
  return impl_->operator_acceptor.is_open() ? url_of(impl_->operator_acceptor) : std::string();
}

void Server::post(std::move_only_function<void()> work) { net::post(impl_->ioc, std::move(work)); }

bool Server::is_loopback() const {
  boost::system::error_code ec;
  const tcp::endpoint local = impl_->acceptor.local_endpoint(ec);
  return !ec && local.address().is_loopback();
}

void Server::run_until_signal(app::App& app) {
  impl_->context.app = &app;
  impl_->signals.async_wait([this](boost::system::error_code ec, int) {
    if (!ec) impl_->drain();
  });
  impl_->do_accept(impl_->acceptor, false);
  if (impl_->operator_acceptor.is_open()) impl_->do_accept(impl_->operator_acceptor, true);
  // Requests waiting on the store have no pending socket operation; this keeps run() going
  // until drain() or the last in-flight request calls stop().
  auto work = net::make_work_guard(impl_->ioc);
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < impl_->context.options.threads; ++i) {
    threads.emplace_back([this] { impl_->ioc.run(); });
  }
  impl_->ioc.run();
  for (std::thread& thread : threads) thread.join();
}

}  // namespace http
