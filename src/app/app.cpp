// Request handling: dispatch on the route, apply the origin policy, count or read.
#include "app/app.hpp"

#include "app/json.hpp"
#include "app/key.hpp"
#include "app/router.hpp"
#include "web/assets.hpp"

namespace app {
namespace {

constexpr std::string_view kStoreDown = "the counter store is unavailable; try again shortly";

Response json_ok(std::string body) {
  Response response{.status = 200, .headers = {}, .body = std::move(body)};
  response.set("Content-Type", "application/json");
  response.set("Cache-Control", "no-store");
  return response;
}

Response preflight(Endpoint endpoint) {
  Response response{.status = 204, .headers = {}, .body = {}};
  response.set("Access-Control-Allow-Methods", std::string(allowed_methods(endpoint)));
  response.set("Access-Control-Allow-Headers", "Content-Type");
  response.set("Access-Control-Max-Age", "86400");
  return response;
}

// Adds the CORS answer for an allowed origin; every API answer varies by Origin.
void add_cors(Response& response, const std::optional<std::string>& allowed_origin) {
  if (allowed_origin) response.set("Access-Control-Allow-Origin", *allowed_origin);
  response.set("Vary", "Origin");
}

}  // namespace

void App::handle(const Request& request, Done done) {
  const std::string_view target = request.target;
  const Route matched = route(target.substr(0, target.find('?')));
  Done finish = [this, endpoint = matched.endpoint, done = std::move(done)](Response r) mutable {
    metrics_.count_request(label(endpoint), r.status);
    done(std::move(r));
  };
  if (matched.endpoint == Endpoint::not_found) {
    return finish(error_response(404, "not_found", "no such endpoint"));
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
    case Endpoint::count:
    case Endpoint::read_counter:
      return handle_api(request, matched.endpoint, matched.encoded_key, std::move(finish));
    case Endpoint::healthz:
      return handle_health(std::move(finish));
    case Endpoint::metrics: {
      Response response{.status = 200, .headers = {}, .body = metrics_.render()};
      response.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      return finish(std::move(response));
    }
    case Endpoint::index_page:
      return finish(asset("/index.html", "text/html; charset=utf-8"));
    case Endpoint::widget:
      return finish(asset("/counter.js", "text/javascript; charset=utf-8"));
    case Endpoint::not_found:
      break;
  }
  finish(error_response(404, "not_found", "no such endpoint"));
}

void App::handle_api(const Request& request, Endpoint endpoint, std::string_view encoded_key,
                     Done done) {
  const auto origin = request.header("origin");
  const OriginPolicy::Verdict verdict = origins_.check(origin);
  if (verdict == OriginPolicy::Verdict::refused) {
    return done(error_response(
        403, "origin_not_allowed",
        origin ? "this origin may not use the counter" : "requests must carry an Origin header"));
  }
  std::optional<std::string> allowed_origin;
  if (verdict == OriginPolicy::Verdict::allowed) allowed_origin = std::string(*origin);
  Done reply = [allowed_origin, done = std::move(done)](Response response) mutable {
    add_cors(response, allowed_origin);
    done(std::move(response));
  };
  if (request.method == "OPTIONS") return reply(preflight(endpoint));

  std::optional<std::string> key = parse_key(encoded_key);
  if (!key) return reply(error_response(400, "bad_key", kKeyRule));
  if (endpoint == Endpoint::count) {
    return counter_.hit(std::move(*key), [reply = std::move(reply)](auto value) mutable {
      if (!value) return reply(error_response(503, "store_unavailable", kStoreDown));
      reply(json_ok(count_body(*value)));
    });
  }
  counter_.read(*key, [key = *key, reply = std::move(reply)](auto value) mutable {
    if (!value) return reply(error_response(503, "store_unavailable", kStoreDown));
    if (!*value) return reply(error_response(404, "not_found", "this counter has never counted"));
    reply(json_ok("{\"key\":" + json_string(key) + ",\"count\":" + std::to_string(**value) + "}"));
  });
}

void App::handle_health(Done done) {
  counter_.ping([done = std::move(done)](store::StoreResult<void> ok) mutable {
    if (!ok) return done(error_response(503, "store_unavailable", kStoreDown));
    done(json_ok("{\"status\":\"ok\"}"));
  });
}

Response App::asset(std::string_view path, std::string_view content_type) {
  const auto bytes = web::find_asset(path);
  if (!bytes) return error_response(404, "not_found", "no such file");
  Response response{.status = 200, .headers = {}, .body = std::string(*bytes)};
  response.set("Content-Type", std::string(content_type));
  response.set("Cache-Control", "public, max-age=300");
  response.set("X-Content-Type-Options", "nosniff");
  return response;
}

}  // namespace app
