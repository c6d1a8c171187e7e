// Server: the acceptor, the I/O threads, and graceful shutdown on SIGINT/SIGTERM.
#include "http/server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>
#include <vector>

#include "http/session.hpp"

namespace http {
namespace net = boost::asio;
using net::ip::tcp;

struct Server::Impl {
  explicit Impl(const ServerOptions& options)
      : ioc(static_cast<int>(options.threads)),
        acceptor(ioc),
        pause(ioc),
        signals(ioc, SIGINT, SIGTERM),
        inbox(ioc),
        context{.app = nullptr,
                .options = options,
                .on_drained = [this] { ioc.stop(); },
                .inbox = inbox} {}

  void do_accept() {
    acceptor.async_accept(
        net::make_strand(ioc), [this](boost::system::error_code ec, tcp::socket socket) {
          if (!acceptor.is_open()) return;
          if (!ec) return on_accept(std::move(socket));
          if (ec == net::error::operation_aborted) return;
          std::cerr << "visitor-counter: accept failed: " << ec.message() << std::endl;
          // Out of file descriptors: accepting again at once would spin; wait a little.
          const bool exhausted = ec == net::error::no_descriptors ||
                                 ec == boost::system::errc::too_many_files_open_in_system;
          if (!exhausted) return do_accept();
          pause.expires_after(std::chrono::milliseconds(100));
          pause.async_wait([this](boost::system::error_code) { do_accept(); });
        });
  }

  // Past the connection bound, a new connection is closed at once: no buffers, no session.
  void on_accept(tcp::socket socket) {
    if (context.connections.load() >= context.options.max_connections) {
      context.app->metrics().count_refused_connection();
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      std::make_shared<session>(std::move(socket), context)->start();
    }
    do_accept();
  }

  void drain() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    context.draining = true;
    if (context.in_flight == 0) ioc.stop();
  }

  net::io_context ioc;
  tcp::acceptor acceptor;
  net::steady_timer pause;  // before accepting again when out of file descriptors
  net::signal_set signals;
  AnswerInbox inbox;
  SessionContext context;
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

std::expected<std::unique_ptr<Server>, std::string> Server::bind(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  const std::string where = options.host + ":" + std::to_string(options.port);
  boost::system::error_code ec;
  tcp::resolver resolver(impl->ioc);
  auto endpoints = resolver.resolve(options.host, std::to_string(options.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return std::unexpected("cannot listen on " + where + ": " + (ec ? ec.message() : "no address"));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  tcp::acceptor& acceptor = impl->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); !ec) {
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return std::unexpected("cannot listen on " + where + ": " + ec.message());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::string Server::url() const {
  boost::system::error_code ec;
  const tcp::endpoint local = impl_->acceptor.local_endpoint(ec);
  const std::string address = local.address().to_string();
  const std::string host = local.address().is_v6() ? "[" + address + "]" : address;
  return "http://" + host + ":" + std::to_string(local.port());
}

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
  impl_->do_accept();
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
