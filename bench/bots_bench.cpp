// Prints what BotFilter::is_bot costs, in ns per call, for a Chrome and a Googlebot
// User-Agent: cached (the same User-Agent again, the common case) and uncached (the regexes
// run every time: a filter without a cache), plus the time to build the filter. Run by hand
// on an otherwise idle machine: `build/<dir>/src/bots_bench [iterations]`.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "counting/policy/bots.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double ns_per_call(const counting::policy::BotFilter& filter, std::string_view user_agent,
                   long iterations, long& bots) {
  filter.is_bot(user_agent);  // warms the cache, if there is one
  const auto start = Clock::now();
  for (long i = 0; i < iterations; ++i) bots += filter.is_bot(user_agent) ? 1 : 0;
  const std::chrono::duration<double, std::nano> elapsed = Clock::now() - start;
  return elapsed.count() / static_cast<double>(iterations);
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 20000;
  if (iterations <= 0) {
    std::fprintf(stderr, "usage: bots_bench [iterations > 0]\n");
    return 2;
  }
  const auto start = Clock::now();
  const counting::policy::BotFilter cached;
  const std::chrono::duration<double, std::milli> build_time = Clock::now() - start;
  const counting::policy::BotFilter uncached(0);

  constexpr std::pair<const char*, std::string_view> user_agents[] = {
      {"chrome",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/124.0.0.0 Safari/537.36"},
      {"googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
  };
  std::printf("%s, %zu patterns; building the filter: %.1f ms\n",
              std::string(counting::policy::bot_list_source()).c_str(), cached.pattern_count(),
              build_time.count());
  long bots = 0;
  for (const auto& [name, user_agent] : user_agents) {
    const double hit = ns_per_call(cached, user_agent, iterations * 50, bots);
    const double miss = ns_per_call(uncached, user_agent, iterations, bots);
    std::printf("%-10s bot=%d  cached %8.1f ns/call  uncached %9.1f ns/call\n", name,
                cached.is_bot(user_agent) ? 1 : 0, hit, miss);
  }
  return bots >= 0 ? 0 : 1;  // uses `bots`, so the calls are not optimised away
}
