// The owner's side of the App: history, the admin API (listing, setting, removing) and the
// dashboard's files. Every store call runs where the write combiner applies batches, in order
// with the hits queued before it.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "app/app.hpp"
#include "app/history.hpp"
#include "app/json.hpp"
#include "app/key.hpp"
#include "app/query.hpp"
#include "app/web_file.hpp"
#include "util/text.hpp"
#include "util/utc_day.hpp"

namespace app {
namespace {

constexpr std::int64_t kDefaultPage = 50;
constexpr std::int64_t kMaxPage = 1000;

// Admin answers may be read by no other site and kept by no cache.
Response private_answer(Response response) {
  response.set("Cache-Control", "no-store");
  return response;
}

// The largest total PUT accepts: what every JSON reader holds exactly (2^53 - 1).
constexpr std::int64_t kMaxTotal = 9'007'199'254'740'991;

struct NewTotals {
  std::optional<std::int64_t> views;
  std::optional<std::int64_t> visitors;
};

// The body of PUT /counters/{key}: `{"views":N}`, `{"visitors":N}` or both, whole numbers
// from 0 to 2^53 - 1, nothing else.
std::expected<NewTotals, std::string> parse_new_totals(std::string_view body) {
  constexpr std::string_view kRule =
      R"(the body must be a JSON object with "views" and/or "visitors", whole numbers from 0)";
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(body, ec);
  if (ec || !value.is_object() || value.as_object().empty())
    return std::unexpected(std::string(kRule));
  NewTotals totals;
  for (const auto& [name, field] : value.as_object()) {
    std::optional<std::int64_t>* target = name == "views"      ? &totals.views
                                          : name == "visitors" ? &totals.visitors
                                                               : nullptr;
    std::int64_t number = -1;
    if (field.is_int64()) number = field.as_int64();
    if (field.is_uint64() && field.as_uint64() <= static_cast<std::uint64_t>(kMaxTotal)) {
      number = static_cast<std::int64_t>(field.as_uint64());
    }
    if (target == nullptr || number < 0 || number > kMaxTotal)
      return std::unexpected(std::string(kRule));
    *target = number;
  }
  return totals;
}

// Makes an admin change durable before it is answered, when the store defers its syncs.
store::StoreResult<void> made_durable(store::Store& store) {
  return store.defers_sync() ? store.sync() : store::StoreResult<void>{};
}

}  // namespace

std::chrono::sys_days App::today() const {
  const auto now = owner_.clock ? owner_.clock() : std::chrono::system_clock::now();
  return std::chrono::floor<std::chrono::days>(now);
}

std::optional<Response> App::refuse_admin(const Request& request) const {
  if (!owner_.admin) return error_response(404, "not_found", "no such endpoint");
  const auto authorization = request.header("authorization");
  if (!owner_.admin->accepts(authorization)) return unauthorized(authorization.has_value());
  return std::nullopt;
}

Response App::dashboard_file(std::string_view path) const {
  if (!owner_.admin) return error_response(404, "not_found", "no such endpoint");
  return web_file(path);
}

std::optional<App::Done> App::admit_read(const Request& request, Endpoint endpoint,
                                         Done& done) const {
  const bool as_owner = owner_.admin && owner_.admin->accepts(request.header("authorization"));
  if (owner_.private_stats || as_owner) {
    if (auto refused = refuse_admin(request)) {
      done(std::move(*refused));
      return std::nullopt;
    }
    if (request.method == "OPTIONS") {
      done(private_answer({204, {}, {}}));
      return std::nullopt;
    }
    return std::move(done);
  }
  std::optional<Done> admitted = admit(request, done);
  if (admitted && request.method == "OPTIONS") {
    (*admitted)(preflight(endpoint));
    return std::nullopt;
  }
  return admitted;
}

void App::handle_history(const Request& request, std::string_view encoded_key, Done done) {
  std::optional<Done> admitted = admit_read(request, Endpoint::history, done);
  if (!admitted) return;
  Done reply = std::move(*admitted);
  if (auto refused = refuse_without_history()) return reply(std::move(*refused));
  std::optional<std::string> key = parse_key(encoded_key);
  if (!key) return reply(error_response(400, "bad_key", kKeyRule));
  auto params = parse_query(query_of(request.target));
  if (!params) return reply(error_response(400, "bad_query", params.error()));
  if (auto known = only_known(*params, {"from", "to"}, "/history takes from and to"); !known) {
    return reply(error_response(400, "bad_query", known.error()));
  }
  auto range = parse_range(param(*params, "from"), param(*params, "to"), today());
  if (!range) return reply(error_response(400, "bad_range", range.error()));
  counter_.read_with_store([key = std::move(*key), range = *range,
                            reply = std::move(reply)](store::Store& store) mutable {
    auto totals = store.get(key);
    if (!totals) return reply(unavailable(totals.error(), false));
    if (!*totals) return reply(error_response(404, "not_found", "this counter has never counted"));
    auto rows = store.history(key, range.first(), range.last());
    if (!rows) return reply(unavailable(rows.error(), false));
    reply(json_ok(R"({"key":)" + json_string(key) + R"(,"from":")" + range.first() + R"(","to":")" +
                  range.last() + R"(","days":)" + days_json(fill_days(*rows, range)) + "}"));
  });
}

void App::handle_list(const Request& request, Done done) {
  if (auto refused = refuse_admin(request)) return done(std::move(*refused));
  auto params = parse_query(query_of(request.target));
  if (!params) return done(error_response(400, "bad_query", params.error()));
  if (auto known = only_known(*params, {"prefix", "limit", "cursor", "days"},
                              "/counters takes prefix, limit, cursor and days");
      !known) {
    return done(error_response(400, "bad_query", known.error()));
  }
  const std::string prefix(param(*params, "prefix").value_or(""));
  const std::string cursor(param(*params, "cursor").value_or(""));
  const auto limit_text = param(*params, "limit");
  const auto limit =
      limit_text ? util::bounded_number<std::int64_t>(*limit_text, 1, kMaxPage) : kDefaultPage;
  const auto days_text = param(*params, "days");  // absent: no days in the listing
  const auto days = days_text ? util::bounded_number<std::int64_t>(*days_text, 1, kMaxHistoryDays)
                              : std::optional<std::int64_t>(0);
  if (prefix.size() > kMaxKeyBytes || cursor.size() > kMaxKeyBytes) {
    return done(error_response(400, "bad_query", "prefix and cursor are keys: at most 128 bytes"));
  }
  if (!limit) return done(error_response(400, "bad_query", "limit must be 1-1000"));
  if (!days) return done(error_response(400, "bad_query", "days must be 1-366"));
  const DayRange range = last_days(today(), static_cast<int>(std::max<std::int64_t>(*days, 1)));
  counter_.with_store([=, this, done = std::move(done)](store::Store& store) mutable {
    auto page = store.list(prefix, cursor, static_cast<std::size_t>(*limit));
    if (!page) return done(unavailable(page.error(), false));
    std::string body = R"({"counters":[)";
    for (const store::CounterInfo& counter : page->counters) {
      if (body.back() == '}') body += ',';
      std::string item = counter_body(counter.key, count_of(counter.totals), counter.totals);
      item.pop_back();
      item += R"(,"last_day":)" +
              (counter.last_day.empty() ? std::string("null") : json_string(counter.last_day));
      if (*days > 0) {
        auto rows = store.history(counter.key, range.first(), range.last());
        if (!rows) return done(unavailable(rows.error(), false));
        item += R"(,"days":)" + days_json(fill_days(*rows, range));
      }
      body += item + "}";
    }
    body += R"(],"next":)" + (page->next.empty() ? std::string("null") : json_string(page->next));
    done(private_answer(json_ok(body + "}")));
  });
}

void App::handle_change(const Request& request, std::string_view encoded_key, Done done) {
  if (auto refused = refuse_admin(request)) return done(std::move(*refused));
  std::optional<std::string> key = parse_key(encoded_key);
  if (!key) return done(error_response(400, "bad_key", kKeyRule));
  if (live_) {
    // Once the change is made, the counter's live streams hear of it.
    done = [live = live_.get(), key = *key, done = std::move(done)](Response response) mutable {
      live->touch(key);
      done(std::move(response));
    };
  }
  if (request.method == "DELETE") {
    return counter_.with_store(
        [key = std::move(*key), done = std::move(done)](store::Store& store) mutable {
          auto removed = store.remove(key);
          if (!removed) return done(unavailable(removed.error(), false));
          if (auto durable = made_durable(store); !durable) {
            return done(unavailable(durable.error(), false));
          }
          if (!*removed) {
            return done(error_response(404, "not_found", "this counter has never counted"));
          }
          done(private_answer(json_ok(R"({"key":)" + json_string(key) + R"(,"deleted":true})")));
        });
  }
  auto totals = parse_new_totals(request.body);
  if (!totals) return done(error_response(400, "bad_body", totals.error()));
  counter_.with_store([this, key = std::move(*key), totals = *totals,
                       done = std::move(done)](store::Store& store) mutable {
    auto set = store.set_totals(key, totals.views, totals.visitors);
    if (!set) return done(unavailable(set.error(), false));
    if (auto durable = made_durable(store); !durable) {
      return done(unavailable(durable.error(), false));
    }
    auto now = store.get(key);
    if (!now) return done(unavailable(now.error(), false));
    const store::Totals after = now->value_or(store::Totals{});
    done(private_answer(json_ok(counter_body(key, count_of(after), after))));
  });
}

void App::handle_period_badge(std::string key, int days, Render render, Done done) {
  const DayRange range = last_days(today(), days);
  counter_.read_with_store([key = std::move(key), range, render = std::move(render),
                            done = std::move(done)](store::Store& store) mutable {
    auto rows = store.history(key, range.first(), range.last());
    if (!rows) return done(unavailable(rows.error(), false));
    done(render(store::HitResult{.seen = store::Seen::repeat, .totals = sum(*rows)}));
  });
}

}  // namespace app
