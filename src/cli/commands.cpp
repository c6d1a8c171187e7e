// export and import: arguments, files, batches and progress.
#include "cli/commands.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "aws/http_client.hpp"
#include "cli/progress.hpp"
#include "cli/transfer_format.hpp"
#include "config/config.hpp"
#include "store/sqlite/sqlite_backup.hpp"
#include "util/durable_file.hpp"
#include "util/text.hpp"
#include "util/url.hpp"

namespace cli {
namespace {

constexpr std::size_t kImportBatch = 500;  // counters per store.import() call

// `--name VALUE` / `--name=VALUE` flags and bare `--switch`es, as a map; fails on anything
// not in `known` (a trailing '=' in `known` marks a flag that takes a value).
std::expected<std::map<std::string, std::string, std::less<>>, std::string> parse_flags(
    std::span<const std::string_view> args, std::span<const std::string_view> known,
    bool store_required = true) {
  std::map<std::string, std::string, std::less<>> flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    const std::size_t eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    bool takes_value = false;
    bool found = false;
    for (std::string_view flag : known) {
      takes_value = flag.ends_with('=');
      if (flag.substr(0, flag.size() - (takes_value ? 1 : 0)) == name) {
        found = true;
        break;
      }
    }
    if (!found) return std::unexpected("unknown argument '" + std::string(arg) + "'");
    if (!takes_value) {
      flags[std::string(name)] = "true";
    } else if (eq != std::string_view::npos) {
      flags[std::string(name)] = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      flags[std::string(name)] = args[++i];
    } else {
      return std::unexpected(std::string(name) + " needs a value");
    }
  }
  if (store_required && !flags.contains("--store")) {
    return std::unexpected("--store URL is required");
  }
  return flags;
}

int fail(std::string_view command, std::string_view why, int code) {
  std::cerr << "visitor-counter " << command << ": " << why << std::endl;
  return code;
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

struct CloseFile {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

constexpr std::string_view kExitCodes =
    "exit status: 0 done, 1 the store or a file failed, 2 bad usage or a bad input line\n";

}  // namespace

std::string_view help(std::string_view command) {
  static const std::string kExport =
      std::string(
          "usage: visitor-counter export --store URL [--output FILE]\n\n"
          "Writes every counter, its totals and its daily history, as JSON Lines: a first line\n"
          "naming the format, then one counter per line, sorted by key. Reads the store only:\n"
          "a SQLite file that does not exist is an error, never created.\n\n"
          "  --store URL     sqlite:PATH, dynamodb://TABLE?region=REGION or redis://HOST:PORT\n"
          "  --output FILE   write FILE (complete or not at all: written beside it, synced,\n"
          "                  renamed); without it, stdout\n\n") +
      std::string(kExitCodes);
  static const std::string kImport =
      std::string(
          "usage: visitor-counter import --store URL [--input FILE] [--mode set|add] "
          "[--dry-run]\n\n"
          "Reads an export (or a key,count CSV), checks every line first, then writes in\n"
          "batches. A bad line is reported with its number and nothing is written.\n\n"
          "  --store URL     sqlite:PATH (created if missing), dynamodb://... or redis://...\n"
          "  --input FILE    read FILE; without it, stdin\n"
          "  --mode set      make each counter and listed day equal to the input's (default;\n"
          "                  running it twice changes nothing)\n"
          "  --mode add      add the input's numbers to the store's\n"
          "  --dry-run       check the input, write nothing\n\n") +
      std::string(kExitCodes);
  static const std::string kBackup =
      std::string(
          "usage: visitor-counter backup --store sqlite:PATH --output FILE\n\n"
          "Copies a SQLite store with SQLite's online backup API: one consistent snapshot,\n"
          "also while a server writes to it. The copy holds the counters and their history,\n"
          "not the day's salt or visitor marks. It is synced, then renamed into place.\n\n"
          "  --store sqlite:PATH   the database to copy (never created)\n"
          "  --output FILE         the copy\n\n") +
      std::string(kExitCodes);
  static const std::string kHealthcheck =
      "usage: visitor-counter healthcheck [--listen HOST:PORT] [--timeout-ms N]\n\n"
      "Asks a running server for GET /healthz, for a container's HEALTHCHECK.\n\n"
      "  --listen HOST:PORT   where the server listens (default $VC_LISTEN, then\n"
      "                       127.0.0.1:8080; a wildcard address is asked on loopback)\n"
      "  --timeout-ms N       give up after N ms (2000)\n\n"
      "exit status: 0 the server answered 200, 1 anything else, 2 bad usage\n";
  if (command == "export") return kExport;
  if (command == "import") return kImport;
  if (command == "backup") return kBackup;
  if (command == "healthcheck") return kHealthcheck;
  return {};
}

int run_export(std::span<const std::string_view> args, const store::Environment& env) {
  constexpr std::string_view kKnown[] = {"--store=", "--output="};
  auto flags = parse_flags(args, kKnown);
  if (!flags)
    return fail("export", flags.error() + " (usage: export --store URL [--output FILE])", 2);
  auto store = store::make_store(flags->at("--store"), {.sync = {}, .create = false}, env);
  if (!store) return fail("export", store.error(), 1);

  const auto output = flags->find("--output");
  const std::string partial = output == flags->end() ? "" : output->second + ".partial";
  std::unique_ptr<std::FILE, CloseFile> file;
  if (!partial.empty()) {
    file.reset(std::fopen(partial.c_str(), "wb"));
    if (!file) return fail("export", "cannot write " + partial, 1);
  }
  std::FILE* out = file ? file.get() : stdout;
  std::vector<char> buffer(1 << 20);
  std::setvbuf(out, buffer.data(), _IOFBF, buffer.size());

  Progress progress("counters", stderr, stderr_is_terminal());
  std::size_t done = 0;
  std::string line = header_line() + '\n';
  std::fwrite(line.data(), 1, line.size(), out);
  auto dumped = (*store)->dump([&](store::CounterRecord&& record, std::size_t total) {
    line = record_line(record);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), out);
    progress.update(++done, total);
  });
  if (!dumped) return fail("export", dumped.error().message, 1);
  if (std::fflush(out) != 0 || std::ferror(out) != 0) return fail("export", "writing failed", 1);
  if (file) {
    file.reset();
    if (auto renamed = util::sync_and_rename(partial, output->second); !renamed) {
      return fail("export", renamed.error(), 1);
    }
  }
  progress.finish("exported", done);
  return 0;
}

int run_import(std::span<const std::string_view> args, const store::Environment& env) {
  constexpr std::string_view kKnown[] = {"--store=", "--input=", "--mode=", "--dry-run"};
  constexpr std::string_view kUsage =
      " (usage: import --store URL [--input FILE] [--mode set|add] [--dry-run])";
  auto flags = parse_flags(args, kKnown);
  if (!flags) return fail("import", flags.error() + std::string(kUsage), 2);
  const auto mode_flag = flags->find("--mode");
  const std::string mode_name = mode_flag == flags->end() ? "set" : mode_flag->second;
  if (mode_name != "set" && mode_name != "add") {
    return fail("import", "--mode must be set or add" + std::string(kUsage), 2);
  }
  const store::ImportMode mode =
      mode_name == "add" ? store::ImportMode::add : store::ImportMode::set;

  const auto input = flags->find("--input");
  std::ifstream file;
  if (input != flags->end()) {
    file.open(input->second, std::ios::binary);
    if (!file) return fail("import", "cannot read " + input->second, 1);
  }
  auto records = read_records(input != flags->end() ? file : std::cin);
  if (!records) return fail("import", records.error() + "; nothing was written", 2);
  std::size_t days = 0;
  for (const store::CounterRecord& record : *records) days += record.days.size();
  if (flags->contains("--dry-run")) {
    std::cerr << "import: " << records->size() << " counters and " << days
              << " days are valid; --dry-run: nothing was written (mode " << mode_name << ")"
              << std::endl;
    return 0;
  }

  auto store = store::make_store(flags->at("--store"), {}, env);
  if (!store) return fail("import", store.error(), 1);
  Progress progress("counters", stderr, stderr_is_terminal());
  const std::span<const store::CounterRecord> all = *records;
  for (std::size_t first = 0; first < all.size(); first += kImportBatch) {
    const auto batch = all.subspan(first, std::min(kImportBatch, all.size() - first));
    if (auto written = (*store)->import(batch, mode); !written) {
      return fail("import",
                  written.error().message + " after " + std::to_string(first) +
                      " counters (mode set: running the import again is safe)",
                  1);
    }
    progress.update(first + batch.size(), all.size());
  }
  if ((*store)->defers_sync()) {
    if (auto synced = (*store)->sync(); !synced) return fail("import", synced.error().message, 1);
  }
  progress.finish("imported", all.size());
  return 0;
}

int run_backup(std::span<const std::string_view> args) {
  constexpr std::string_view kKnown[] = {"--store=", "--output="};
  auto flags = parse_flags(args, kKnown);
  if (!flags || !flags->contains("--output")) {
    return fail("backup",
                (flags ? std::string("--output FILE is required") : flags.error()) +
                    " (usage: backup --store sqlite:PATH --output FILE)",
                2);
  }
  const std::string& url = flags->at("--store");
  if (!url.starts_with("sqlite:") || url.size() == 7) {
    return fail("backup",
                "backup copies sqlite:PATH stores (DynamoDB has point-in-time recovery, Redis its "
                "RDB and AOF files; export works for every store)",
                2);
  }
  const std::string& output = flags->at("--output");
  if (auto done = store::backup_sqlite(url.substr(7), output); !done) {
    return fail("backup", done.error(), 1);
  }
  std::cerr << "backup: " << url.substr(7) << " copied to " << output << std::endl;
  return 0;
}

int run_healthcheck(std::span<const std::string_view> args, const store::Environment& env) {
  constexpr std::string_view kKnown[] = {"--listen=", "--timeout-ms="};
  constexpr std::string_view kUsage = " (usage: healthcheck [--listen HOST:PORT] [--timeout-ms N])";
  auto flags = parse_flags(args, kKnown, /*store_required=*/false);
  if (!flags) return fail("healthcheck", flags.error() + std::string(kUsage), 2);
  const config::Config defaults;  // serve's listen address when neither flag nor variable says
  std::string listen = defaults.listen_host + ":" + std::to_string(defaults.listen_port);
  if (const char* value = env ? env("VC_LISTEN") : nullptr; value != nullptr && *value != '\0') {
    listen = value;
  }
  if (auto given = flags->find("--listen"); given != flags->end()) listen = given->second;
  auto where = util::parse_host_port(listen, /*port_zero_ok=*/false);
  if (!where) return fail("healthcheck", "--listen: " + where.error() + std::string(kUsage), 2);
  long timeout_ms = 2000;
  if (auto given = flags->find("--timeout-ms"); given != flags->end()) {
    const auto parsed = util::bounded_number(std::string_view(given->second), 1L, 600'000L);
    if (!parsed) {
      return fail("healthcheck", "--timeout-ms must be 1-600000" + std::string(kUsage), 2);
    }
    timeout_ms = *parsed;
  }
  // A server listening on every address is asked on loopback.
  std::string host = where->host;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  const std::chrono::milliseconds limit(timeout_ms);
  const aws::Endpoint endpoint{.tls = false, .host = host, .port = *where->port};
  aws::HttpClient client(endpoint, aws::HttpClientOptions{.connect_timeout = limit,
                                                          .request_timeout = limit,
                                                          .max_response_bytes = 64 * 1024,
                                                          .ca_file = {}});
  auto answer = client.send("GET", "/healthz",
                            {{"Host", endpoint.host_header()}, {"Connection", "close"}}, "", {});
  if (!answer) return fail("healthcheck", "GET /healthz: " + answer.error().message, 1);
  if (answer->status != 200) {
    return fail("healthcheck", "GET /healthz answered " + std::to_string(answer->status), 1);
  }
  return 0;
}

}  // namespace cli
