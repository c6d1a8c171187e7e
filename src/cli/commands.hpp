// The operator commands beside serve and lambda (docs/owners.md):
//   visitor-counter export --store URL [--output FILE]
//   visitor-counter import --store URL [--input FILE] [--mode set|add] [--dry-run]
//   visitor-counter backup --store sqlite:PATH --output FILE
//   visitor-counter healthcheck [--listen HOST:PORT] [--timeout-ms N]
// Export writes every counter with its history in the export format (cli/transfer_format.hpp)
// to FILE (written beside it, then renamed into place) or stdout. Import checks its whole
// input before it writes anything, then writes in batches: `set` (the default) makes each
// counter and each listed day equal to the input's, so running it twice changes nothing;
// `add` adds them. Progress goes to stderr.
#pragma once

#include <span>
#include <string_view>

#include "store/store.hpp"

namespace cli {

// The help of `command` (export, import, backup or healthcheck): its usage line, what it
// does, each flag and its exit codes; empty for any other word.
std::string_view help(std::string_view command);

// `args` are the words after the command's name. Returns the process's exit code: 0 done,
// 1 the store or a file failed, 2 bad usage or a bad input line (nothing written).
int run_export(std::span<const std::string_view> args, const store::Environment& env);
int run_import(std::span<const std::string_view> args, const store::Environment& env);
// A consistent copy of a SQLite store, safe while a server writes to it.
int run_backup(std::span<const std::string_view> args);
// Asks a running server for GET /healthz, for a container's HEALTHCHECK (an image with no
// shell or curl): at --listen, else $VC_LISTEN, else 127.0.0.1:8080, as serve reads them (a
// wildcard address is asked on loopback), within --timeout-ms (2000). Exit 0 on 200; 1 on
// anything else (503, refused, timed out), with the reason on stderr; 2 on bad usage.
int run_healthcheck(std::span<const std::string_view> args, const store::Environment& env);

}  // namespace cli
