// Request handling: dispatch on the route, apply the origin policy, count or read.
#include "app/app.hpp"

#include "app/badge.hpp"
#include "app/json.hpp"
#include "app/key.hpp"
#include "app/query.hpp"
#include "app/router.hpp"
#include "app/web_file.hpp"
#include "counting/policy/idempotency_key.hpp"
#include "counting/policy/image_proxy.hpp"

namespace app {

App::App(counting::WriteCombiner& counter, metrics::Registry& metrics, OriginPolicy origins,
         CountingOptions counting, OwnerOptions owner)
    : counter_(counter),
      metrics_(metrics),
      origins_(std::move(origins)),
      counting_(std::move(counting)),
      owner_(std::move(owner)) {
  if (owner_.live) {
    live_ = std::make_unique<LiveHub>(
        counter_, metrics_,
        [this](std::string_view key, const store::Totals& totals) {
          return counter_body(key, count_of(totals), totals);
        },
        *owner_.live);
  }
}

Response App::preflight(Endpoint endpoint) {
  Response response{.status = 204, .headers = {}, .body = {}};
  response.set("Access-Control-Allow-Methods", std::string(cors_methods(endpoint)));
  response.set("Access-Control-Allow-Headers", "Content-Type, Idempotency-Key");
  response.set("Access-Control-Max-Age", "86400");
  return response;
}

namespace {

// Adds the CORS answer for an allowed origin; every API answer varies by Origin.
void add_cors(Response& response, const std::optional<std::string>& allowed_origin) {
  if (allowed_origin) {
    response.set("Access-Control-Allow-Origin", *allowed_origin);
    response.set("Access-Control-Expose-Headers", "RateLimit, RateLimit-Policy, Retry-After");
  }
  response.set("Vary", "Origin");
}

// The badge image. Every view must reach us (GitHub's image proxy honours no-cache), and
// an SVG opened on its own may not run anything.
Response badge_response(const BadgeOptions& options, std::int64_t value,
                        std::optional<std::string_view> if_none_match) {
  std::string svg = render_badge(options, badge_number(options, value));
  std::string tag = entity_tag(svg);
  const bool unchanged = if_none_match && *if_none_match == tag;
  Response response{.status = unchanged ? 304 : 200, .headers = {}, .body = {}};
  if (!unchanged) response.body = std::move(svg);
  response.set("Content-Type", "image/svg+xml; charset=utf-8");
  response.set("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0");
  response.set("Pragma", "no-cache");
  response.set("Expires", "0");
  response.set("ETag", std::move(tag));
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  return response;
}

// True when the request asks not to be tracked: DNT: 1 or Sec-GPC: 1.
bool opts_out(const Request& request) {
  const auto dnt = request.header("dnt");
  const auto gpc = request.header("sec-gpc");
  return (dnt && *dnt == "1") || (gpc && *gpc == "1");
}

// The request's Idempotency-Key, unquoted ("" without one), or why it is refused.
std::expected<std::string, std::string> idempotency_key_of(const Request& request) {
  const std::vector<std::string_view> keys = request.header_lines("idempotency-key");
  if (keys.empty()) return std::string();
  if (keys.size() > 1) return std::unexpected("send at most one Idempotency-Key header");
  return counting::policy::parse_idempotency_key(keys.front());
}

}  // namespace

bool App::served_here(const Request& request, Endpoint endpoint) const {
  const bool operational = endpoint == Endpoint::metrics || endpoint == Endpoint::healthz;
  if (request.operator_listener) return operational;
  if (endpoint == Endpoint::metrics && owner_.metrics_listener) return false;
  const bool demo = endpoint == Endpoint::index_page || endpoint == Endpoint::stylesheet;
  return !demo || owner_.demo_page;
}

std::int64_t App::count_of(const store::Totals& totals) const {
  return counting_.rules.unit == counting::policy::CountUnit::visitors ? totals.visitors
                                                                       : totals.views;
}

void App::handle(const Request& request, Done done) {
  const std::string_view target = request.target;
  const Route matched = route(target.substr(0, target.find('?')));
  Done finish = [this, endpoint = matched.endpoint, done = std::move(done)](Response r) mutable {
    metrics_.count_request(label(endpoint), r.status);
    done(std::move(r));
  };
  if (matched.endpoint == Endpoint::not_found || !served_here(request, matched.endpoint)) {
    return finish(error_response(404, "not_found", "no such endpoint"));
  }
  if (request.method == "HEAD") {
    // HEAD answers what GET would, without the body, and never counts (a safe method).
    finish = [finish = std::move(finish)](Response r) mutable {
      r.head = true;
      finish(std::move(r));
    };
  }
  if (!allows(matched.endpoint, request.method)) {
    Response response = error_response(
        405, "method_not_allowed", "allowed: " + std::string(allowed_methods(matched.endpoint)));
    response.set("Allow", std::string(allowed_methods(matched.endpoint)));
    return finish(std::move(response));
  }
  if (request.body.size() > kMaxBodyBytes) {
    return finish(
        error_response(413, "body_too_large", "request bodies are limited to 4096 bytes"));
  }
  switch (matched.endpoint) {
    case Endpoint::read_counter:
      if (request.method == "PUT" || request.method == "DELETE") {
        return handle_change(request, matched.encoded_key, std::move(finish));
      }
      [[fallthrough]];
    case Endpoint::count:
      return handle_api(request, matched.endpoint, matched.encoded_key, std::move(finish));
    case Endpoint::history:
      return handle_history(request, matched.encoded_key, std::move(finish));
    case Endpoint::counters:
      return handle_list(request, std::move(finish));
    case Endpoint::dashboard:
      return finish(dashboard_file(matched.encoded_key));
    case Endpoint::badge:
      return handle_badge(request, matched.encoded_key, std::move(finish));
    case Endpoint::stream:
      return handle_stream(request, matched.encoded_key, std::move(finish));
    case Endpoint::healthz:
      return handle_health(std::move(finish));
    case Endpoint::metrics: {
      Response response{.status = 200, .headers = {}, .body = metrics_.render()};
      response.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      return finish(std::move(response));
    }
    case Endpoint::index_page:
      return finish(web_file("/index.html"));
    case Endpoint::widget:
      return finish(web_file("/counter.js"));
    case Endpoint::stylesheet:
      return finish(web_file("/demo.css"));
    case Endpoint::openapi:
      return finish(web_file("/openapi.yaml"));
    case Endpoint::not_found:
      break;
  }
  finish(error_response(404, "not_found", "no such endpoint"));
}

std::optional<App::Done> App::admit(const Request& request, Done& done) const {
  const auto origin = request.header("origin");
  const OriginPolicy::Verdict verdict = origins_.check(origin);
  if (verdict == OriginPolicy::Verdict::refused) {
    done(error_response(
        403, "origin_not_allowed",
        origin ? "this origin may not use the counter" : "requests must carry an Origin header"));
    return std::nullopt;
  }
  std::optional<std::string> allowed_origin;
  if (verdict == OriginPolicy::Verdict::allowed) allowed_origin = std::string(*origin);
  return Done([allowed_origin, done = std::move(done)](Response response) mutable {
    add_cors(response, allowed_origin);
    done(std::move(response));
  });
}

void App::handle_api(const Request& request, Endpoint endpoint, std::string_view encoded_key,
                     Done done) {
  std::optional<Done> admitted = admit(request, done);
  if (!admitted) return;
  Done reply = std::move(*admitted);
  if (request.method == "OPTIONS") return reply(preflight(endpoint));

  std::optional<std::string> key = parse_key(encoded_key);
  if (!key) return reply(error_response(400, "bad_key", kKeyRule));
  if (endpoint == Endpoint::count && request.method == "HEAD") {
    return counter_.read(*key, [this, reply = std::move(reply)](auto totals) mutable {
      if (!totals) return reply(unavailable(totals.error(), false));
      reply(json_ok(count_body(count_of(totals->value_or(store::Totals{})))));
    });
  }
  if (endpoint == Endpoint::count) {
    return count(request, std::move(*key), false, std::move(reply),
                 [this](const store::HitResult& result) {
                   return json_ok(count_body(count_of(result.totals)));
                 });
  }
  counter_.read(*key, [this, key = *key, reply = std::move(reply)](auto totals) mutable {
    if (!totals) return reply(unavailable(totals.error(), false));
    if (!*totals) return reply(error_response(404, "not_found", "this counter has never counted"));
    const store::Totals& t = **totals;
    reply(json_ok(counter_body(key, count_of(t), t)));
  });
}

std::expected<std::string, std::string> App::client_of(const Request& request) const {
  namespace policy = counting::policy;
  if (request.peer.empty()) return std::string();  // a Lambda event without sourceIp
  // Only the header the trusted proxies write is read; a malformed Forwarded is refused
  // even when it is not read, whoever sent it.
  policy::ForwardedHeaders headers;
  if (counting_.rules.forwarded_header == policy::ForwardedHeader::forwarded) {
    headers.forwarded = request.header_lines("forwarded");
  } else {
    const std::vector<std::string_view> forwarded = request.header_lines("forwarded");
    if (!forwarded.empty()) {
      auto checked =
          policy::client_address(request.peer, {.forwarded = forwarded, .x_forwarded_for = {}}, {});
      if (!checked) return checked;
    }
    headers.x_forwarded_for = request.header_lines("x-forwarded-for");
  }
  return policy::client_address(request.peer, headers, counting_.proxies);
}

void App::count(const Request& request, std::string key, bool from_image_proxy, Done reply,
                Render render) {
  namespace policy = counting::policy;
  const auto refuse = [&](int status, std::string_view code, std::string message) {
    reply(error_response(status, code, message));
  };
  if (!counting_.rules.keys.allows(key)) {
    return refuse(404, "unknown_counter",
                  "this server counts only the counters its owner listed (--keys); this is not "
                  "one of them");
  }
  auto client = client_of(request);
  if (!client) return refuse(400, "bad_forwarded", client.error());
  auto idempotency_key = idempotency_key_of(request);
  if (!idempotency_key) return refuse(400, "bad_idempotency_key", idempotency_key.error());

  if (counting_.rate_limiter) {
    // An image proxy fetches for many readers from a few addresses (and anyone can send its
    // User-Agent): its requests share one bucket per counter instead of one per address.
    policy::RateLimiter& limiter = *counting_.rate_limiter;
    const policy::RateLimiter::Decision decision =
        limiter.take(from_image_proxy ? "image-proxy " + key : policy::rate_limit_key(*client));
    reply = [policy_header = limiter.policy_header(),
             header = policy::RateLimiter::header(decision),
             reply = std::move(reply)](Response response) mutable {
      response.set("RateLimit-Policy", policy_header);
      response.set("RateLimit", header);
      reply(std::move(response));
    };
    if (!decision.allowed) {
      Response response = error_response(429, "rate_limited",
                                         "too many counting requests from this address; try "
                                         "again after Retry-After seconds");
      response.set("Retry-After", std::to_string(decision.retry_after_seconds));
      return reply(std::move(response));
    }
  }

  const auto user_agent = request.header("user-agent");
  std::optional<metrics::Ignored> ignored;
  if (counting_.rules.respect_dnt && opts_out(request)) {
    ignored = metrics::Ignored::dnt;
  } else if (!from_image_proxy && counting_.rules.ignore_bots && counting_.is_bot &&
             counting_.is_bot(user_agent)) {
    ignored = metrics::Ignored::bot;
  }
  auto answer = [reply = std::move(reply), render = std::move(render),
                 owner_creates = counting_.rules.owner_creates_counters, live = live_.get(),
                 watched_key = live_ ? key : std::string()](
                    store::StoreResult<store::HitResult> result) mutable {
    if (live && result && store::counted(result->seen)) live->touch(watched_key);
    if (!result && owner_creates && result.error().kind == store::StoreError::Kind::refused) {
      return reply(error_response(404, "unknown_counter",
                                  "this counter does not exist, and only its owner creates "
                                  "counters (PUT /counters/KEY)"));
    }
    if (!result) return reply(unavailable(result.error(), true));
    if (result->seen == store::Seen::conflict) {
      Response response =
          error_response(409, "idempotency_conflict",
                         "a request with this Idempotency-Key is being counted; retry shortly");
      response.set("Retry-After", "1");
      return reply(std::move(response));
    }
    reply(render(*result));
  };
  if (ignored) {
    metrics_.count_ignored(*ignored);
    return counter_.read(key, [answer = std::move(answer)](auto totals) mutable {
      if (!totals) return answer(std::unexpected(totals.error()));
      answer(store::HitResult{.seen = store::Seen::repeat,
                              .totals = totals->value_or(store::Totals{})});
    });
  }
  // The classic profile keeps no visitor and no Idempotency-Key record: one write per hit.
  const bool classic = counting_.rules.profile == counting::policy::Profile::classic;
  counting::Visitor visitor{
      .client = std::move(*client),
      .user_agent = std::string(user_agent.value_or("")),
      .tracked = !from_image_proxy && !classic,
      .idempotency_key = classic ? std::string() : std::move(*idempotency_key)};
  counter_.hit(std::move(key), std::move(visitor), std::move(answer));
}

void App::handle_badge(const Request& request, std::string_view encoded_key, Done done) {
  std::optional<Done> admitted = admit(request, done);
  if (!admitted) return;
  Done reply = std::move(*admitted);
  if (request.method == "OPTIONS") return reply(preflight(Endpoint::badge));
  std::optional<std::string> key = parse_key(encoded_key);
  if (!key) return reply(error_response(400, "bad_key", kKeyRule));
  auto options = parse_badge_query(query_of(request.target));
  if (!options) return reply(error_response(400, "bad_option", options.error()));

  // A badge shows views: image proxies fetch it for many viewers, so it has no visitors.
  const bool counting = options->count && options->period_days == 0 && request.method != "HEAD";
  const int period_days = options->period_days;
  auto render = [options = std::move(*options),
                 if_none_match = std::optional<std::string>(request.header("if-none-match"))](
                    const store::HitResult& result) {
    return badge_response(options, result.totals.views, if_none_match);
  };
  if (period_days > 0) {
    if (auto refused = refuse_without_history()) return reply(std::move(*refused));
    if (owner_.private_stats) {
      if (auto refused = refuse_admin(request)) return reply(std::move(*refused));
    }
    return handle_period_badge(std::move(*key), period_days, std::move(render), std::move(reply));
  }
  if (counting) {
    const bool proxy = counting::policy::is_image_proxy(request.header("user-agent"));
    return count(request, std::move(*key), proxy, std::move(reply), std::move(render));
  }
  counter_.read(*key, [render = std::move(render), reply = std::move(reply)](auto totals) mutable {
    if (!totals) return reply(unavailable(totals.error(), false));
    reply(render(store::HitResult{.seen = store::Seen::repeat,
                                  .totals = totals->value_or(store::Totals{})}));
  });
}

std::optional<Response> App::refuse_without_history() const {
  if (counting_.rules.profile != counting::policy::Profile::classic) return std::nullopt;
  return error_response(404, "not_found",
                        "this deployment keeps no daily history (the classic profile)");
}

void App::handle_health(Done done) {
  counter_.ping([done = std::move(done)](counting::Health health) mutable {
    switch (health) {
      case counting::Health::ok:
        return done(json_ok("{\"status\":\"ok\"}"));
      case counting::Health::unavailable:
        return done(error_response(503, "store_unavailable", "the counter store does not answer"));
      case counting::Health::cannot_write:
        return done(error_response(503, "store_cannot_write",
                                   "the store's last write failed (is the disk full?); counting "
                                   "resumes with the first write that succeeds"));
      case counting::Health::halted:
        return done(unavailable({"", store::StoreError::Kind::halted}, false));
    }
  });
}

}  // namespace app
