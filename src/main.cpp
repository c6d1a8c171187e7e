// visitor-counter: parses the configuration, wires store → counter → app → server, and
// serves until SIGINT/SIGTERM; or, as a Lambda bootstrap, wires store → counter → app →
// runtime loop. The only place with process-wide state.
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string_view>
#include <vector>

#include "app/app.hpp"
#include "cli/commands.hpp"
#include "config/config.hpp"
#include "config/version.hpp"
#include "counting/policy/bots.hpp"
#include "counting/write_combiner.hpp"
#include "http/server.hpp"
#include "lambda/runtime.hpp"
#include "metrics/registry.hpp"
#include "store/store.hpp"
#include "util/log_throttle.hpp"

namespace {

int fail(std::string_view message, int code) {
  util::log_to_stderr(message);
  return code;
}

const char* environment(const char* name) { return std::getenv(name); }

// Raises the soft limit on open files (often 1024) so `connections` client sockets fit,
// beside the store's files and connections; fails when the hard limit is too low.
std::expected<void, std::string> make_room_for(std::size_t connections) {
  constexpr rlim_t kSpare = 256;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  const rlim_t wanted = static_cast<rlim_t>(connections) + kSpare;
  if (limit.rlim_cur >= wanted) return {};
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) {
    return std::unexpected("--max-connections " + std::to_string(connections) + " needs " +
                           std::to_string(wanted) + " open files, but the hard limit is " +
                           std::to_string(limit.rlim_max) +
                           " (raise it, e.g. LimitNOFILE= in systemd, or lower the bound)");
  }
  limit.rlim_cur = wanted;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return std::unexpected("cannot raise RLIMIT_NOFILE");
  return {};
}

// What both ways of running share: store → counter → app, built in that order.
struct Core {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::Store> reader;  // serve on a network store: reads' own connection
  metrics::Registry metrics;
  std::optional<counting::WriteCombiner> counter;
  std::optional<app::App> app;

  ~Core() {
    if (counter) counter->stop();  // answers every queued hit before the store closes
  }
};

// The admin token from its file or VC_ADMIN_TOKEN (the file wins), or none; fails with a
// one-line reason on an unreadable file or a weak token.
std::expected<std::optional<app::AdminToken>, std::string> admin_token(
    const config::Config& config) {
  std::string token = config.admin_token;
  if (!config.admin_token_file.empty()) {
    std::ifstream file(config.admin_token_file);
    std::ostringstream text;
    text << file.rdbuf();
    if (!file) return std::unexpected("cannot read --admin-token-file " + config.admin_token_file);
    token = text.str();
  }
  if (token.empty()) return std::nullopt;
  auto made = app::AdminToken::create(token);
  if (!made) return std::unexpected(made.error());
  return std::optional<app::AdminToken>(std::move(*made));
}

// Live streams' bounds and pace. The poll of every watched counter sees other processes'
// hits: on Redis one pipelined round trip, so twice a second (a hit elsewhere shows within
// a second); on DynamoDB each counter read is a billed read, so once a second; on SQLite it
// only catches the CLI's changes.
app::LiveOptions live_options(const config::Config& config) {
  app::LiveOptions options;
  options.max_streams = config.max_streams;
  // One address (a NAT may hide many readers) gets a tenth of them at most.
  options.max_per_client = std::max<std::size_t>(1, config.max_streams / 10);
  if (config.store.starts_with("redis")) options.poll_interval = std::chrono::milliseconds(500);
  return options;
}

// Fails with a one-line reason: a bad origin list or public URL, a bad admin token, or an
// unusable store. `io_threads`, when given, is where batches of an in-process store are
// applied (the HTTP server's threads); otherwise the combiner has a worker thread.
std::expected<std::unique_ptr<Core>, std::string> make_core(const config::Config& config,
                                                            counting::Runner io_threads = {}) {
  auto origins =
      app::OriginPolicy::create(config.allow_origins, config.require_origin, config.public_url);
  if (!origins) return std::unexpected(origins.error());
  auto admin = admin_token(config);
  if (!admin) return std::unexpected(admin.error());
  auto store = store::make_store(
      config.store,
      store::StoreOptions{.sync = config.sync, .create = true, .keep_days = config.keep_days},
      environment);
  if (!store) return std::unexpected(store.error());
  const bool serving = static_cast<bool>(io_threads);  // Lambda cannot stream
  auto core = std::make_unique<Core>();
  core->store = std::move(*store);
  if (io_threads && !core->store->in_process()) {
    // A server's reads and health checks go through a second store (its own connections),
    // so that a flood of them never queues ahead of counting. A Lambda function serves one
    // request at a time and keeps one.
    core->reader = core->store->open_reader();
  }
  core->metrics.set_bounds(config.max_pending, config.max_connections);
  core->counter.emplace(
      *core->store, core->metrics,
      counting::CombinerOptions{
          .max_pending = config.max_pending,
          .queue_timeout = config.queue_timeout,
          .repeat_window = config.rules.repeat_window,
          .max_counters = config.max_counters,
          .create_counters = !config.rules.owner_creates_counters,
          .history = config.rules.profile == counting::policy::Profile::full,
          .clock = {},
          .run_on = core->store->in_process() ? std::move(io_threads) : counting::Runner(),
          .reader = core->reader.get()});
  app::CountingOptions counting{
      .rules = config.rules, .is_bot = {}, .proxies = {}, .rate_limiter = nullptr};
  if (config.rules.ignore_bots) {
    auto bots = std::make_shared<counting::policy::BotFilter>();
    counting.is_bot = [bots](std::optional<std::string_view> agent) { return bots->is_bot(agent); };
  }
  if (auto proxies = counting::policy::TrustedProxies::parse(config.rules.trusted_proxies)) {
    counting.proxies = std::move(*proxies);  // checked by config::parse
  }
  if (config.rules.rate_limit) {
    counting.rate_limiter =
        std::make_shared<counting::policy::RateLimiter>(*config.rules.rate_limit);
  }
  core->app.emplace(
      *core->counter, core->metrics, std::move(*origins), std::move(counting),
      app::OwnerOptions{.admin = std::move(*admin),
                        .private_stats = config.private_stats,
                        .metrics_listener = config.metrics_port.has_value(),
                        .demo_page = config.demo_page,
                        .clock = {},
                        .live = serving ? std::optional(live_options(config)) : std::nullopt});
  return core;
}

int serve(const config::Config& config) {
  // Origins first, so that a bad one is reported as such rather than as a busy port.
  auto checked =
      app::OriginPolicy::create(config.allow_origins, config.require_origin, config.public_url);
  if (!checked) return fail(checked.error(), 1);
  const http::ServerOptions options{.host = config.listen_host,
                                    .port = config.listen_port,
                                    .threads = config.threads,
                                    .read_timeout = config.read_timeout,
                                    .max_connections = config.max_connections,
                                    .operator_host = config.metrics_host,
                                    .operator_port = config.metrics_port};
  if (auto room = make_room_for(config.max_connections); !room) return fail(room.error(), 1);
  auto server = http::Server::bind(options);
  if (!server) return fail(server.error(), 1);
  // Without --public-url, the demo page counts when opened at the printed URL of a
  // loopback address: no other machine can serve a page from that origin.
  config::Config effective = config;
  if (effective.public_url.empty() && (*server)->is_loopback()) {
    effective.public_url = (*server)->url();
  }
  auto core = make_core(effective, [&server = **server](std::move_only_function<void()> work) {
    server.post(std::move(work));
  });
  if (!core) return fail(core.error(), 1);

  const std::string metrics = (*server)->operator_url();
  std::cout << "visitor-counter listening on " << (*server)->url()
            << (metrics.empty() ? "" : " (metrics on " + metrics + ")") << " ("
            << config::describe(effective) << ")" << std::endl;
  (*server)->run_until_signal(*(*core)->app);
  (*core)->app->stop_live();  // before the server: open streams' wake-ups post to it
  (*core)->counter->stop();
  // The server goes first: connections it still holds refer to the app and its metrics
  // when they are destroyed.
  server->reset();
  std::cout << "visitor-counter stopped" << std::endl;
  return 0;
}

// As the Lambda bootstrap: a start-up failure goes to the Runtime API's init/error.
int run_lambda(const config::Config& config) {
  auto core = make_core(config);
  if (!core) {
    lambda::report_init_error(config.runtime_api, "Runtime.ConfigError", core.error());
    return fail(core.error(), 1);
  }
  // A cold start's first hit would ask for the day's salt, then the mark, then the counter:
  // the salt is fetched now, beside the wait for the first event.
  if (config.rules.profile == counting::policy::Profile::full) (*core)->counter->prefetch_salt();
  return lambda::run(*(*core)->app, {.runtime_api = config.runtime_api, .log = std::cout});
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    if (!args.empty() && (args[0] == "export" || args[0] == "import" || args[0] == "backup" ||
                          args[0] == "healthcheck")) {
      const auto rest = std::span(args).subspan(1);
      for (const std::string_view arg : rest) {
        if (arg == "--help" || arg == "-h") {
          std::cout << cli::help(args[0]);
          return 0;
        }
      }
      if (args[0] == "backup") return cli::run_backup(rest);
      if (args[0] == "healthcheck") return cli::run_healthcheck(rest, environment);
      return args[0] == "export" ? cli::run_export(rest, environment)
                                 : cli::run_import(rest, environment);
    }
    auto config = config::parse(args, environment);
    if (!config) {
      if (const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API"); api != nullptr && *api != '\0')
        lambda::report_init_error(api, "Runtime.ConfigError", config.error());
      return fail(config.error(), 2);
    }
    if (config->command == config::Command::help) {
      std::cout << config::help_text();
      return 0;
    }
    if (config->command == config::Command::version) {
      std::cout << "visitor-counter " << config::version() << " (commit " << config::commit() << ")"
                << std::endl;
      return 0;
    }
    if (config->command == config::Command::lambda) return run_lambda(*config);
    return serve(*config);
  } catch (const std::exception& e) {
    return fail(std::string("fatal: ") + e.what(), 1);
  }
}
