// make_store: the one place that maps a store URL to a backend.
#include "aws/credentials.hpp"
#include "store/dynamodb/dynamodb_store.hpp"
#include "store/dynamodb/dynamodb_url.hpp"
#include "store/memory/memory_store.hpp"
#ifdef VC_REDIS
#include "store/redis/redis_store.hpp"
#include "store/redis/redis_url.hpp"
#endif
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

namespace store {
namespace {

std::expected<std::unique_ptr<Store>, std::string> make_dynamodb_store(std::string_view url,
                                                                       const Environment& env) {
  // The region the URL leaves out comes from the standard chain (environment, profile,
  // instance metadata), looked up only when the URL and the environment are silent.
  const Environment with_region =
      [&env, region = std::optional<std::string>()](const char* name) mutable -> const char* {
    const char* value = env ? env(name) : nullptr;
    if ((value != nullptr && *value != '\0') || std::string_view(name) != "AWS_REGION") {
      return value;
    }
    if (!region) region = aws::default_region(env).value_or("");
    return region->empty() ? nullptr : region->c_str();
  };
  auto config = dynamodb::parse_dynamodb_url(url, with_region);
  if (!config) return std::unexpected(config.error());
  auto credentials = aws::default_credential_chain(env);
  if (!credentials) return std::unexpected(credentials.error());
  return std::unique_ptr<Store>(DynamoDbStore::open(std::move(*config), std::move(*credentials)));
}

// The store `url` names, as its backend opens it.
std::expected<std::unique_ptr<Store>, std::string> open_store(std::string_view url,
                                                              const StoreOptions& options,
                                                              const Environment& env) {
  if (url == "memory:") return std::make_unique<MemoryStore>();
  if (url.starts_with("sqlite:")) {
    const std::string path(url.substr(7));
    if (path.empty()) return std::unexpected("store URL sqlite:PATH needs a path");
    auto opened = SqliteStore::open(path, options.sync, options.create);
    if (!opened) return std::unexpected(opened.error());
    return std::unique_ptr<Store>(std::move(*opened));
  }
  if (url.starts_with("dynamodb:")) return make_dynamodb_store(url, env);
  if (url.starts_with("redis:") || url.starts_with("rediss:")) {
#ifdef VC_REDIS
    auto config = redis::parse_redis_url(url);
    if (!config) return std::unexpected(config.error());
    return std::unique_ptr<Store>(std::make_unique<RedisStore>(std::move(*config)));
#else
    return std::unexpected(
        "this build has no Redis store (the Lambda bootstrap counts in DynamoDB)");
#endif
  }
  return std::unexpected(
      "unknown store URL '" + std::string(url) +
      "' (expected sqlite:PATH, memory:, dynamodb://TABLE or redis://HOST:PORT)");
}

}  // namespace

std::expected<std::unique_ptr<Store>, std::string> make_store(std::string_view url,
                                                              const StoreOptions& options,
                                                              const Environment& env) {
  auto store = open_store(url, options, env);
  if (!store) return store;
  if (auto kept = (*store)->keep_days(options.keep_days); !kept) {
    return std::unexpected(kept.error());
  }
  return store;
}

}  // namespace store
