// Configuration: defaults, flags, environment, precedence and errors.
#include "config/config.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <map>

namespace config {
namespace {

std::expected<Config, std::string> parse_with(std::vector<std::string_view> args,
                                              std::map<std::string, std::string> env = {}) {
  return parse(args, [env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(Config, Defaults) {
  auto c = parse_with({"serve"});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_EQ(c->store, "sqlite:var/counter.db");
  EXPECT_TRUE(c->allow_origins.empty());
  EXPECT_TRUE(c->public_url.empty());  // serve then uses the loopback listen address
  EXPECT_FALSE(c->require_origin);
  EXPECT_EQ(c->sync, store::SyncMode::full);
  EXPECT_GE(c->threads, 1U);
  EXPECT_EQ(c->max_pending, 4096U);
  EXPECT_EQ(c->max_connections, 10'000U);
}

// The default leaves a core to the kernel and the syncer; one CPU still gets a thread.
TEST(Config, DefaultThreadsFollowTheCpusThisProcessMayUse) {
  EXPECT_GE(default_threads(), 1U);
  cpu_set_t before;
  ASSERT_EQ(sched_getaffinity(0, sizeof before, &before), 0);
  if (CPU_COUNT(&before) >= 3) {
    EXPECT_EQ(default_threads(), static_cast<unsigned>(CPU_COUNT(&before) - 1));
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &before)) {
      CPU_SET(cpu, &one);
      break;
    }
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  EXPECT_EQ(default_threads(), 1U);
  EXPECT_EQ(parse_with({"serve"})->threads, 1U);
  ASSERT_EQ(sched_setaffinity(0, sizeof before, &before), 0);
}

TEST(Config, OperatingFlags) {
  auto plain = parse_with({"serve"});
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->metrics_port);
  EXPECT_TRUE(plain->demo_page);
  EXPECT_TRUE(plain->admin_token.empty());
  auto c = parse_with({"serve", "--metrics-listen", "[::1]:9090", "--no-demo", "--private-stats",
                       "--admin-token-file", "/etc/vc/token"},
                      {{"VC_ADMIN_TOKEN", "from-the-environment-123"}});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->metrics_host, "::1");
  EXPECT_EQ(c->metrics_port, 9090);
  EXPECT_FALSE(c->demo_page);
  EXPECT_TRUE(c->private_stats);
  EXPECT_EQ(c->admin_token_file, "/etc/vc/token");
  EXPECT_EQ(c->admin_token, "from-the-environment-123");
  EXPECT_FALSE(parse_with({"serve", "--metrics-listen", "9090"}));
  EXPECT_EQ(parse_with({"--version"})->command, Command::version);
  auto lambda = parse_with({"lambda", "--metrics-listen", "127.0.0.1:9090"},
                           {{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"}});
  ASSERT_FALSE(lambda);
  EXPECT_NE(lambda.error().find("--metrics-listen is for serve"), std::string::npos);
}

TEST(Config, CountingPolicyDefaultsAreClassic) {
  auto c = parse_with({"serve"});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->rules.unit, counting::policy::CountUnit::views);
  EXPECT_FALSE(c->rules.ignore_bots);
  EXPECT_FALSE(c->rules.respect_dnt);
  EXPECT_EQ(c->rules.repeat_window, std::chrono::seconds(0));
  EXPECT_EQ(c->rules.rate_limit, std::nullopt);
  EXPECT_TRUE(c->rules.trusted_proxies.empty());
  EXPECT_EQ(c->rules.forwarded_header, counting::policy::ForwardedHeader::x_forwarded_for);
}

TEST(Config, CountingPolicyFlagsAndVariables) {
  auto c = parse_with({"serve", "--count-unit", "visitors", "--ignore-bots", "--repeat-window=10",
                       "--rate-limit", "5/s,burst=20", "--trust-proxy", "10.0.0.0/8",
                       "--trust-proxy", "::1", "--forwarded-header", "forwarded"},
                      {{"VC_RESPECT_DNT", "true"}, {"VC_TRUST_PROXIES", "192.0.2.1"}});
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->rules.unit, counting::policy::CountUnit::visitors);
  EXPECT_TRUE(c->rules.ignore_bots);
  EXPECT_TRUE(c->rules.respect_dnt);
  EXPECT_EQ(c->rules.repeat_window, std::chrono::seconds(10));
  EXPECT_EQ(c->rules.rate_limit, (counting::policy::RateLimitSpec{5, 20}));
  // The first --trust-proxy replaces the variable's list; more flags add to it.
  EXPECT_EQ(c->rules.trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "::1"}));
  EXPECT_EQ(c->rules.forwarded_header, counting::policy::ForwardedHeader::forwarded);
  EXPECT_NE(describe(*c).find("count_unit=visitors ignore_bots=true repeat_window=10 "
                              "respect_dnt=true rate_limit=5/s,burst=20 trusted_proxies=2"),
            std::string::npos)
      << describe(*c);
  auto from_env =
      parse_with({"serve"}, {{"VC_TRUST_PROXIES", "10.0.0.1, 10.0.0.2"}, {"VC_RATE_LIMIT", "off"}});
  ASSERT_TRUE(from_env.has_value()) << from_env.error();
  EXPECT_EQ(from_env->rules.trusted_proxies, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  EXPECT_EQ(from_env->rules.rate_limit, std::nullopt);
}

TEST(Config, TheClassicProfileRefusesWhatNeedsVisitorsOrDays) {
  auto classic =
      parse_with({"lambda"}, {{"AWS_LAMBDA_RUNTIME_API", "x:1"}, {"VC_PROFILE", "classic"}});
  ASSERT_TRUE(classic.has_value()) << classic.error();
  EXPECT_EQ(classic->rules.profile, counting::policy::Profile::classic);
  EXPECT_NE(describe(*classic).find(" profile=classic "), std::string::npos) << describe(*classic);
  EXPECT_EQ(parse_with({"serve"})->rules.profile, counting::policy::Profile::full);
  const std::pair<std::vector<std::string_view>, std::string_view> refused[] = {
      {{"serve", "--profile", "classic", "--count-unit", "visitors"}, "--count-unit views"},
      {{"serve", "--profile", "classic", "--repeat-window", "10"}, "--repeat-window"},
      {{"serve", "--profile", "classic", "--keep-days", "30"}, "--keep-days"},
      {{"serve", "--profile", "cheap"}, "expected full or classic"},
  };
  for (const auto& [args, words] : refused) {
    auto c = parse_with(args);
    ASSERT_FALSE(c.has_value()) << words;
    EXPECT_NE(c.error().find(words), std::string::npos) << c.error();
  }
}

TEST(Config, BadCountingPolicyValuesStopStartUpWithOneLine) {
  const std::pair<std::vector<std::string_view>, std::string_view> cases[] = {
      {{"serve", "--count-unit", "hits"}, "--count-unit"},
      {{"serve", "--repeat-window", "-1"}, "--repeat-window"},
      {{"serve", "--repeat-window", "86401"}, "--repeat-window"},
      {{"serve", "--rate-limit", "5 per second"}, "--rate-limit"},
      {{"serve", "--rate-limit", "5/s,burst=0"}, "--rate-limit"},
      {{"serve", "--trust-proxy", "10.0.0.1/8"}, "--trust-proxy"},
      {{"serve", "--trust-proxy", "proxy.example"}, "--trust-proxy"},
      {{"serve", "--forwarded-header", "x-real-ip"}, "--forwarded-header"},
      {{"serve", "--ignore-bots=maybe"}, "--ignore-bots"},
  };
  for (const auto& [args, words] : cases) {
    auto c = parse_with(args);
    ASSERT_FALSE(c.has_value()) << words;
    EXPECT_NE(c.error().find(words), std::string::npos) << c.error();
    EXPECT_EQ(c.error().find('\n'), std::string::npos) << c.error();
  }
  auto lambda = parse_with({"lambda", "--rate-limit", "5/s"}, {{"AWS_LAMBDA_RUNTIME_API", "x:1"}});
  ASSERT_FALSE(lambda.has_value());
  EXPECT_NE(lambda.error().find("stage throttling"), std::string::npos) << lambda.error();
}

TEST(Config, Bounds) {
  auto c = parse_with({"serve", "--max-pending", "50", "--queue-timeout-ms", "0"},
                      {{"VC_MAX_CONNECTIONS", "200"}});
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->max_pending, 50U);
  EXPECT_EQ(c->max_connections, 200U);
  EXPECT_EQ(c->queue_timeout.count(), 0);
  EXPECT_NE(describe(*c).find("max_pending=50 queue_timeout_ms=0 max_counters=0 keep_days=all "
                              "owner_creates_counters=false max_connections=200"),
            std::string::npos);
  EXPECT_EQ(c->keep_days, 0);
  EXPECT_EQ(parse_with({"serve", "--keep-days", "400"})->keep_days, 400);
  EXPECT_EQ(parse_with({"serve"}, {{"VC_KEEP_DAYS", "30"}})->keep_days, 30);
  for (const char* bad : {"-1", "x", "36601"}) {
    EXPECT_NE(parse_with({"--keep-days", bad}).error().find("--keep-days"), std::string::npos);
  }
  EXPECT_TRUE(parse_with({"serve", "--owner-creates-counters"})->rules.owner_creates_counters);
  EXPECT_EQ(parse_with({"serve", "--max-counters", "7"})->max_counters, 7U);
  EXPECT_NE(parse_with({"--max-counters", "-1"}).error().find("--max-counters"), std::string::npos);
  EXPECT_EQ(parse_with({"serve"})->queue_timeout.count(), 3000);
  for (const char* bad : {"-1", "x", "3600001"}) {
    EXPECT_NE(parse_with({"--queue-timeout-ms", bad}).error().find("--queue-timeout-ms"),
              std::string::npos);
  }
  for (const char* bad : {"0", "-1", "x", "1000001"}) {
    EXPECT_NE(parse_with({"--max-pending", bad}).error().find("--max-pending"), std::string::npos);
    EXPECT_NE(parse_with({"--max-connections", bad}).error().find("--max-connections"),
              std::string::npos);
  }
}

TEST(Config, KeysFromFlagsAndEnvironment) {
  auto c = parse_with({"serve", "--keys", "visitors, blog/*", "--keys=docs/*"},
                      {{"VC_KEYS", "from-env"}});
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->rules.keys.describe(), "visitors,blog/*,docs/*");
  EXPECT_FALSE(c->rules.keys.allows("from-env"));  // the first flag replaces the environment
  EXPECT_NE(describe(*c).find("keys=visitors,blog/*,docs/*"), std::string::npos);
  auto env_only = parse_with({"serve"}, {{"VC_KEYS", "a,b/*"}});
  ASSERT_TRUE(env_only.has_value()) << env_only.error();
  EXPECT_TRUE(env_only->rules.keys.allows("b/c"));
  EXPECT_TRUE(parse_with({"serve"})->rules.keys.empty());
  EXPECT_NE(parse_with({"--keys", "a*b"}).error().find("bad key pattern"), std::string::npos);
  EXPECT_TRUE(parse_with({"serve"}, {{"VC_KEYS", ""}})->rules.keys.empty());  // the template's
}

TEST(Config, FlagsInBothForms) {
  auto c = parse_with({"serve", "--listen", "0.0.0.0:0", "--store=memory:", "--require-origin",
                       "--sync", "normal", "--threads=3", "--allow-origin", "https://a.example",
                       "--allow-origin=http://localhost:*", "--read-timeout-ms", "250"});
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->listen_host, "0.0.0.0");
  EXPECT_EQ(c->listen_port, 0);
  EXPECT_EQ(c->store, "memory:");
  EXPECT_TRUE(c->require_origin);
  EXPECT_EQ(c->sync, store::SyncMode::normal);
  EXPECT_EQ(c->threads, 3U);
  EXPECT_EQ(c->allow_origins,
            (std::vector<std::string>{"https://a.example", "http://localhost:*"}));
  EXPECT_EQ(c->read_timeout, std::chrono::milliseconds(250));
}

TEST(Config, EnvironmentAndFlagPrecedence) {
  const std::map<std::string, std::string> env = {
      {"VC_STORE", "memory:"},
      {"VC_ALLOW_ORIGINS", "https://a.example, https://b.example"},
      {"VC_REQUIRE_ORIGIN", "true"},
      {"VC_THREADS", "2"}};
  auto from_env = parse_with({}, env);
  ASSERT_TRUE(from_env.has_value());
  EXPECT_EQ(from_env->store, "memory:");
  EXPECT_EQ(from_env->allow_origins,
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_TRUE(from_env->require_origin);
  auto flags_win = parse_with({"--store", "sqlite:x.db", "--allow-origin", "*"}, env);
  ASSERT_TRUE(flags_win.has_value());
  EXPECT_EQ(flags_win->store, "sqlite:x.db");
  EXPECT_EQ(flags_win->allow_origins, std::vector<std::string>{"*"});
}

TEST(Config, PublicUrlFromFlagOrEnvironment) {
  EXPECT_EQ(parse_with({"serve", "--public-url", "https://counter.example"})->public_url,
            "https://counter.example");
  EXPECT_EQ(parse_with({"--public-url=http://[::1]:8080/"})->public_url, "http://[::1]:8080/");
  const std::map<std::string, std::string> env = {{"VC_PUBLIC_URL", "https://a.example"}};
  EXPECT_EQ(parse_with({}, env)->public_url, "https://a.example");
  EXPECT_EQ(parse_with({"--public-url", "https://b.example"}, env)->public_url,
            "https://b.example");
  EXPECT_NE(describe(*parse_with({}, env)).find("public_url=https://a.example"), std::string::npos);
  EXPECT_NE(describe(*parse_with({})).find("public_url=(none)"), std::string::npos);
}

TEST(Config, ListenAddresses) {
  auto v6 = parse_with({"--listen", "[::1]:0"});
  ASSERT_TRUE(v6.has_value()) << v6.error();
  EXPECT_EQ(v6->listen_host, "::1");  // without brackets, as the resolver takes it
  EXPECT_EQ(v6->listen_port, 0);
  EXPECT_EQ(parse_with({"--listen", "localhost:65535"})->listen_host, "localhost");
  for (const char* bad : {"::1:8080", "[::1", ":8080", "h:", "h", "u@h:1", "h:1/x", "h:-1",
                          "http://h:1", "h:65536"}) {
    auto c = parse_with({"--listen", bad});
    ASSERT_FALSE(c.has_value()) << bad;
    EXPECT_NE(c.error().find("--listen"), std::string::npos) << c.error();
  }
}

TEST(Config, ErrorsNameTheProblem) {
  EXPECT_EQ(parse_with({"--bogus"}).error(), "unknown argument '--bogus' (see --help)");
  EXPECT_NE(parse_with({"--listen", "nope"}).error().find("--listen"), std::string::npos);
  EXPECT_NE(parse_with({"--listen", "h:99999"}).error().find("port"), std::string::npos);
  EXPECT_NE(parse_with({"--sync", "fast"}).error().find("--sync"), std::string::npos);
  EXPECT_NE(parse_with({"--threads", "0"}).error().find("--threads"), std::string::npos);
  EXPECT_NE(parse_with({"--store"}).error().find("needs a value"), std::string::npos);
  EXPECT_NE(parse_with({}, {{"VC_THREADS", "x"}}).error().find("VC_THREADS"), std::string::npos);
}

TEST(Config, HelpListsEveryFlagAndVariable) {
  EXPECT_EQ(parse_with({"--help"})->command, Command::help);
  const std::string help = help_text();
  for (const char* text :
       {"--listen", "VC_LISTEN", "--store", "VC_STORE", "--allow-origin", "VC_ALLOW_ORIGINS",
        "--public-url", "VC_PUBLIC_URL", "--require-origin", "--sync", "--threads", "--max-pending",
        "VC_MAX_PENDING", "--queue-timeout-ms", "VC_QUEUE_TIMEOUT_MS", "--max-counters",
        "VC_MAX_COUNTERS", "--max-connections", "VC_MAX_CONNECTIONS"}) {
    EXPECT_NE(help.find(text), std::string::npos) << text;
  }
}

TEST(Config, LambdaCommand) {
  const std::map<std::string, std::string> env = {{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"}};
  auto c = parse_with({"lambda", "--store", "memory:"}, env);
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->command, Command::lambda);
  EXPECT_EQ(c->runtime_api, "127.0.0.1:9001");
  EXPECT_EQ(c->store, "memory:");
  EXPECT_EQ(parse_with({"serve"})->command, Command::serve);
  EXPECT_TRUE(parse_with({"serve"})->runtime_api.empty());
}

TEST(Config, RuntimeApiVariableSelectsLambdaWhenNoCommandIsGiven) {
  const std::map<std::string, std::string> env = {{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"}};
  EXPECT_EQ(parse_with({}, env)->command, Command::lambda);  // Lambda runs bootstrap bare
  EXPECT_EQ(parse_with({"--allow-origin", "*"}, env)->command, Command::lambda);
  EXPECT_EQ(parse_with({"serve"}, env)->command, Command::serve);  // an explicit command wins
  EXPECT_EQ(parse_with({"--help"}, env)->command, Command::help);
  EXPECT_EQ(parse_with({})->command, Command::serve);
  EXPECT_EQ(parse_with({}, {{"AWS_LAMBDA_RUNTIME_API", ""}})->command, Command::serve);
}

TEST(Config, LambdaNeedsTheRuntimeApi) {
  auto c = parse_with({"lambda"});
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().find("AWS_LAMBDA_RUNTIME_API"), std::string::npos);
}

TEST(Config, TableNameShorthandForDynamoDb) {
  std::map<std::string, std::string> env = {{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"},
                                            {"TABLE_NAME", "visitor-counter-Counters-1A2B3C"},
                                            {"AWS_REGION", "eu-central-1"}};
  auto c = parse_with({}, env);
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->store, "dynamodb://visitor-counter-Counters-1A2B3C?region=eu-central-1");
  env.erase("AWS_REGION");  // the store then looks for the region itself
  EXPECT_EQ(parse_with({}, env)->store, "dynamodb://visitor-counter-Counters-1A2B3C");
  EXPECT_EQ(parse_with({"serve"}, {{"TABLE_NAME", "counters"}})->store, "dynamodb://counters");
}

TEST(Config, StoreSettingsWinOverTableName) {
  const std::map<std::string, std::string> env = {
      {"TABLE_NAME", "counters"}, {"AWS_REGION", "us-east-1"}, {"VC_STORE", "memory:"}};
  EXPECT_EQ(parse_with({}, env)->store, "memory:");
  auto flag = parse_with({"--store", "sqlite:x.db"},
                         {{"TABLE_NAME", "counters"}, {"AWS_REGION", "us-east-1"}});
  EXPECT_EQ(flag->store, "sqlite:x.db");
  // A flag makes TABLE_NAME irrelevant, even a bad one.
  EXPECT_TRUE(parse_with({"--store=memory:"}, {{"TABLE_NAME", "a?b"}}).has_value());
  EXPECT_EQ(parse_with({}, {{"TABLE_NAME", ""}})->store, "sqlite:var/counter.db");
}

TEST(Config, TableNameAndRegionCannotAddUrlParts) {
  auto bad_table = parse_with({}, {{"TABLE_NAME", "t?endpoint=http://x"}});
  ASSERT_FALSE(bad_table.has_value());
  EXPECT_NE(bad_table.error().find("TABLE_NAME"), std::string::npos);
  EXPECT_FALSE(parse_with({}, {{"TABLE_NAME", "ab"}}).has_value());  // too short for DynamoDB
  auto bad_region = parse_with({}, {{"TABLE_NAME", "counters"}, {"AWS_REGION", "x&endpoint=y"}});
  ASSERT_FALSE(bad_region.has_value());
  EXPECT_NE(bad_region.error().find("AWS_REGION"), std::string::npos);
}

TEST(Config, HelpDescribesLambda) {
  const std::string help = help_text();
  for (const char* text :
       {"lambda", "AWS_LAMBDA_RUNTIME_API", "TABLE_NAME", "AWS_REGION", "dynamodb://"}) {
    EXPECT_NE(help.find(text), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace config
