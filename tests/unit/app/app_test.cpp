// App: the HTTP API (README, "HTTP API") against the memory store and a failure-injecting
// one, and the counting policy as the app applies it: the unit a counting answer is in,
// the totals a read answers, Do-Not-Track and Global Privacy Control, bots, image proxies
// (a view, never a visitor), and the peer address as what tells visitors apart.
#include "app/app.hpp"

#include <gtest/gtest.h>

#include <future>

#include "app/badge.hpp"
#include "store/memory/memory_store.hpp"
#include "support/failing_store.hpp"

namespace app {
namespace {

using store::Totals;
using testing_support::FailingStore;

constexpr std::string_view kPeer = "192.0.2.10";
constexpr std::string_view kBrowser = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0";

class AppTest : public ::testing::Test {
 protected:
  static Request request(std::string method, std::string target, Headers headers = {},
                         std::string body = {}, std::string_view peer = kPeer) {
    Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers = std::move(headers);
    r.body = std::move(body);
    r.peer = std::string(peer);
    return r;
  }

  static Response send(App& app, const Request& r) {
    std::promise<Response> answered;
    app.handle(r, [&answered](Response response) { answered.set_value(std::move(response)); });
    return answered.get_future().get();
  }

  Response call(std::string method, std::string target, Headers headers = {},
                std::string body = {}) {
    return send(app_,
                request(std::move(method), std::move(target), std::move(headers), std::move(body)));
  }

  // An App on the same counter and metrics, with its own counting options.
  App app_with(CountingOptions counting) {
    return App(counter_, metrics_, *OriginPolicy::create({"https://site.example"}, false),
               std::move(counting));
  }

  // The counter's views, as stored.
  std::optional<std::int64_t> stored(std::string_view key) {
    const auto totals = *memory_.get(key);
    if (!totals) return std::nullopt;
    return totals->views;
  }
  std::optional<Totals> totals(std::string_view key) { return *memory_.get(key); }

  std::string metrics_text() { return call("GET", "/metrics").body; }

  static std::optional<std::string> header(const Response& r, std::string_view name) {
    for (const auto& [key, value] : r.headers) {
      if (key == name) return value;
    }
    return std::nullopt;
  }

  store::MemoryStore memory_;
  FailingStore store_{memory_};
  metrics::Registry metrics_;
  counting::WriteCombiner counter_{store_, metrics_};
  App app_{counter_, metrics_, *OriginPolicy::create({"https://site.example"}, false)};
};

TEST_F(AppTest, CountsTheDefaultCounter) {
  EXPECT_EQ(call("GET", "/count").body, R"({"count":1})");
  const Response second = call("POST", "/count?cache=bust");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, R"({"count":2})");
  EXPECT_EQ(header(second, "Content-Type"), "application/json");
  EXPECT_EQ(header(second, "Cache-Control"), "no-store");
  EXPECT_EQ(stored("visitors"), 2);
}

TEST_F(AppTest, CountsNamedCountersSeparately) {
  call("GET", "/count/blog/a");
  EXPECT_EQ(call("GET", "/count/blog%2Fa").body, R"({"count":2})");
  EXPECT_EQ(stored("blog/a"), 2);
  EXPECT_EQ(stored("visitors"), std::nullopt);
}

TEST_F(AppTest, AllowedOriginGetsCorsHeaders) {
  const Response r = call("GET", "/count", {{"origin", "https://site.example"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "Access-Control-Allow-Origin"), "https://site.example");
  EXPECT_EQ(header(r, "Vary"), "Origin");
}

TEST_F(AppTest, RefusedOriginIsNotCounted) {
  const Response r = call("GET", "/count", {{"origin", "https://evil.example"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("\"error\":\"origin_not_allowed\""), std::string::npos);
  EXPECT_EQ(header(r, "Access-Control-Allow-Origin"), std::nullopt);
  EXPECT_EQ(stored("visitors"), std::nullopt);
  EXPECT_EQ(call("GET", "/counters/visitors", {{"origin", "https://evil.example"}}).status, 403);
}

TEST_F(AppTest, Preflight) {
  const Response r =
      call("OPTIONS", "/count/home",
           {{"origin", "https://site.example"}, {"access-control-request-method", "POST"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(header(r, "Access-Control-Allow-Origin"), "https://site.example");
  EXPECT_EQ(header(r, "Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
  EXPECT_EQ(header(r, "Access-Control-Max-Age"), "86400");
  EXPECT_EQ(stored("home"), std::nullopt);
  EXPECT_EQ(call("OPTIONS", "/count", {{"origin", "https://evil.example"}}).status, 403);
}

TEST_F(AppTest, BadKeysAre400AndCountNothing) {
  for (const char* target : {"/count/", "/count/%2e%2e", "/count/a%00b", "/count/a b", "/count/%zz",
                             "/count/a//b", "/counters/..", "/count/a%2F..%2Fb"}) {
    const Response r = call("GET", target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_NE(r.body.find("\"error\":\"bad_key\""), std::string::npos) << target;
  }
  EXPECT_EQ(call("GET", "/count/" + std::string(129, 'k')).status, 400);
  EXPECT_EQ(store_.add_calls(), 0);
}

TEST_F(AppTest, UnknownRoutesAndMethods) {
  EXPECT_EQ(call("GET", "/nope").status, 404);
  const Response r = call("DELETE", "/count");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(header(r, "Allow"), "GET, HEAD, POST, OPTIONS");
  EXPECT_EQ(call("POST", "/counters/x").status, 405);
  EXPECT_EQ(store_.add_calls(), 0);
}

TEST_F(AppTest, OversizedBodyIs413) {
  EXPECT_EQ(call("POST", "/count", {}, std::string(kMaxBodyBytes + 1, 'x')).status, 413);
  EXPECT_EQ(store_.add_calls(), 0);
}

TEST_F(AppTest, ReadsWithoutCounting) {
  EXPECT_EQ(call("GET", "/counters/home").status, 404);
  call("GET", "/count/home");
  const Response r = call("GET", "/counters/home");
  EXPECT_EQ(r.body, R"({"key":"home","count":1,"views":1,"visitors":1})");
  call("GET", "/count/home");
  EXPECT_EQ(call("GET", "/counters/home").body,
            R"({"key":"home","count":2,"views":2,"visitors":1})");
  EXPECT_EQ(totals("home"), (Totals{.views = 2, .visitors = 1}));
}

TEST_F(AppTest, StoreFailureIs503AndChangesNothing) {
  call("GET", "/count");
  store_.set_failing(true);
  const Response r = call("GET", "/count");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(header(r, "Retry-After"), "1");
  EXPECT_EQ(r.body.find("injected"), std::string::npos);  // no internals leak
  EXPECT_NE(r.body.find("\"outcome\":\"not_counted\""), std::string::npos) << r.body;
  EXPECT_EQ(call("GET", "/healthz").status, 503);
  store_.set_failing(false);
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  EXPECT_EQ(stored("visitors"), 1);
}

TEST_F(AppTest, HealthSaysTheLastWriteFailedUntilOneSucceeds) {
  EXPECT_EQ(call("GET", "/count").status, 200);
  store_.set_failing(FailingStore::Call::add, true);  // a full disk: reads still work
  EXPECT_EQ(call("GET", "/count").status, 503);
  const Response health = call("GET", "/healthz");
  EXPECT_EQ(health.status, 503);
  EXPECT_NE(health.body.find("\"error\":\"store_cannot_write\""), std::string::npos) << health.body;
  EXPECT_NE(metrics_text().find("vc_store_write_failing 1\n"), std::string::npos);
  store_.set_failing(FailingStore::Call::add, false);
  EXPECT_EQ(call("GET", "/healthz").status, 503);  // nothing has shown the disk has room
  EXPECT_EQ(call("GET", "/count").status, 200);
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  EXPECT_NE(metrics_text().find("vc_store_write_failing 0\n"), std::string::npos);
}

TEST_F(AppTest, AHaltedStoreRefusesHitsAndHealthSaysWhy) {
  EXPECT_EQ(call("GET", "/count").status, 200);
  store_.set_error_kind(store::StoreError::Kind::halted);
  store_.set_failing(FailingStore::Call::add, true);
  store_.set_failing(FailingStore::Call::ping, true);
  const Response hit = call("GET", "/count");
  EXPECT_EQ(hit.status, 503);
  EXPECT_NE(hit.body.find("\"error\":\"store_halted\""), std::string::npos) << hit.body;
  EXPECT_NE(hit.body.find("\"outcome\":\"not_counted\""), std::string::npos) << hit.body;
  EXPECT_EQ(hit.body.find("injected"), std::string::npos);  // no internals leak
  const Response health = call("GET", "/healthz");
  EXPECT_EQ(health.status, 503);
  EXPECT_NE(health.body.find("\"error\":\"store_halted\""), std::string::npos) << health.body;
  EXPECT_NE(metrics_text().find("vc_store_halted 1\n"), std::string::npos);
  EXPECT_EQ(stored("visitors"), 1);
}

TEST_F(AppTest, MetricsInPrometheusFormat) {
  call("GET", "/count");
  call("GET", "/nope");
  const Response r = call("GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("vc_http_requests_total{route=\"count\",status=\"200\"} 1"),
            std::string::npos);
  EXPECT_NE(r.body.find("vc_http_requests_total{route=\"not_found\",status=\"404\"} 1"),
            std::string::npos);
  EXPECT_NE(r.body.find("vc_hits_total 1"), std::string::npos);
  EXPECT_NE(r.body.find("vc_write_batch_hits_count 1"), std::string::npos);
  EXPECT_NE(r.body.find("vc_store_commit_seconds_bucket{le=\"+Inf\"} 1"), std::string::npos);
}

TEST_F(AppTest, ServesThePageAndWidget) {
  const Response page = call("GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("data-visitor-count"), std::string::npos);
  EXPECT_EQ(header(call("GET", "/counter.js"), "Content-Type"), "text/javascript; charset=utf-8");
}

TEST_F(AppTest, BadgeCountsAndAnswersSvg) {
  const Response r = call("GET", "/badge/home.svg");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(stored("home"), 1);
  EXPECT_TRUE(r.body.starts_with("<svg "));
  EXPECT_NE(r.body.find("<title>visitors: 1</title>"), std::string::npos);
  EXPECT_EQ(header(r, "Content-Type"), "image/svg+xml; charset=utf-8");
  EXPECT_EQ(header(r, "Cache-Control"), "no-cache, no-store, must-revalidate, max-age=0");
  EXPECT_EQ(header(r, "ETag"), entity_tag(r.body));
  EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(call("GET", "/badge/home.svg?count=true").status, 200);
  EXPECT_EQ(stored("home"), 2);
  const Response big = call("GET", "/badge/blog%2Fa.svg");
  EXPECT_EQ(stored("blog/a"), 1);
  EXPECT_EQ(big.status, 200);
}

TEST_F(AppTest, BadgeOptionsAndReadMode) {
  EXPECT_EQ(call("GET", "/badge/never.svg?count=false").body, render_badge(BadgeOptions{}, "0"));
  EXPECT_EQ(stored("never"), std::nullopt);
  for (int i = 0; i < 1234; ++i) call("GET", "/count/many");
  const Response r = call("GET", "/badge/many.svg?count=false&label=%3Cb%3E+views&color=green");
  BadgeOptions options;
  options.label = "<b> views";
  options.color = "#97ca00";
  EXPECT_EQ(r.body, render_badge(options, "1,234"));
  EXPECT_EQ(r.body.find("<b>"), std::string::npos);
  const Response styled =
      call("GET", "/badge/many.svg?count=false&style=for-the-badge&format=short&labelColor=red");
  options = BadgeOptions{};
  options.style = BadgeStyle::for_the_badge;
  options.label_color = "#e05d44";
  EXPECT_EQ(styled.body, render_badge(options, "1.2k"));
  for (const char* bad : {"/badge/many.svg?style=round", "/badge/many.svg?format=long",
                          "/badge/many.svg?labelColor=nope", "/badge/many.svg?labelcolor=red"}) {
    const Response refused = call("GET", bad);
    EXPECT_EQ(refused.status, 400) << bad;
    EXPECT_NE(refused.body.find(R"("error":"bad_option")"), std::string::npos) << bad;
  }
  EXPECT_EQ(stored("many"), 1234);
}

TEST_F(AppTest, BadgeUnchangedIs304) {
  call("GET", "/count/same");
  const Response first = call("GET", "/badge/same.svg?count=false");
  const std::string tag = *header(first, "ETag");
  const Response again = call("GET", "/badge/same.svg?count=false", {{"if-none-match", tag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(header(again, "ETag"), tag);
  EXPECT_EQ(call("GET", "/badge/same.svg", {{"if-none-match", tag}}).status, 200);  // counted
}

TEST_F(AppTest, BadBadgeRequestsAre400JsonAndCountNothing) {
  for (const char* target :
       {"/badge/.svg", "/badge/%2e%2e.svg", "/badge/a%20b.svg", "/badge/x.svg?color=nope",
        "/badge/x.svg?label=", "/badge/x.svg?count=maybe", "/badge/x.svg?label=%zz",
        "/badge/x.svg?colour=green", "/badge/x.svg?foo=bar", "/badge/x.svg?period=7d&x=1"}) {
    const Response r = call("GET", target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(header(r, "Content-Type"), "application/json") << target;
    EXPECT_NE(r.body.find("\"error\":\"bad_"), std::string::npos) << target;
  }
  EXPECT_NE(call("GET", "/badge/x.svg?color=nope").body.find("\"error\":\"bad_option\""),
            std::string::npos);
  EXPECT_EQ(call("POST", "/badge/x.svg").status, 405);
  EXPECT_EQ(store_.add_calls(), 0);
}

TEST_F(AppTest, BadgeFollowsTheOriginPolicy) {
  EXPECT_EQ(call("GET", "/badge/x.svg", {{"origin", "https://evil.example"}}).status, 403);
  EXPECT_EQ(stored("x"), std::nullopt);
  const Response r = call("GET", "/badge/x.svg", {{"origin", "https://site.example"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "Access-Control-Allow-Origin"), "https://site.example");
  EXPECT_EQ(stored("x"), 1);
  const Response pre = call("OPTIONS", "/badge/x.svg", {{"origin", "https://site.example"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(header(pre, "Access-Control-Allow-Methods"), "GET, OPTIONS");
  EXPECT_EQ(stored("x"), 1);
}

TEST_F(AppTest, BadgeStoreFailureIs503) {
  store_.set_failing(true);
  EXPECT_EQ(call("GET", "/badge/x.svg").status, 503);
  EXPECT_EQ(call("GET", "/badge/x.svg?count=false").status, 503);
}

TEST_F(AppTest, DemoPageHasAStrictPolicyAndItsStylesheet) {
  const Response page = call("GET", "/");
  const auto policy = header(page, "Content-Security-Policy");
  ASSERT_TRUE(policy);
  EXPECT_NE(policy->find("script-src 'self'"), std::string::npos);
  EXPECT_NE(policy->find("style-src 'self'"), std::string::npos);
  EXPECT_EQ(policy->find("unsafe"), std::string::npos);
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);  // no inline script
  EXPECT_EQ(page.body.find("<style"), std::string::npos);
  EXPECT_EQ(page.body.find("style=\""), std::string::npos);
  const Response css = call("GET", "/demo.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(header(css, "Content-Type"), "text/css; charset=utf-8");
}

TEST_F(AppTest, ASaltFailureIs503NotCounted) {
  store_.set_failing(FailingStore::Call::salt, true);
  const Response r = call("GET", "/count/home");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("\"outcome\":\"not_counted\""), std::string::npos) << r.body;
  EXPECT_EQ(store_.add_calls(), 0);
  store_.set_failing(FailingStore::Call::salt, false);
  EXPECT_EQ(call("GET", "/count/home").body, R"({"count":1})");
}

TEST_F(AppTest, ThePeerAndUserAgentTellVisitorsApart) {
  const Headers browser = {{"user-agent", std::string(kBrowser)}};
  const Headers other_browser = {{"user-agent", "curl/8.5.0"}};
  EXPECT_EQ(send(app_, request("GET", "/count/p", browser, {}, "192.0.2.1")).status, 200);
  EXPECT_EQ(send(app_, request("GET", "/count/p", browser, {}, "192.0.2.2")).status, 200);
  EXPECT_EQ(totals("p"), (Totals{.views = 2, .visitors = 2}));  // two peers: two visitors
  send(app_, request("GET", "/count/p", browser, {}, "192.0.2.1"));
  EXPECT_EQ(totals("p"), (Totals{.views = 3, .visitors = 2}));  // the same peer and agent
  send(app_, request("GET", "/count/p", other_browser, {}, "192.0.2.1"));
  EXPECT_EQ(totals("p"), (Totals{.views = 4, .visitors = 3}));  // another agent there
  send(app_, request("GET", "/count/p", browser, {}, "2001:db8::1"));
  EXPECT_EQ(totals("p"), (Totals{.views = 5, .visitors = 4}));
}

TEST_F(AppTest, TheVisitorsUnitAnswersTheVisitorsTotal) {
  CountingOptions counting;
  counting.rules.unit = counting::policy::CountUnit::visitors;
  App app = app_with(std::move(counting));
  EXPECT_EQ(send(app, request("POST", "/count/u", {}, {}, "198.51.100.1")).body, R"({"count":1})");
  EXPECT_EQ(send(app, request("POST", "/count/u", {}, {}, "198.51.100.1")).body, R"({"count":1})");
  EXPECT_EQ(send(app, request("POST", "/count/u", {}, {}, "198.51.100.2")).body, R"({"count":2})");
  EXPECT_EQ(send(app, request("GET", "/counters/u")).body,
            R"({"key":"u","count":2,"views":3,"visitors":2})");
  // The views unit (the default) answers views from the same counter.
  EXPECT_EQ(call("GET", "/counters/u").body, R"({"key":"u","count":3,"views":3,"visitors":2})");
  // A badge always shows views.
  const Response badge = send(app, request("GET", "/badge/u.svg", {}, {}, "198.51.100.1"));
  EXPECT_NE(badge.body.find("<title>visitors: 4</title>"), std::string::npos) << badge.body;
}

TEST_F(AppTest, DoNotTrackAndGpcCountNothingWhenRespected) {
  CountingOptions counting;
  counting.rules.respect_dnt = true;
  App app = app_with(std::move(counting));
  EXPECT_EQ(send(app, request("GET", "/count/d", {{"dnt", "1"}})).body, R"({"count":0})");
  EXPECT_EQ(totals("d"), std::nullopt);
  EXPECT_EQ(send(app, request("GET", "/count/d")).body, R"({"count":1})");
  for (const Headers& opt_out : {Headers{{"dnt", "1"}}, Headers{{"sec-gpc", "1"}},
                                 Headers{{"dnt", "0"}, {"sec-gpc", "1"}}}) {
    const Response r = send(app, request("GET", "/count/d", opt_out, {}, "203.0.113.9"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"count":1})");  // the current value
  }
  const Response badge = send(app, request("GET", "/badge/d.svg", {{"dnt", "1"}}));
  EXPECT_EQ(badge.status, 200);
  EXPECT_NE(badge.body.find("<title>visitors: 1</title>"), std::string::npos);
  EXPECT_EQ(totals("d"), (Totals{.views = 1, .visitors = 1}));
  EXPECT_EQ(store_.add_calls(), 1);
  EXPECT_NE(metrics_text().find("vc_hits_ignored_total{reason=\"dnt\"} 5\n"), std::string::npos);
  // DNT: 0 and Sec-GPC: 0 do not opt out.
  EXPECT_EQ(
      send(app, request("GET", "/count/d", {{"dnt", "0"}, {"sec-gpc", "0"}}, {}, "203.0.113.9"))
          .body,
      R"({"count":2})");
}

TEST_F(AppTest, DoNotTrackCountsWhenNotRespected) {
  EXPECT_EQ(call("GET", "/count/d", {{"dnt", "1"}}).body, R"({"count":1})");
  EXPECT_EQ(call("GET", "/count/d", {{"sec-gpc", "1"}}).body, R"({"count":2})");
  EXPECT_EQ(stored("d"), 2);
  EXPECT_NE(metrics_text().find("vc_hits_ignored_total{reason=\"dnt\"} 0\n"), std::string::npos);
}

// A stand-in for the bot list: a missing agent, or one that says "bot".
bool fake_is_bot(std::optional<std::string_view> user_agent) {
  return !user_agent || user_agent->find("bot") != std::string_view::npos;
}

TEST_F(AppTest, BotsCountNothingWhenIgnored) {
  CountingOptions counting;
  counting.rules.ignore_bots = true;
  counting.is_bot = fake_is_bot;
  App app = app_with(std::move(counting));
  const Headers browser = {{"user-agent", std::string(kBrowser)}};
  EXPECT_EQ(send(app, request("GET", "/count/b", browser)).body, R"({"count":1})");
  const Response bot = send(
      app, request("GET", "/count/b", {{"user-agent", "Mozilla/5.0 (compatible; Googlebot/2.1)"}}));
  EXPECT_EQ(bot.status, 200);
  EXPECT_EQ(bot.body, R"({"count":1})");  // the current value, not counted
  EXPECT_EQ(send(app, request("GET", "/count/b")).body, R"({"count":1})");  // no agent
  EXPECT_EQ(send(app, request("GET", "/badge/b.svg", {{"user-agent", "somebot"}})).status, 200);
  EXPECT_EQ(totals("b"), (Totals{.views = 1, .visitors = 1}));
  EXPECT_NE(metrics_text().find("vc_hits_ignored_total{reason=\"bot\"} 3\n"), std::string::npos);
  EXPECT_EQ(send(app, request("GET", "/count/b", browser, {}, "192.0.2.99")).body,
            R"({"count":2})");
}

TEST_F(AppTest, BotsCountWhenNotIgnored) {
  CountingOptions counting;
  counting.is_bot = fake_is_bot;  // known, but rules.ignore_bots is off
  App app = app_with(std::move(counting));
  EXPECT_EQ(send(app, request("GET", "/count/b", {{"user-agent", "Googlebot"}})).body,
            R"({"count":1})");
  EXPECT_EQ(send(app, request("GET", "/count/b")).body, R"({"count":2})");
  EXPECT_NE(metrics_text().find("vc_hits_ignored_total{reason=\"bot\"} 0\n"), std::string::npos);
}

TEST_F(AppTest, AnImageProxyBadgeCountsAViewAndNoVisitorEvenAsABot) {
  CountingOptions counting;
  counting.rules.ignore_bots = true;
  counting.is_bot = [](std::optional<std::string_view>) { return true; };
  App app = app_with(std::move(counting));
  const Headers camo = {{"user-agent", "github-camo (876de43e)"}};
  const Response first = send(app, request("GET", "/badge/readme.svg", camo, {}, "140.82.115.1"));
  EXPECT_EQ(first.status, 200);
  EXPECT_NE(first.body.find("<title>visitors: 1</title>"), std::string::npos);
  send(app, request("GET", "/badge/readme.svg", camo, {}, "140.82.115.1"));
  send(app, request("GET", "/badge/readme.svg", camo, {}, "140.82.115.2"));
  EXPECT_EQ(totals("readme"), (Totals{.views = 3, .visitors = 0}));
  EXPECT_EQ(memory_.marks(), 0U);
  EXPECT_NE(metrics_text().find("vc_hits_ignored_total{reason=\"bot\"} 0\n"), std::string::npos);
}

TEST_F(AppTest, ImageProxiesShareOneRateLimitBucketPerCounter) {
  CountingOptions counting;
  counting.rate_limiter = std::make_shared<counting::policy::RateLimiter>(
      counting::policy::RateLimitSpec{.per_second = 0.001, .burst = 2});
  App app = app_with(std::move(counting));
  const Headers camo = {{"user-agent", "github-camo (876de43e)"}};
  for (const char* address : {"140.82.115.1", "140.82.115.2"}) {  // two proxy addresses
    EXPECT_EQ(send(app, request("GET", "/badge/readme.svg", camo, {}, address)).status, 200);
  }
  const Response third = send(app, request("GET", "/badge/readme.svg", camo, {}, "192.0.2.7"));
  EXPECT_EQ(third.status, 429);  // anyone can send the User-Agent: it is limited too
  EXPECT_EQ(send(app, request("GET", "/badge/other.svg", camo, {}, "192.0.2.7")).status, 200);
  EXPECT_EQ(totals("readme"), (Totals{.views = 2, .visitors = 0}));
}

TEST_F(AppTest, OnlyTheListedKeysCountOrAreCreated) {
  CountingOptions counting;
  const std::vector<std::string> patterns = {"visitors", "blog/*"};
  counting.rules.keys = *counting::policy::KeyPatterns::parse(patterns);
  App app = app_with(std::move(counting));
  EXPECT_EQ(send(app, request("GET", "/count")).status, 200);
  EXPECT_EQ(send(app, request("GET", "/count/blog/first-post")).status, 200);
  EXPECT_EQ(send(app, request("GET", "/badge/blog/x.svg")).status, 200);
  for (const char* target : {"/count/spam-1", "/count/blog", "/badge/spam-2.svg"}) {
    const Response refused = send(app, request("GET", target));
    EXPECT_EQ(refused.status, 404) << target;
    EXPECT_NE(refused.body.find("\"error\":\"unknown_counter\""), std::string::npos);
  }
  EXPECT_EQ(totals("spam-1"), std::nullopt);
  EXPECT_EQ(totals("spam-2"), std::nullopt);
  EXPECT_EQ(totals("blog"), std::nullopt);
  EXPECT_EQ(stored("blog/x"), 1);
}

TEST_F(AppTest, WhenOnlyTheOwnerCreatesCountersANewKeyIs404UntilPut) {
  store::MemoryStore memory;
  metrics::Registry metrics;
  counting::CombinerOptions options;
  options.create_counters = false;
  counting::WriteCombiner counter(memory, metrics, std::move(options));
  CountingOptions counting;
  counting.rules.owner_creates_counters = true;
  App app(counter, metrics, *OriginPolicy::create({}, false), std::move(counting),
          OwnerOptions{.admin = *AdminToken::create("0123456789abcdef"),
                       .private_stats = false,
                       .metrics_listener = false,
                       .demo_page = true,
                       .clock = {}});
  const Response refused = send(app, request("POST", "/count/new"));
  EXPECT_EQ(refused.status, 404);
  EXPECT_NE(refused.body.find("\"error\":\"unknown_counter\""), std::string::npos) << refused.body;
  EXPECT_EQ(memory.get("new").value(), std::nullopt);
  const Response put =
      send(app, request("PUT", "/counters/new", {{"authorization", "Bearer 0123456789abcdef"}},
                        R"({"views":0,"visitors":0})"));
  EXPECT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(send(app, request("POST", "/count/new")).body, R"({"count":1})");
}

}  // namespace
}  // namespace app
