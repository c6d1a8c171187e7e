// The Redis client: sockets, TLS (OpenSSL), pipelines, and hiredis's command formatter and
// reply parser.
#include "store/redis/redis_client.hpp"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/ca_bundle.hpp"

namespace store::redis {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};

Reply convert(const redisReply& raw) {
  Reply reply;
  switch (raw.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      reply.type = raw.type == REDIS_REPLY_STRING   ? Reply::Type::string
                   : raw.type == REDIS_REPLY_STATUS ? Reply::Type::status
                                                    : Reply::Type::error;
      reply.text.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_INTEGER:
      reply.type = Reply::Type::integer;
      reply.integer = raw.integer;
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = Reply::Type::array;
      reply.elements.reserve(raw.elements);
      for (std::size_t i = 0; i < raw.elements; ++i) {
        reply.elements.push_back(convert(*raw.element[i]));
      }
      break;
    default:
      reply.type = Reply::Type::nil;
  }
  return reply;
}

// `command` in the protocol's form (RESP), appended to `out`.
void format(const Command& command, std::string& out) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const std::string& arg : command) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* formatted = nullptr;
  const long long size = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()),
                                                argv.data(), lengths.data());
  if (size > 0) out.append(formatted, static_cast<std::size_t>(size));
  redisFreeCommand(formatted);
}

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "TLS failed";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// Connects to `host`:`port` within `timeout`; returns the socket (blocking, with send and
// receive timeouts) or why it failed.
std::expected<int, std::string> open_socket(const std::string& host, std::uint16_t port,
                                            std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* found = nullptr;
  const int resolved = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (resolved != 0) return std::unexpected(std::string(::gai_strerror(resolved)));
  std::string why = "no address";
  int fd = -1;
  for (addrinfo* at = found; at != nullptr && fd < 0; at = at->ai_next) {
    fd = ::socket(at->ai_family, at->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, at->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, at->ai_addr, at->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd watched{.fd = fd, .events = POLLOUT, .revents = 0};
      rc = ::poll(&watched, 1, static_cast<int>(timeout.count())) == 1 ? 0 : -1;
      int error = rc == 0 ? 0 : ETIMEDOUT;
      socklen_t size = sizeof error;
      if (rc == 0) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
      if (error != 0) {
        errno = error;
        rc = -1;
      }
    }
    if (rc != 0) {
      why = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return std::unexpected(why);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  const timeval tv{.tv_sec = static_cast<time_t>(timeout.count() / 1000),
                   .tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  return fd;
}

}  // namespace

struct RedisClient::Connection {
  int fd = -1;
  SSL* tls = nullptr;
  redisReader* reader = redisReaderCreate();

  ~Connection() {
    if (tls != nullptr) SSL_free(tls);
    if (fd >= 0) ::close(fd);
    redisReaderFree(reader);
  }

  // Sends all of `bytes`; the number sent, even on failure.
  std::size_t send(std::string_view bytes, std::string& why) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const char* at = bytes.data() + sent;
      const std::size_t left = bytes.size() - sent;
      const long n = tls != nullptr ? SSL_write(tls, at, static_cast<int>(left))
                                    : ::send(fd, at, left, MSG_NOSIGNAL);
      if (n <= 0) {
        if (tls == nullptr && errno == EINTR) continue;
        why = tls != nullptr ? openssl_error() : std::strerror(errno);
        return sent;
      }
      sent += static_cast<std::size_t>(n);
    }
    return sent;
  }

  // The next reply, or why none could be read.
  std::expected<Reply, std::string> receive() {
    for (;;) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader, &raw) != REDIS_OK) {
        return std::unexpected("a malformed reply: " + std::string(reader->errstr));
      }
      if (raw != nullptr) {
        Reply reply = convert(*static_cast<redisReply*>(raw));
        freeReplyObject(raw);
        return reply;
      }
      char buffer[16384];
      const long n = tls != nullptr ? SSL_read(tls, buffer, sizeof buffer)
                                    : ::recv(fd, buffer, sizeof buffer, 0);
      if (n == 0) return std::unexpected("the server closed the connection");
      if (n < 0) {
        if (tls == nullptr && errno == EINTR) continue;
        return std::unexpected(tls != nullptr    ? openssl_error()
                               : errno == EAGAIN ? "no answer within the timeout"
                                                 : std::string(std::strerror(errno)));
      }
      redisReaderFeed(reader, buffer, static_cast<std::size_t>(n));
    }
  }

  // True when the server closed the connection (or it failed) while it was idle: readable,
  // and a peek finds the end of the stream or an error rather than data.
  bool closed_while_idle() const {
    pollfd watched{.fd = fd, .events = POLLIN, .revents = 0};
    if (::poll(&watched, 1, 0) <= 0) return false;
    char byte = 0;
    return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
  }
};

void RedisClient::FreeContext::operator()(ssl_ctx_st* context) const { SSL_CTX_free(context); }

RedisClient::RedisClient(RedisConfig config) : config_(std::move(config)) {}

RedisClient::~RedisClient() = default;

void RedisClient::disconnect() { connection_.reset(); }

ClientError RedisClient::failure(std::string what, bool outcome_unknown) {
  disconnect();
  return ClientError{std::move(what), outcome_unknown};
}

std::expected<void, ClientError> RedisClient::connect() {
  // A connection the server closed while idle (a restart) would take the next commands
  // and lose them, leaving their outcome unknown: drop it and connect again instead.
  if (connection_ && connection_->closed_while_idle()) disconnect();
  if (connection_) return {};
  const std::string where = config_.host + ":" + std::to_string(config_.port);
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - now);
    return std::unexpected(ClientError{"Redis at " + where +
                                       " is unreachable; the next attempt is in " +
                                       std::to_string(wait.count()) + " ms"});
  }
  const auto failed = [&](const std::string& why) {
    disconnect();
    backoff_ = std::clamp(backoff_ * 2, kFirstBackoff, kMaxBackoff);
    next_attempt_ = std::chrono::steady_clock::now() + backoff_;
    return std::unexpected(ClientError{"cannot connect to Redis at " + where + ": " + why});
  };
  auto fd = open_socket(config_.host, config_.port, config_.timeout);
  if (!fd) return failed(fd.error());
  connection_ = std::make_unique<Connection>();
  connection_->fd = *fd;
  if (config_.tls) {
    if (auto secured = start_tls(); !secured) return failed(secured.error());
  }
  std::vector<Command> setup;
  if (!config_.password.empty()) {
    setup.push_back(config_.user.empty() ? Command{"AUTH", config_.password}
                                         : Command{"AUTH", config_.user, config_.password});
  }
  if (config_.db != 0) setup.push_back({"SELECT", std::to_string(config_.db)});
  std::string bytes;
  for (const Command& command : setup) format(command, bytes);
  std::string why;
  if (connection_->send(bytes, why) != bytes.size()) return failed(why);
  for (std::size_t i = 0; i < setup.size(); ++i) {
    auto reply = connection_->receive();
    if (!reply) return failed(reply.error());
    if (reply->type == Reply::Type::error) {
      return failed(setup[i][0] == "AUTH" ? "AUTH refused" : reply->text);
    }
  }
  backoff_ = std::chrono::milliseconds(0);
  return {};
}

std::expected<void, std::string> RedisClient::start_tls() {
  if (!tls_context_) {
    SSL_CTX* context = SSL_CTX_new(TLS_client_method());
    if (context == nullptr) return std::unexpected(openssl_error());
    tls_context_.reset(context);
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    const std::string bundle = util::find_ca_bundle(config_.ca_file);
    if (bundle.empty() || SSL_CTX_load_verify_locations(context, bundle.c_str(), nullptr) != 1) {
      if (!config_.ca_file.empty()) {
        tls_context_.reset();
        return std::unexpected("cannot read ca_file " + config_.ca_file);
      }
      SSL_CTX_set_default_verify_paths(context);
    }
  }
  SSL* tls = SSL_new(tls_context_.get());
  if (tls == nullptr) return std::unexpected(openssl_error());
  connection_->tls = tls;
  SSL_set_fd(tls, connection_->fd);
  const bool ip = config_.host.find_first_not_of("0123456789.") == std::string::npos ||
                  config_.host.find(':') != std::string::npos;
  if (ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls), config_.host.c_str());
  } else {
    // SSL_set_tlsext_host_name(), without the macro's C cast: the name for SNI.
    SSL_ctrl(tls, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(config_.host.c_str()));
    SSL_set1_host(tls, config_.host.c_str());
  }
  if (SSL_connect(tls) != 1) {
    const long verified = SSL_get_verify_result(tls);
    if (verified != X509_V_OK) {
      return std::unexpected("the certificate was refused: " +
                             std::string(X509_verify_cert_error_string(verified)));
    }
    return std::unexpected("TLS handshake failed: " + openssl_error());
  }
  return {};
}

std::expected<std::vector<Reply>, ClientError> RedisClient::run(std::span<const Command> commands) {
  if (auto connected = connect(); !connected) return std::unexpected(connected.error());
  std::string bytes;
  std::vector<std::size_t> ends;  // where each command's bytes end
  for (const Command& command : commands) {
    format(command, bytes);
    ends.push_back(bytes.size());
  }
  std::string why;
  const std::size_t sent = connection_->send(bytes, why);
  if (sent != bytes.size()) {
    // Redis runs only complete commands: those wholly sent may have run.
    const bool some_complete = sent >= ends.front();
    return std::unexpected(failure("writing to Redis failed: " + why, some_complete));
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    auto reply = connection_->receive();
    if (!reply)
      return std::unexpected(failure("reading from Redis failed: " + reply.error(), true));
    replies.push_back(std::move(*reply));
  }
  return replies;
}

std::expected<Reply, ClientError> RedisClient::run(const Command& command) {
  auto replies = run(std::span<const Command>(&command, 1));
  if (!replies) return std::unexpected(replies.error());
  return std::move(replies->front());
}

}  // namespace store::redis
