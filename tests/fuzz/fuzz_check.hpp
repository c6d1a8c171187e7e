// Invariant checks for the fuzz targets. A broken invariant prints what broke and where,
// then aborts, which libFuzzer reports as a crash and saves the input. Unlike assert(),
// a check is on in every build type.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <source_location>
#include <string_view>

namespace fuzz {

inline void check(bool ok, std::string_view what,
                  std::source_location where = std::source_location::current()) {
  if (ok) return;
  std::fprintf(stderr, "%s:%u: invariant broken: %.*s\n", where.file_name(),
               static_cast<unsigned>(where.line()), static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace fuzz
