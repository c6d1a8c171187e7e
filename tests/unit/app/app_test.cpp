// App: the HTTP API (README, "HTTP API") against the memory store and a failure-injecting one.
#include "app/app.hpp"

#include <gtest/gtest.h>

#include <future>

#include "app/badge.hpp"
#include "store/memory/memory_store.hpp"
#include "support/failing_store.hpp"

namespace app {
namespace {

class AppTest : public ::testing::Test {
 protected:
  Response call(std::string method, std::string target, Headers headers = {},
                std::string body = {}) {
    Request request{.method = std::move(method),
                    .target = std::move(target),
                    .headers = std::move(headers),
                    .body = std::move(body)};
    std::promise<Response> answered;
    app_.handle(request, [&answered](Response r) { answered.set_value(std::move(r)); });
    return answered.get_future().get();
  }

  std::optional<std::int64_t> stored(std::string_view key) { return *memory_.get(key); }

  static std::optional<std::string> header(const Response& r, std::string_view name) {
    for (const auto& [key, value] : r.headers) {
      if (key == name) return value;
    }
    return std::nullopt;
  }

  store::MemoryStore memory_;
  testing_support::FailingStore store_{memory_};
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
  EXPECT_EQ(header(r, "Allow"), "GET, POST, OPTIONS");
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
  EXPECT_EQ(r.body, R"({"key":"home","count":1})");
  EXPECT_EQ(stored("home"), 1);
}

TEST_F(AppTest, StoreFailureIs503AndChangesNothing) {
  call("GET", "/count");
  store_.set_failing(true);
  const Response r = call("GET", "/count");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(header(r, "Retry-After"), "1");
  EXPECT_EQ(r.body.find("injected"), std::string::npos);  // no internals leak
  EXPECT_EQ(call("GET", "/healthz").status, 503);
  store_.set_failing(false);
  EXPECT_EQ(call("GET", "/healthz").status, 200);
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
  EXPECT_EQ(call("GET", "/badge/home.svg?cache=bust").status, 200);
  EXPECT_EQ(stored("home"), 2);
  const Response big = call("GET", "/badge/blog%2Fa.svg");
  EXPECT_EQ(stored("blog/a"), 1);
  EXPECT_EQ(big.status, 200);
}

TEST_F(AppTest, BadgeOptionsAndReadMode) {
  EXPECT_EQ(call("GET", "/badge/never.svg?count=false").body,
            render_badge("visitors", "0", "#007ec6"));
  EXPECT_EQ(stored("never"), std::nullopt);
  for (int i = 0; i < 1234; ++i) call("GET", "/count/many");
  const Response r = call("GET", "/badge/many.svg?count=false&label=%3Cb%3E+views&color=green");
  EXPECT_EQ(r.body, render_badge("<b> views", "1,234", "#97ca00"));
  EXPECT_EQ(r.body.find("<b>"), std::string::npos);
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
        "/badge/x.svg?label=", "/badge/x.svg?count=maybe", "/badge/x.svg?label=%zz"}) {
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

}  // namespace
}  // namespace app
