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

#include "aws/endpoint.hpp"

namespace aws {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  HeaderList headers;  // names lower-case
  std::string body;

  std::optional<std::string_view> header(std::string_view lower_name) const;
};

// Why a request failed before a response was read. `resolve`, `connect` and `tls` failures
// mean the request was never sent. After a `timeout` or `io` failure, `sent` says whether
// the whole request had been written: only then may the server have acted on it.
struct HttpError {
  // timeout: the call's deadline passed (in any phase; `sent` says whether it was written).
  enum class Kind { resolve, connect, tls, timeout, io };
  Kind kind;
  std::string message;
  bool sent = false;
};

struct SendOptions {
  // The deadline for the whole call: resolving, connecting, the TLS handshake, writing and
  // reading. Unset: the client's request_timeout; set to nullopt: none (the Runtime API's
  // long-polling /next).
  std::optional<std::optional<std::chrono::milliseconds>> timeout;
  // False for a request that must not apply twice (a counter's ADD): it is never resent
  // once written, not even on a kept-alive connection the peer turns out to have closed.
  bool idempotent = true;
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

  // Sends one request and reads the response, within the call's deadline. `headers` are
  // sent as given, plus Host (when absent) and Content-Length. Reuses the open connection
  // unless the peer has closed it meanwhile. When a reused connection fails before any
  // byte came back, an idempotent request is retried once on a fresh connection; a
  // non-idempotent one only if it was not completely written.
  std::expected<HttpResponse, HttpError> send(std::string_view method, std::string_view target,
                                              const HeaderList& headers, std::string_view body,
                                              const SendOptions& options = {});

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  struct Connection;  // defined in http_client.cpp (Beast stays there)
  Endpoint endpoint_;
  HttpClientOptions options_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace aws
