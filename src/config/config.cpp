// Flag and environment parsing.
#include "config/config.hpp"

#include <sched.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <thread>

#include "counting/policy/client_address.hpp"
#include "util/text.hpp"
#include "util/url.hpp"

namespace config {
namespace {

using Result = std::expected<void, std::string>;

struct Option {
  std::string_view flag;
  const char* env;
  std::string_view help;
  bool takes_value;
  Result (*apply)(Config&, std::string_view value);
};

template <typename T>
std::expected<T, std::string> number(std::string_view text, T min, T max, std::string_view what) {
  if (auto value = util::bounded_number(text, min, max)) return *value;
  return std::unexpected("bad " + std::string(what) + " '" + std::string(text) + "'");
}

Result set_listen(Config& c, std::string_view v) {
  auto parsed = util::parse_host_port(v, /*port_zero_ok=*/true);
  if (!parsed) {
    return std::unexpected("bad --listen '" + std::string(v) + "': " + parsed.error() +
                           " (expected HOST:PORT)");
  }
  c.listen_host = std::move(parsed->host);  // IPv6 without brackets, as the resolver takes it
  c.listen_port = *parsed->port;
  return {};
}

Result set_bool(bool& field, std::string_view flag, std::string_view v) {
  if (v == "1" || v == "true" || v == "yes" || v == "on") return field = true, Result{};
  if (v == "0" || v == "false" || v == "no" || v == "off" || v.empty())
    return field = false, Result{};
  return std::unexpected("bad " + std::string(flag) + " '" + std::string(v) +
                         "': expected true or false");
}

// `value` in as few digits as read back the same: 2 -> "2", 0.5 -> "0.5".
std::string shortest(double value) {
  std::array<char, 32> text{};
  const auto [end, ec] = std::to_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() ? std::string(text.data(), end) : std::to_string(value);
}

// The non-empty, trimmed items of a comma-separated list.
std::vector<std::string> split_list(std::string_view v) {
  std::vector<std::string> items;
  while (!v.empty()) {
    const std::size_t comma = v.find(',');
    const std::string_view item = util::trim(v.substr(0, comma));
    if (!item.empty()) items.emplace_back(item);
    v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
  }
  return items;
}

void split_origins(Config& c, std::string_view v) { c.allow_origins = split_list(v); }

const Option kOptions[] = {
    {"--listen", "VC_LISTEN",
     "HOST:PORT to listen on (IPv6 in brackets: [::1]:8080); port 0 picks a free one "
     "(127.0.0.1:8080)",
     true, set_listen},
    {"--store", "VC_STORE",
     "store URL: sqlite:PATH, memory:, dynamodb://TABLE[?region=REGION&...], or "
     "redis://[[USER]:PASSWORD@]HOST:PORT[/DB][?prefix=P&timeout_ms=N] (rediss:// for TLS) "
     "(sqlite:var/counter.db)",
     true, [](Config& c, std::string_view v) -> Result { return c.store = v, Result{}; }},
    {"--allow-origin", "VC_ALLOW_ORIGINS",
     "origin whose pages may count and read (/count, /counters, /history, /badge): exact, * "
     "or http://host:* (repeatable; env: comma-separated; default: none, only requests "
     "without Origin)",
     true, [](Config& c, std::string_view v) -> Result { return split_origins(c, v), Result{}; }},
    {"--public-url", "VC_PUBLIC_URL",
     "origin the demo page is served from, http(s)://host[:port], no path; it may count "
     "without being on the allow-list (default: the listen address if it is a loopback "
     "address, e.g. http://127.0.0.1:8080; otherwise, and on Lambda, none)",
     true, [](Config& c, std::string_view v) -> Result { return c.public_url = v, Result{}; }},
    {"--require-origin", "VC_REQUIRE_ORIGIN",
     "refuse requests without Origin on /count, /counters, /history and /badge: counting and "
     "reading alike (false)",
     false,
     [](Config& c, std::string_view v) {
       return set_bool(c.require_origin, "--require-origin", v);
     }},
    {"--sync", "VC_SYNC", "SQLite durability: full or normal (full)", true,
     [](Config& c, std::string_view v) -> Result {
       if (v == "full") return c.sync = store::SyncMode::full, Result{};
       if (v == "normal") return c.sync = store::SyncMode::normal, Result{};
       return std::unexpected("bad --sync '" + std::string(v) + "': expected full or normal");
     }},
    {"--threads", "VC_THREADS",
     "I/O threads (the CPUs this process may use, minus one; at least 1)", true,
     [](Config& c, std::string_view v) -> Result {
       auto n = number<unsigned>(v, 1, 256, "--threads");
       if (!n) return std::unexpected(n.error());
       return c.threads = *n, Result{};
     }},
    {"--read-timeout-ms", "VC_READ_TIMEOUT_MS",
     "time a client has to send a whole request before it is disconnected (10000)", true,
     [](Config& c, std::string_view v) -> Result {
       auto n = number<long>(v, 1, 3'600'000, "--read-timeout-ms");
       if (!n) return std::unexpected(n.error());
       return c.read_timeout = std::chrono::milliseconds(*n), Result{};
     }},
    {"--max-pending", "VC_MAX_PENDING",
     "hits and reads accepted and not yet answered; more get 503 at once (4096)", true,
     [](Config& c, std::string_view v) -> Result {
       auto n = number<std::size_t>(v, 1, 1'000'000, "--max-pending");
       if (!n) return std::unexpected(n.error());
       return c.max_pending = *n, Result{};
     }},
    {"--queue-timeout-ms", "VC_QUEUE_TIMEOUT_MS",
     "a hit not yet sent to the store this long after it arrived gets 503 and never counts; "
     "0: no limit (3000)",
     true,
     [](Config& c, std::string_view v) -> Result {
       auto n = number<long>(v, 0, 3'600'000, "--queue-timeout-ms");
       if (!n) return std::unexpected(n.error());
       return c.queue_timeout = std::chrono::milliseconds(*n), Result{};
     }},
    {"--max-counters", "VC_MAX_COUNTERS",
     "once the store holds this many counters, a new key gets 403 and creates nothing; "
     "existing counters go on counting; 0: no limit (0)",
     true,
     [](Config& c, std::string_view v) -> Result {
       auto n = number<std::size_t>(v, 0, 1'000'000'000, "--max-counters");
       if (!n) return std::unexpected(n.error());
       return c.max_counters = *n, Result{};
     }},
    {"--keep-days", "VC_KEEP_DAYS",
     "keep the history of the last N UTC days (today included) and delete older day rows, "
     "once a day (on DynamoDB through its TTL); the totals stay; 0: keep every day (0)",
     true,
     [](Config& c, std::string_view v) -> Result {
       auto n = number<int>(v, 0, 36'600, "--keep-days");
       if (!n) return std::unexpected(n.error());
       return c.keep_days = *n, Result{};
     }},
    {"--max-streams", "VC_MAX_STREAMS",
     "open live streams (GET /stream/KEY, each also a connection), a tenth of them per "
     "client address; more get 503; 0: streams off, /stream answers 404 (1000)",
     true,
     [](Config& c, std::string_view v) -> Result {
       auto n = number<std::size_t>(v, 0, 1'000'000, "--max-streams");
       if (!n) return std::unexpected(n.error());
       return c.max_streams = *n, Result{};
     }},
    {"--max-connections", "VC_MAX_CONNECTIONS",
     "open client connections; more are closed as soon as accepted (10000)", true,
     [](Config& c, std::string_view v) -> Result {
       auto n = number<std::size_t>(v, 1, 1'000'000, "--max-connections");
       if (!n) return std::unexpected(n.error());
       return c.max_connections = *n, Result{};
     }},
    {"--count-unit", "VC_COUNT_UNIT",
     "which total counting endpoints answer as count: views (every counted hit) or visitors "
     "(unique per counter and UTC day) (views)",
     true,
     [](Config& c, std::string_view v) -> Result {
       using counting::policy::CountUnit;
       if (v == "views") return c.rules.unit = CountUnit::views, Result{};
       if (v == "visitors") return c.rules.unit = CountUnit::visitors, Result{};
       return std::unexpected("bad --count-unit '" + std::string(v) +
                              "': expected views or visitors");
     }},
    {"--profile", "VC_PROFILE",
     "what a counted hit writes: full (the counter, the day's row for /history, the visitor's "
     "mark) or classic (the view total only, one write per hit as the classic design; no "
     "visitors, no history, no Idempotency-Key; needs --count-unit views and --repeat-window "
     "0) (full)",
     true,
     [](Config& c, std::string_view v) -> Result {
       using counting::policy::Profile;
       if (v == "full") return c.rules.profile = Profile::full, Result{};
       if (v == "classic") return c.rules.profile = Profile::classic, Result{};
       return std::unexpected("bad --profile '" + std::string(v) + "': expected full or classic");
     }},
    {"--ignore-bots", "VC_IGNORE_BOTS",
     "count nothing for crawler User-Agents (the isbot list) or a missing one (false)", false,
     [](Config& c, std::string_view v) {
       return set_bool(c.rules.ignore_bots, "--ignore-bots", v);
     }},
    {"--keys", "VC_KEYS",
     "counters that may count, and so be created: exact keys and prefixes ending in * "
     "(blog/*); others get 404 and create nothing (repeatable; env: comma-separated; "
     "default or empty: every key)",
     true,
     [](Config& c, std::string_view v) -> Result {
       const std::vector<std::string> patterns = split_list(v);
       auto keys = counting::policy::KeyPatterns::parse(patterns);
       if (!keys) return std::unexpected(keys.error());
       if (patterns.empty()) return c.rules.keys = {}, Result{};  // "": every key
       return c.rules.keys.merge(*keys), Result{};
     }},
    {"--owner-creates-counters", "VC_OWNER_CREATES_COUNTERS",
     "counting never creates a counter: a key that has none gets 404; the owner creates "
     "counters with the admin API, PUT /counters/KEY (false)",
     false,
     [](Config& c, std::string_view v) {
       return set_bool(c.rules.owner_creates_counters, "--owner-creates-counters", v);
     }},
    {"--repeat-window", "VC_REPEAT_WINDOW",
     "seconds in which the same visitor on the same counter counts once (0: every hit)", true,
     [](Config& c, std::string_view v) -> Result {
       auto n = number<long>(v, 0, 86'400, "--repeat-window (seconds, 0-86400)");
       if (!n) return std::unexpected(n.error());
       return c.rules.repeat_window = std::chrono::seconds(*n), Result{};
     }},
    {"--rate-limit", "VC_RATE_LIMIT",
     "per client address limit on counting requests: R/s,burst=B, R/s or off; past it, 429 "
     "(serve only; on Lambda, API Gateway's stage throttling is the limit) (off)",
     true,
     [](Config& c, std::string_view v) -> Result {
       auto spec = counting::policy::parse_rate_limit(v);
       if (!spec)
         return std::unexpected("bad --rate-limit '" + std::string(v) + "': " + spec.error());
       return c.rules.rate_limit = *spec, Result{};
     }},
    {"--trust-proxy", "VC_TRUST_PROXIES",
     "address or CIDR of a proxy whose forwarded client address is believed (repeatable; env: "
     "comma-separated) (none: the client is the socket peer)",
     true,
     [](Config& c, std::string_view v) -> Result {
       std::vector<std::string> added = split_list(v);
       if (auto parsed = counting::policy::TrustedProxies::parse(added); !parsed) {
         return std::unexpected("bad --trust-proxy: " + parsed.error());
       }
       c.rules.trusted_proxies.insert(c.rules.trusted_proxies.end(), added.begin(), added.end());
       return {};
     }},
    {"--forwarded-header", "VC_FORWARDED_HEADER",
     "the header the trusted proxies append the client's address to: x-forwarded-for or "
     "forwarded (x-forwarded-for)",
     true,
     [](Config& c, std::string_view v) -> Result {
       using counting::policy::ForwardedHeader;
       if (v == "x-forwarded-for")
         return c.rules.forwarded_header = ForwardedHeader::x_forwarded_for, Result{};
       if (v == "forwarded") return c.rules.forwarded_header = ForwardedHeader::forwarded, Result{};
       return std::unexpected("bad --forwarded-header '" + std::string(v) +
                              "': expected x-forwarded-for or forwarded");
     }},
    {"--admin-token-file", "VC_ADMIN_TOKEN_FILE",
     "file holding the admin token (16+ characters) of the admin API and /dashboard; or set "
     "VC_ADMIN_TOKEN; neither: no admin routes (none)",
     true,
     [](Config& c, std::string_view v) {
       c.admin_token_file = v;
       return Result{};
     }},
    {"--metrics-listen", "VC_METRICS_LISTEN",
     "HOST:PORT of a second listener for /metrics and /healthz only; /metrics then answers "
     "404 on --listen (none: /metrics on --listen)",
     true,
     [](Config& c, std::string_view v) {
       auto parsed = util::parse_host_port(v, /*port_zero_ok=*/true);
       if (!parsed) {
         return Result(std::unexpected("bad --metrics-listen '" + std::string(v) +
                                       "': " + parsed.error() + " (expected HOST:PORT)"));
       }
       c.metrics_host = std::move(parsed->host);
       c.metrics_port = *parsed->port;
       return Result{};
     }},
    {"--no-demo", "VC_NO_DEMO", "serve no demo page: / answers 404; /counter.js stays (false)",
     false,
     [](Config& c, std::string_view v) {
       bool off = false;
       auto applied = set_bool(off, "--no-demo", v);
       c.demo_page = !off;
       return applied;
     }},
    {"--private-stats", "VC_PRIVATE_STATS",
     "history and period badges only with the admin token (false)", false,
     [](Config& c, std::string_view v) { return set_bool(c.private_stats, "--private-stats", v); }},
    {"--respect-dnt", "VC_RESPECT_DNT",
     "count nothing for requests with DNT: 1 or Sec-GPC: 1 (false)", false,
     [](Config& c, std::string_view v) {
       return set_bool(c.rules.respect_dnt, "--respect-dnt", v);
     }},
};

const Option* find_option(std::string_view flag) {
  for (const Option& option : kOptions) {
    if (option.flag == flag) return &option;
  }
  return nullptr;
}

Result apply_environment(Config& c, const Environment& env) {
  for (const Option& option : kOptions) {
    const char* value = env(option.env);
    if (value == nullptr) continue;
    if (auto applied = option.apply(c, value); !applied) {
      return std::unexpected(applied.error() + " (from " + option.env + ")");
    }
  }
  return {};
}

// Reads the leading command, if any; returns how many arguments it took.
std::size_t read_command(Config& c, std::span<const std::string_view> args) {
  if (!args.empty() && args[0] == "serve") return 1;
  if (!args.empty() && args[0] == "lambda") return c.command = Command::lambda, 1;
  if (!c.runtime_api.empty()) c.command = Command::lambda;  // started by Lambda as bootstrap
  return 0;
}

// Applies the flags after the command; sets `store_from_flag` when --store is among them.
Result apply_flags(Config& c, std::span<const std::string_view> args, bool& store_from_flag) {
  bool origins_from_flags = false;
  bool proxies_from_flags = false;
  bool keys_from_flags = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h" || arg == "help") return c.command = Command::help, Result{};
    if (arg == "--version" || arg == "version") return c.command = Command::version, Result{};
    const std::size_t eq = arg.find('=');
    const Option* option = find_option(arg.substr(0, eq));
    if (option == nullptr)
      return std::unexpected("unknown argument '" + std::string(arg) + "' (see --help)");
    std::string_view value = option->takes_value ? "" : "true";
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (option->takes_value) {
      if (++i == args.size()) return std::unexpected(std::string(option->flag) + " needs a value");
      value = args[i];
    }
    store_from_flag = store_from_flag || option->flag == "--store";
    if (option->flag == "--allow-origin") {
      // Repeated flags add up; the first one replaces what the environment gave.
      std::vector<std::string> kept =
          origins_from_flags ? c.allow_origins : std::vector<std::string>{};
      if (auto applied = option->apply(c, value); !applied) return std::unexpected(applied.error());
      kept.insert(kept.end(), c.allow_origins.begin(), c.allow_origins.end());
      c.allow_origins = std::move(kept);
      origins_from_flags = true;
      continue;
    }
    if (option->flag == "--keys" && !keys_from_flags) {
      c.rules.keys = {};  // the first flag replaces what the environment gave
      keys_from_flags = true;
    }
    if (option->flag == "--trust-proxy" && !proxies_from_flags) {
      c.rules.trusted_proxies.clear();  // the first flag replaces what the environment gave
      proxies_from_flags = true;
    }
    if (auto applied = option->apply(c, value); !applied) return std::unexpected(applied.error());
  }
  return {};
}

bool only_chars(std::string_view text, std::string_view extra) {
  return std::all_of(text.begin(), text.end(), [extra](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 ||
           extra.find(ch) != std::string_view::npos;
  });
}

// The deploy template's shorthand: TABLE_NAME (with AWS_REGION) names a DynamoDB store.
// Both are checked here so that neither can add parts to the store URL.
Result apply_table_name(Config& c, const Environment& env) {
  const char* table = env("TABLE_NAME");
  if (table == nullptr || *table == '\0') return {};
  const std::string_view name = table;
  if (name.size() < 3 || name.size() > 255 || !only_chars(name, "_.-")) {
    return std::unexpected("bad TABLE_NAME '" + std::string(name) +
                           "': expected 3-255 characters of A-Z a-z 0-9 _ . -");
  }
  c.store = "dynamodb://" + std::string(name);
  const char* region = env("AWS_REGION");
  if (region == nullptr || *region == '\0') return {};  // the store may find another source
  if (!only_chars(region, "-")) {
    return std::unexpected("bad AWS_REGION '" + std::string(region) + "'");
  }
  c.store += "?region=" + std::string(region);
  return {};
}

// The classic profile keeps no visitors and no days: settings that need them are refused
// rather than silently doing nothing.
Result check_classic(const Config& c) {
  if (c.rules.profile != counting::policy::Profile::classic) return {};
  if (c.rules.unit == counting::policy::CountUnit::visitors) {
    return std::unexpected("--profile classic counts no visitors: use --count-unit views");
  }
  if (c.rules.repeat_window.count() > 0) {
    return std::unexpected(
        "--profile classic keeps no visitor marks, so no --repeat-window: set it to 0");
  }
  if (c.keep_days > 0) {
    return std::unexpected("--profile classic keeps no daily history: drop --keep-days");
  }
  return {};
}

}  // namespace

std::expected<Config, std::string> parse(std::span<const std::string_view> args,
                                         const Environment& env) {
  Config c;
  if (auto applied = apply_environment(c, env); !applied) return std::unexpected(applied.error());
  if (const char* api = env("AWS_LAMBDA_RUNTIME_API"); api != nullptr) c.runtime_api = api;
  if (const char* token = env("VC_ADMIN_TOKEN"); token != nullptr) c.admin_token = token;
  const std::size_t first = read_command(c, args);
  bool store_from_flag = false;
  if (auto applied = apply_flags(c, args.subspan(first), store_from_flag); !applied) {
    return std::unexpected(applied.error());
  }
  if (c.command == Command::help || c.command == Command::version) return c;
  if (!store_from_flag && env("VC_STORE") == nullptr) {
    if (auto applied = apply_table_name(c, env); !applied) return std::unexpected(applied.error());
  }
  if (c.command == Command::lambda && c.runtime_api.empty()) {
    return std::unexpected(
        "lambda needs AWS_LAMBDA_RUNTIME_API (host:port of the Lambda Runtime API, set by "
        "Lambda)");
  }
  if (c.command == Command::lambda && c.metrics_port) {
    return std::unexpected("--metrics-listen is for serve; a Lambda function has no /metrics");
  }
  if (c.command == Command::lambda && c.rules.rate_limit) {
    return std::unexpected(
        "--rate-limit is for serve; on Lambda, API Gateway's stage throttling is the limit "
        "(the template's parameters ThrottleRate and ThrottleBurst)");
  }
  if (auto classic = check_classic(c); !classic) return std::unexpected(classic.error());
  if (c.threads == 0 && c.command == Command::serve) c.threads = default_threads();
  return c;
}

unsigned default_threads() {
  // One core is left to the kernel's network work and the SQLite syncer: on 2 cores with the
  // load on the same machine, one I/O thread served 68k req/s where two served 47k
  // (bench/http_bench.py's method, unpinned). The affinity mask follows taskset and cpusets.
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  const int cpus = sched_getaffinity(0, sizeof allowed, &allowed) == 0
                       ? CPU_COUNT(&allowed)
                       : static_cast<int>(std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::max(1, cpus - 1));
}

std::string help_text() {
  std::string out =
      "visitor-counter: a visitor counter API.\n\n"
      "usage: visitor-counter serve [flags]    HTTP server\n"
      "       visitor-counter lambda [flags]   AWS Lambda bootstrap (HTTP API, payload 2.0)\n"
      "       visitor-counter export --store URL [--output FILE]\n"
      "           every counter and its daily history as JSON Lines (stdout without --output)\n"
      "       visitor-counter import --store URL [--input FILE] [--mode set|add] [--dry-run]\n"
      "           an export or a key,count CSV (stdin without --input); checks every line\n"
      "           first; set (the default) is idempotent, add adds\n"
      "       visitor-counter backup --store sqlite:PATH --output FILE\n"
      "           a consistent copy of a SQLite store, also while a server uses it\n"
      "       visitor-counter healthcheck [--listen HOST:PORT] [--timeout-ms N]\n"
      "           asks the server at HOST:PORT (or $VC_LISTEN) for /healthz: exit 0 on 200\n"
      "       visitor-counter --version\n"
      "       visitor-counter --help, or COMMAND --help for one command\n\nflags "
      "(each also settable by its environment variable; a flag wins):\n";
  for (const Option& option : kOptions) {
    out += "  " + std::string(option.flag) + (option.takes_value ? " VALUE" : "") + "  [" +
           option.env + "]\n      " + std::string(option.help) + "\n";
  }
  out +=
      "\nenvironment (Lambda and the deploy template set these):\n"
      "  AWS_LAMBDA_RUNTIME_API\n"
      "      host:port of the Lambda Runtime API; with no command given, it selects lambda\n"
      "  VC_ADMIN_TOKEN\n"
      "      the admin token itself (16+ characters), when --admin-token-file is not given\n"
      "  TABLE_NAME, AWS_REGION\n"
      "      with neither --store nor VC_STORE: the store is "
      "dynamodb://TABLE_NAME?region=AWS_REGION\n";
  return out;
}

std::string describe(const Config& c) {
  std::string origins;
  for (const std::string& origin : c.allow_origins)
    origins += (origins.empty() ? "" : ",") + origin;
  return "store=" + c.store + " sync=" + (c.sync == store::SyncMode::full ? "full" : "normal") +
         " threads=" + std::to_string(c.threads) +
         " allow_origins=" + (origins.empty() ? "(none)" : origins) +
         " public_url=" + (c.public_url.empty() ? "(none)" : c.public_url) +
         " require_origin=" + (c.require_origin ? "true" : "false") +
         " read_timeout_ms=" + std::to_string(c.read_timeout.count()) +
         " keys=" + (c.rules.keys.empty() ? "(any)" : c.rules.keys.describe()) +
         " max_pending=" + std::to_string(c.max_pending) +
         " queue_timeout_ms=" + std::to_string(c.queue_timeout.count()) +
         " max_counters=" + std::to_string(c.max_counters) +
         " keep_days=" + (c.keep_days == 0 ? std::string("all") : std::to_string(c.keep_days)) +
         " owner_creates_counters=" + (c.rules.owner_creates_counters ? "true" : "false") +
         " max_connections=" + std::to_string(c.max_connections) +
         " max_streams=" + std::to_string(c.max_streams) +
         " profile=" + (c.rules.profile == counting::policy::Profile::full ? "full" : "classic") +
         " count_unit=" +
         (c.rules.unit == counting::policy::CountUnit::views ? "views" : "visitors") +
         " ignore_bots=" + (c.rules.ignore_bots ? "true" : "false") +
         " repeat_window=" + std::to_string(c.rules.repeat_window.count()) +
         " respect_dnt=" + (c.rules.respect_dnt ? "true" : "false") + " rate_limit=" +
         (c.rules.rate_limit ? shortest(c.rules.rate_limit->per_second) +
                                   "/s,burst=" + std::to_string(c.rules.rate_limit->burst)
                             : "off") +
         " trusted_proxies=" + std::to_string(c.rules.trusted_proxies.size()) +
         " admin=" + (c.admin_token_file.empty() && c.admin_token.empty() ? "off" : "on") +
         " private_stats=" + (c.private_stats ? "true" : "false") +
         " demo_page=" + (c.demo_page ? "true" : "false");
}

}  // namespace config
