// Configuration: a plain struct with each default beside its field, filled from flags and
// `VC_*` environment variables (a flag wins over its variable), plus the variables Lambda
// and the deploy template set (AWS_LAMBDA_RUNTIME_API, TABLE_NAME, AWS_REGION). Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "counting/policy/rules.hpp"
#include "store/store.hpp"

namespace config {

// serve: the HTTP server. lambda: the Lambda runtime loop (the function's bootstrap).
// help, version: print --help or --version.
enum class Command { serve, lambda, help, version };

struct Config {
  Command command = Command::serve;
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string store = "sqlite:var/counter.db";
  std::vector<std::string> allow_origins;  // empty: only requests without Origin count
  // Where the demo page is served from (http(s)://host[:port]); its origin may count even
  // when off the list. Empty: serve uses the listen address if it is a loopback address
  // (with the port actually bound); lambda has no such exemption.
  std::string public_url;
  bool require_origin = false;
  store::SyncMode sync = store::SyncMode::full;
  unsigned threads = 0;                            // 0 after parse only for lambda
  std::chrono::milliseconds read_timeout{10'000};  // to receive a whole request
  std::size_t max_pending = 4096;  // hits and reads accepted, not yet answered; more: 503
  // A hit not sent to the store this long after it arrived is answered 503, never counted.
  // Below the widget's 4 s, leaving time for the store's own answer. 0: no limit.
  std::chrono::milliseconds queue_timeout{3000};
  // No new counter once the store holds this many (store::Batch::max_counters); 0: no limit.
  std::size_t max_counters = 0;
  // Days of history kept (store::Store::keep_days); 0: every day.
  int keep_days = 0;
  std::size_t max_connections = 10'000;  // open client connections; more: closed at once
  std::size_t max_streams = 1000;        // open live streams (GET /stream/{key}); more: 503
  counting::policy::Rules rules;  // what counts: unit, bots, repeats, DNT (classic: all views)
  // The admin token's file (--admin-token-file) or the token itself (VC_ADMIN_TOKEN, never a
  // flag: command lines are visible to every user). Both empty: no admin routes.
  std::string admin_token_file;
  std::string admin_token;
  bool private_stats = false;  // history and period badges need the admin token
  // --metrics-listen HOST:PORT: /metrics (and /healthz) there only; no port: on the main one.
  std::string metrics_host;
  std::optional<std::uint16_t> metrics_port;
  bool demo_page = true;    // false (--no-demo): / answers 404; /counter.js stays
  std::string runtime_api;  // lambda: host:port of the Runtime API, from AWS_LAMBDA_RUNTIME_API
};

// Returns the variable's value or nullptr, like std::getenv.
using Environment = std::function<const char*(const char*)>;

// Parses `args` (without the program name): `serve [flags]`, `lambda [flags]`, `--help`.
// With no command, AWS_LAMBDA_RUNTIME_API set means `lambda`, else `serve`. With neither
// --store nor VC_STORE, TABLE_NAME selects `dynamodb://TABLE_NAME?region=$AWS_REGION` (the
// region part only when AWS_REGION is set). Fails with a one-line message naming the bad
// flag or value; `lambda` fails without AWS_LAMBDA_RUNTIME_API.
std::expected<Config, std::string> parse(std::span<const std::string_view> args,
                                         const Environment& env);

// I/O threads when --threads is not given: the CPUs this process may run on, minus one, and
// at least one.
unsigned default_threads();

// The --help text: every flag, its variable and its default.
std::string help_text();

// One line describing the effective configuration, for the start-up log.
std::string describe(const Config& config);

}  // namespace config
