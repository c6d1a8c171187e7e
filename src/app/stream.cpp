// GET /stream/{key}: the counter's totals now and on each change, as Server-Sent Events
// (app/live_hub.hpp says how they are made; http/session.cpp writes them).
#include "app/app.hpp"
#include "app/json.hpp"
#include "app/key.hpp"
#include "app/query.hpp"

namespace app {

void App::handle_stream(const Request& request, std::string_view encoded_key, Done done) {
  if (!live_) {
    return done(error_response(404, "not_found",
                               "live streams are served by `visitor-counter serve` only; poll "
                               "GET /counters/{key} instead"));
  }
  if (owner_.live->max_streams == 0) {
    return done(error_response(404, "not_found",
                               "live streams are off on this server (--max-streams 0); poll GET "
                               "/counters/{key} instead"));
  }
  // As /history: the owner's dashboard reads with its token; --private-stats needs it.
  std::optional<Done> admitted = admit_read(request, Endpoint::stream, done);
  if (!admitted) return;
  Done reply = std::move(*admitted);
  std::optional<std::string> key = parse_key(encoded_key);
  if (!key) return reply(error_response(400, "bad_key", kKeyRule));
  if (!query_of(request.target).empty()) {
    return reply(error_response(400, "bad_query", "/stream takes no parameters"));
  }
  auto client = client_of(request);
  if (!client) return reply(error_response(400, "bad_forwarded", client.error()));
  std::shared_ptr<EventStream> stream = live_->open(std::move(*key), std::move(*client));
  if (!stream) {
    Response response = error_response(503, "too_many_streams",
                                       "this server, or this client, has as many live streams "
                                       "open as it allows (--max-streams); try again later");
    response.set("Retry-After", "30");
    return reply(std::move(response));
  }
  Response response{.status = 200, .headers = {}, .body = live_->preamble()};
  response.set("Content-Type", "text/event-stream; charset=utf-8");
  response.set("Cache-Control", "no-cache");
  response.set("X-Accel-Buffering", "no");  // nginx: pass events on as they come
  response.stream = std::move(stream);
  reply(std::move(response));
}

}  // namespace app
