// A small blocking HTTP/1.1 client on Beast, for talking to AWS (DynamoDB over HTTPS) and
// to the Lambda Runtime API (plain HTTP). One connection, kept alive and reopened when the
// peer closed it. Not thread-safe: one thread uses a client at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aws {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Where to connect: parsed from "http://host:port" or "https://host[:port]".
struct Endpoint {
  bool tls = false;
  std::string host;
  std::uint16_t port = 80;

  // The Host header value: "host" or "host:port" when the port is not the default.
  std::string host_header() const;
};

// Parses an endpoint URL; a path, query or user-info part is refused.
std::expected<Endpoint, std::string> parse_endpoint(std::string_view url);

struct HttpResponse {
  int status = 0;
  HeaderList headers;  // names lower-case
  std::string body;

  std::optional<std::string_view> header(std::string_view lower_name) const;
};

// Why a request failed before a response was read. `connect` failures mean the request
// was never sent; others may or may not have reached the server.
struct HttpError {
  // timeout: the deadline passed during the exchange (the request may have been sent).
  enum class Kind { resolve, connect, tls, timeout, io };
  Kind kind;
  std::string message;
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{3000};
  // The whole exchange (write + read); nullopt waits forever (the Runtime API's /next).
  std::optional<std::chrono::milliseconds> request_timeout = std::chrono::milliseconds(5000);
  std::size_t max_response_bytes = 8 * 1024 * 1024;
  // TLS only: certificate and host-name verification are always on. CA bundle: this
  // file if set, else $SSL_CERT_FILE, else the usual Amazon Linux and Debian paths.
  std::string ca_file;
};

class HttpClient {
 public:
  HttpClient(Endpoint endpoint, HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads the response. `headers` are sent as given, plus Host
  // (when absent) and Content-Length. Reuses the open connection, and retries once on a
  // fresh connection when a reused one turns out closed before any byte came back.
  // `timeout` overrides the option's request timeout for this call.
  std::expected<HttpResponse, HttpError> send(
      std::string_view method, std::string_view target, const HeaderList& headers,
      std::string_view body,
      std::optional<std::optional<std::chrono::milliseconds>> timeout = std::nullopt);

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  struct Connection;  // defined in http_client.cpp (Beast stays there)
  Endpoint endpoint_;
  HttpClientOptions options_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace aws
