// Progress of a long operator command on stderr: on a terminal, a bar redrawn in place with
// items per second and the time left; otherwise nothing until one plain summary line.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace cli {

class Progress {
 public:
  // `what` names the items ("counters"); `out` is where lines go; `terminal` draws the bar.
  Progress(std::string what, std::FILE* out, bool terminal);

  // `done` of `total` items are through (total 0: not known yet). Redraws at most ten times
  // a second.
  void update(std::size_t done, std::size_t total);

  // The summary: "exported 100000 counters in 4.2 s (23810/s)", after `verb`.
  void finish(std::string_view verb, std::size_t done);

 private:
  double seconds() const;

  std::string what_;
  std::FILE* out_;
  bool terminal_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point drawn_{};
};

}  // namespace cli
