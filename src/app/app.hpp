// The application: request in, response out, with no knowledge of sockets or Lambda.
// Routing, the origin policy, the counting policy and response bodies live here.
// Thread-safe: handle() may be called from many threads at once.
#pragma once

#include <functional>
#include <optional>

#include "app/admin.hpp"
#include "app/live_hub.hpp"
#include "app/message.hpp"
#include "app/origin_policy.hpp"
#include "app/router.hpp"
#include "counting/policy/client_address.hpp"
#include "counting/policy/rate_limit.hpp"
#include "counting/policy/rules.hpp"
#include "counting/write_combiner.hpp"
#include "metrics/registry.hpp"

namespace app {

// Requests carry no meaningful body; anything larger is refused with 413.
inline constexpr std::size_t kMaxBodyBytes = 4096;

// What decides whether a counting request counts (see counting/policy/).
struct CountingOptions {
  counting::policy::Rules rules;
  // True for a crawler's User-Agent or a missing one; used when rules.ignore_bots.
  std::function<bool(std::optional<std::string_view> user_agent)> is_bot;
  counting::policy::TrustedProxies proxies;  // parsed rules.trusted_proxies
  // Per client address; null when rules.rate_limit is off. Shared by every request.
  std::shared_ptr<counting::policy::RateLimiter> rate_limiter;
};

// The owner's and the operator's side: the admin API, the dashboard, who may read history,
// where /metrics is served and whether the demo page is.
struct OwnerOptions {
  // The token of the admin routes; without one they answer 404.
  std::optional<AdminToken> admin;
  // History (and period badges) only with the admin token.
  bool private_stats = false;
  // /metrics only on the operator's listener (--metrics-listen): 404 on the public one.
  bool metrics_listener = false;
  // The demo page at / (and its stylesheet); false (--no-demo): 404, /counter.js stays.
  bool demo_page = true;
  // The wall clock that says which UTC day is today; empty: the system's.
  std::function<std::chrono::system_clock::time_point()> clock;
  // Live streams (GET /stream/{key}) with these bounds; nullopt (Lambda, which cannot
  // stream): the route answers 404.
  std::optional<LiveOptions> live = std::nullopt;
};

class App {
 public:
  using Done = std::move_only_function<void(Response)>;

  // `counter` and `metrics` must outlive the App.
  // With OwnerOptions::live, the App starts a LiveHub thread, stopped when it is destroyed.
  App(counting::WriteCombiner& counter, metrics::Registry& metrics, OriginPolicy origins,
      CountingOptions counting = {}, OwnerOptions owner = {});

  // Answers `request` by calling `done` exactly once, either before handle() returns or
  // later on the thread that finished the hit (after it is durable). Never throws.
  void handle(const Request& request, Done done);

  // Ends the live streams' thread (nothing more is sent on open streams): the transport calls
  // it before it goes, since the streams' wake-ups refer to it. Idempotent.
  void stop_live() {
    if (live_) live_->stop();
  }

  // The registry the App counts requests in; transports add their own figures to it.
  metrics::Registry& metrics() const { return metrics_; }

 private:
  // Applies the origin policy: answers 403 through `done` and returns nullopt when the
  // origin is refused; otherwise returns `done` wrapped to add the CORS headers.
  std::optional<Done> admit(const Request& request, Done& done) const;
  void handle_api(const Request& request, Endpoint endpoint, std::string_view encoded_key,
                  Done done);
  void handle_badge(const Request& request, std::string_view encoded_key, Done done);
  void handle_health(Done done);
  // GET /stream/{key} (app/stream.cpp): a live stream of the counter's totals.
  void handle_stream(const Request& request, std::string_view encoded_key, Done done);
  // Counts one hit on `key` under the counting policy, or, when the policy ignores it,
  // reads the current totals, and answers `render(result)`. A request the policy refuses
  // (a bad forwarding header or Idempotency-Key: 400; past the rate limit: 429; its
  // Idempotency-Key being counted right now: 409) or a store failure (503) gets its JSON
  // error instead. Every answer carries the rate-limit headers when a limit is set.
  using Render = std::move_only_function<Response(const store::HitResult&)>;
  // The client's address (see counting/policy/client_address.hpp; "" with no peer), or why
  // the forwarding headers are refused.
  std::expected<std::string, std::string> client_of(const Request& request) const;
  void count(const Request& request, std::string key, bool from_image_proxy, Done reply,
             Render render);
  // The owner's side (app/owner.cpp). Each answers through `done`.
  // Null when `request` may use the admin routes; else the 404 (no token configured) or
  // 401 (a wrong or missing token) to answer.
  std::optional<Response> refuse_admin(const Request& request) const;
  // A read that is public under the origin policy, or the owner's (/history, /stream):
  // with --private-stats, or the owner's own token, the admin token decides and there is no
  // CORS (the dashboard reads same-origin, which --require-origin would refuse); otherwise
  // admit() does. Answers a refusal and a preflight (OPTIONS) itself and returns nullopt;
  // else returns `done` wrapped as the path requires.
  std::optional<Done> admit_read(const Request& request, Endpoint endpoint, Done& done) const;
  // GET /history/{key}: public (under the origin policy) unless private_stats.
  void handle_history(const Request& request, std::string_view encoded_key, Done done);
  // GET /counters (admin).
  void handle_list(const Request& request, Done done);
  // PUT or DELETE /counters/{key} (admin).
  void handle_change(const Request& request, std::string_view encoded_key, Done done);
  // A badge that shows the views of its last `days` days.
  void handle_period_badge(std::string key, int days, Render render, Done done);
  // The dashboard's files (admin routes: 404 without a token; the files hold no data).
  Response dashboard_file(std::string_view path) const;
  std::chrono::sys_days today() const;
  // Whether `endpoint` is served on the listener `request` came in on, and at all: the
  // operator's listener serves only /metrics and /healthz, the public one /metrics only
  // without it, and the demo page only without --no-demo.
  bool served_here(const Request& request, Endpoint endpoint) const;
  // The total that counting endpoints answer as `count`: views or visitors, by the rules.
  std::int64_t count_of(const store::Totals& totals) const;
  // The answer to a CORS preflight: the endpoint's CORS methods.
  static Response preflight(Endpoint endpoint);
  // The 404 that /history and period badges answer in the classic profile (no day rows are
  // kept), or nullopt when history is kept.
  std::optional<Response> refuse_without_history() const;

  counting::WriteCombiner& counter_;
  metrics::Registry& metrics_;
  OriginPolicy origins_;
  CountingOptions counting_;
  OwnerOptions owner_;
  std::unique_ptr<LiveHub> live_;  // with OwnerOptions::live
};

}  // namespace app
