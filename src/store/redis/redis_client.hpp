// A blocking Redis client for one thread: commands go in pipelines (one round trip), over
// TCP or TLS (rediss://: the certificate chain and the host name verified, as the AWS client
// does); hiredis formats the commands and parses the replies. The connection is made on
// first use (with AUTH and SELECT) and again after a failure, no more often than a capped
// exponential backoff allows.
//
// What a failure means for the commands (the rule of docs/architecture.md: a write whose
// outcome is unknown is never resent blindly): a failure to connect, or to write a lone
// command completely, ran nothing (Redis runs only complete commands); a failure once the
// commands were written, or while writing the second command of a pipeline, may have run
// some of them: `outcome_unknown`.
#pragma once

#include <chrono>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "store/redis/redis_url.hpp"

struct ssl_ctx_st;

namespace store::redis {

// One reply, owned. An error reply ("-ERR ...", "-NOSCRIPT ...") is a reply, not a failure.
struct Reply {
  enum class Type { string, integer, array, nil, status, error };
  Type type = Type::nil;
  std::string text;  // string, status and error
  long long integer = 0;
  std::vector<Reply> elements;  // array
};

struct ClientError {
  std::string message;           // for the operator's log; never holds the password
  bool outcome_unknown = false;  // the commands may have run
};

using Command = std::vector<std::string>;

class RedisClient {
 public:
  explicit RedisClient(RedisConfig config);
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;
  ~RedisClient();

  // Sends `commands` in one pipeline and returns their replies, in order.
  std::expected<std::vector<Reply>, ClientError> run(std::span<const Command> commands);
  // One command.
  std::expected<Reply, ClientError> run(const Command& command);

  const RedisConfig& config() const { return config_; }

 private:
  struct Connection;  // the socket, its TLS session and the reply parser (redis_client.cpp)

  std::expected<void, ClientError> connect();
  void disconnect();
  ClientError failure(std::string what, bool outcome_unknown);
  // Runs the TLS handshake on the new connection, verifying the certificate and the host.
  std::expected<void, std::string> start_tls();
  struct FreeContext {
    void operator()(ssl_ctx_st* context) const;
  };

  RedisConfig config_;
  std::unique_ptr<Connection> connection_;
  std::unique_ptr<ssl_ctx_st, FreeContext> tls_context_;  // made on the first TLS connect
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
};

}  // namespace store::redis
