// The progress bar and the summary line.
#include "cli/progress.hpp"

#include <algorithm>
#include <cinttypes>

namespace cli {

Progress::Progress(std::string what, std::FILE* out, bool terminal)
    : what_(std::move(what)), out_(out), terminal_(terminal) {}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void Progress::update(std::size_t done, std::size_t total) {
  if (!terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - drawn_ < std::chrono::milliseconds(100) && done != total) return;
  drawn_ = now;
  constexpr int kWidth = 30;
  const double elapsed = std::max(seconds(), 1e-3);
  const double rate = static_cast<double>(done) / elapsed;
  const double part = total == 0 ? 0.0 : std::min(1.0, static_cast<double>(done) / total);
  const int filled = static_cast<int>(part * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '=');
  bar.resize(kWidth, ' ');
  std::string eta = "--";
  if (total != 0 && rate > 0) {
    eta = std::to_string(static_cast<long long>((total - std::min(done, total)) / rate)) + " s";
  }
  std::fprintf(out_, "\r[%s] %zu/%zu %s  %.0f/s  ETA %s  ", bar.c_str(), done, total, what_.c_str(),
               rate, eta.c_str());
  std::fflush(out_);
}

void Progress::finish(std::string_view verb, std::size_t done) {
  const double elapsed = seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  std::fprintf(out_, "%s%.*s %zu %s in %.1f s (%.0f/s)\n", terminal_ ? "\r\033[K" : "",
               static_cast<int>(verb.size()), verb.data(), done, what_.c_str(), elapsed, rate);
  std::fflush(out_);
}

}  // namespace cli
