// visitor-counter: parses the configuration, wires store → counter → app → server, and
// serves until SIGINT/SIGTERM. The only place with process-wide state.
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string_view>
#include <vector>

#include "app/app.hpp"
#include "config/config.hpp"
#include "counting/write_combiner.hpp"
#include "http/server.hpp"
#include "metrics/registry.hpp"
#include "store/store.hpp"

namespace {

int fail(std::string_view message, int code) {
  std::cerr << "visitor-counter: " << message << std::endl;
  return code;
}

int serve(const config::Config& config) {
  auto origins = app::OriginPolicy::create(config.allow_origins, config.require_origin);
  if (!origins) return fail(origins.error(), 2);
  auto store = store::make_store(config.store, store::StoreOptions{.sync = config.sync});
  if (!store) return fail(store.error(), 1);

  metrics::Registry metrics;
  counting::WriteCombiner counter(**store, metrics);
  app::App app(counter, metrics, std::move(*origins));
  const http::ServerOptions options{.host = config.listen_host,
                                    .port = config.listen_port,
                                    .threads = config.threads,
                                    .read_timeout = config.read_timeout};
  auto server = http::Server::bind(options, app);
  if (!server) return fail(server.error(), 1);

  std::cout << "visitor-counter listening on " << (*server)->url() << " ("
            << config::describe(config) << ")" << std::endl;
  (*server)->run_until_signal();
  counter.stop();
  std::cout << "visitor-counter stopped" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    auto config = config::parse(args, [](const char* name) { return std::getenv(name); });
    if (!config) return fail(config.error(), 2);
    if (config->command == config::Command::help) {
      std::cout << config::help_text();
      return 0;
    }
    return serve(*config);
  } catch (const std::exception& e) {
    return fail(std::string("fatal: ") + e.what(), 1);
  }
}
