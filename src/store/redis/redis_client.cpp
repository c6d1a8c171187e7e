// The Redis client: connections, pipelines and reply conversion on hiredis.
#include "store/redis/redis_client.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>

namespace store::redis {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};

timeval to_timeval(std::chrono::milliseconds ms) {
  return {.tv_sec = static_cast<time_t>(ms.count() / 1000),
          .tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

Reply convert(const redisReply& raw) {
  Reply reply;
  switch (raw.type) {
    case REDIS_REPLY_STRING:
      reply.type = Reply::Type::string;
      reply.text.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_STATUS:
      reply.type = Reply::Type::status;
      reply.text.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_ERROR:
      reply.type = Reply::Type::error;
      reply.text.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_INTEGER:
      reply.type = Reply::Type::integer;
      reply.integer = raw.integer;
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = Reply::Type::array;
      reply.elements.reserve(raw.elements);
      for (std::size_t i = 0; i < raw.elements; ++i)
        reply.elements.push_back(convert(*raw.element[i]));
      break;
    default:
      reply.type = Reply::Type::nil;
  }
  return reply;
}

void append(redisContext* context, const Command& command) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const std::string& arg : command) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data());
}

}  // namespace

RedisClient::~RedisClient() { disconnect(); }

void RedisClient::disconnect() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

// True when the server closed the connection (or it failed) while it was idle: it is
// readable, and a peek finds the end of the stream or an error rather than data.
static bool closed_while_idle(int fd) {
  pollfd watched{.fd = fd, .events = POLLIN, .revents = 0};
  if (::poll(&watched, 1, 0) <= 0) return false;
  char byte = 0;
  return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

std::expected<void, ClientError> RedisClient::connect() {
  // A connection the server closed while idle (a restart) would take the next commands
  // and lose them, leaving their outcome unknown: drop it and connect again instead.
  if (context_ != nullptr && closed_while_idle(context_->fd)) disconnect();
  if (context_ != nullptr) return {};
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) {
    return std::unexpected(ClientError{
        "Redis at " + config_.host + ":" + std::to_string(config_.port) +
        " is unreachable; the next attempt is in " +
        std::to_string(
            std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - now).count()) +
        " ms"});
  }
  const auto failed = [&](std::string why) {
    disconnect();
    backoff_ = std::clamp(backoff_ * 2, kFirstBackoff, kMaxBackoff);
    next_attempt_ = std::chrono::steady_clock::now() + backoff_;
    return std::unexpected(ClientError{"cannot connect to Redis at " + config_.host + ":" +
                                       std::to_string(config_.port) + ": " + why});
  };
  context_ =
      redisConnectWithTimeout(config_.host.c_str(), config_.port, to_timeval(config_.timeout));
  if (context_ == nullptr) return failed("out of memory");
  if (context_->err != 0) return failed(context_->errstr);
  redisSetTimeout(context_, to_timeval(config_.timeout));
  redisEnableKeepAlive(context_);
  std::vector<Command> setup;
  if (!config_.password.empty()) {
    setup.push_back(config_.user.empty() ? Command{"AUTH", config_.password}
                                         : Command{"AUTH", config_.user, config_.password});
  }
  if (config_.db != 0) setup.push_back({"SELECT", std::to_string(config_.db)});
  if (!setup.empty()) {
    redisContext* context = context_;
    for (const Command& command : setup) append(context, command);
    for (std::size_t i = 0; i < setup.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(context, &raw) != REDIS_OK) return failed(context->errstr);
      const Reply reply = convert(*static_cast<redisReply*>(raw));
      freeReplyObject(raw);
      if (reply.type == Reply::Type::error)
        return failed(i == 0 && !config_.password.empty() ? "AUTH refused" : reply.text);
    }
  }
  backoff_ = std::chrono::milliseconds(0);
  return {};
}

std::expected<std::vector<Reply>, ClientError> RedisClient::run(std::span<const Command> commands) {
  if (auto connected = connect(); !connected) return std::unexpected(connected.error());
  for (const Command& command : commands) append(context_, command);
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(context_, &done) != REDIS_OK) {
      ClientError error{std::string("writing to Redis failed: ") + context_->errstr,
                        commands.size() > 1};
      disconnect();
      return std::unexpected(error);
    }
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK) {
      ClientError error{std::string("reading from Redis failed: ") + context_->errstr, true};
      disconnect();
      return std::unexpected(error);
    }
    replies.push_back(convert(*static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  return replies;
}

std::expected<Reply, ClientError> RedisClient::run(const Command& command) {
  auto replies = run(std::span<const Command>(&command, 1));
  if (!replies) return std::unexpected(replies.error());
  return std::move(replies->front());
}

}  // namespace store::redis
