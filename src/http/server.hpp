// The self-hosted HTTP/1.1 server: a thin adapter from sockets to app::App. Beast stays
// inside src/http/*.cpp so the rest of the program compiles without it.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "app/app.hpp"

namespace http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: the system picks a free port
  unsigned threads = 1;
  std::chrono::milliseconds read_timeout{10'000};  // to receive one whole request
  std::size_t header_limit = 16 * 1024;            // request line + headers; more: 431
  std::size_t body_limit = app::kMaxBodyBytes;     // more: 413
  // Open client connections; a connection past it is closed as soon as it is accepted.
  std::size_t max_connections = 10'000;
  // A second listener for the operator (/metrics and /healthz only), when a port is set.
  std::string operator_host;
  std::optional<std::uint16_t> operator_port;
};

class Server {
 public:
  // Binds and listens (but does not serve yet). Fails with a one-line reason.
  static std::expected<std::unique_ptr<Server>, std::string> bind(const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // "http://127.0.0.1:8080", with the port actually bound.
  std::string url() const;
  // The operator's listener's URL, or "" without one.
  std::string operator_url() const;

  // Runs `work` soon on one of the I/O threads, after the handlers already queued there (the
  // requests already read): where the write combiner applies batches of an in-process store.
  void post(std::move_only_function<void()> work);

  // True when bound to a loopback address (127.0.0.0/8, ::1): only this machine can connect.
  bool is_loopback() const;

  // Serves `app` until SIGINT or SIGTERM, then drains: stops accepting, closes idle
  // keep-alive connections at once, answers the requests in flight (and a request already
  // received) with Connection: close, and returns once none is left, or after 10 s, when
  // every connection is shut down and the loop stops 1 s later. `app` must outlive the call.
  void run_until_signal(app::App& app);

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace http
