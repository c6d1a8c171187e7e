// The counting policy's settings: which total the counting endpoints answer, and which
// requests count at all. Plain data, filled by config/, read by app/ and counting/.
#pragma once

#include <chrono>

namespace counting::policy {

// Which total a counting endpoint answers as `count`.
enum class CountUnit { views, visitors };

struct Rules {
  CountUnit unit = CountUnit::views;
  bool ignore_bots = false;               // crawlers and a missing User-Agent count nothing
  bool respect_dnt = false;               // DNT: 1 or Sec-GPC: 1 counts nothing
  std::chrono::seconds repeat_window{0};  // the same visitor on a counter counts once per window
};

}  // namespace counting::policy
