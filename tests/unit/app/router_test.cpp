// Router: paths to endpoints, methods per endpoint.
#include "app/router.hpp"

#include <gtest/gtest.h>

namespace app {
namespace {

TEST(Router, MapsEveryPath) {
  EXPECT_EQ(route("/count").endpoint, Endpoint::count);
  EXPECT_EQ(route("/count").encoded_key, "visitors");
  EXPECT_EQ(route("/count/blog/post").encoded_key, "blog/post");
  EXPECT_EQ(route("/counters/home").endpoint, Endpoint::read_counter);
  EXPECT_EQ(route("/counters/home").encoded_key, "home");
  EXPECT_EQ(route("/healthz").endpoint, Endpoint::healthz);
  EXPECT_EQ(route("/metrics").endpoint, Endpoint::metrics);
  EXPECT_EQ(route("/").endpoint, Endpoint::index_page);
  EXPECT_EQ(route("/counter.js").endpoint, Endpoint::widget);
  EXPECT_EQ(route("/counters").endpoint, Endpoint::counters);
  EXPECT_EQ(route("/history/blog/post").endpoint, Endpoint::history);
  EXPECT_EQ(route("/history/blog/post").encoded_key, "blog/post");
  EXPECT_EQ(route("/dashboard").endpoint, Endpoint::dashboard);
  EXPECT_EQ(route("/dashboard").encoded_key, "/dashboard.html");
  EXPECT_EQ(route("/uPlot.iife.min.js").encoded_key, "/uPlot.iife.min.js");
}

TEST(Router, UnknownPathsAreNotFound) {
  for (const char* path :
       {"", "/counts", "/COUNT", "//count", "/history", "/dashboard/", "/healthz/", "/x"}) {
    EXPECT_EQ(route(path).endpoint, Endpoint::not_found) << path;
  }
}

TEST(Router, EmptyKeyAfterSlashIsKeptForTheKeyCheck) {
  EXPECT_EQ(route("/count/").endpoint, Endpoint::count);
  EXPECT_EQ(route("/count/").encoded_key, "");
}

TEST(Router, MethodsPerEndpoint) {
  EXPECT_TRUE(allows(Endpoint::count, "GET"));
  EXPECT_TRUE(allows(Endpoint::count, "POST"));
  EXPECT_TRUE(allows(Endpoint::count, "OPTIONS"));
  EXPECT_FALSE(allows(Endpoint::count, "DELETE"));
  EXPECT_FALSE(allows(Endpoint::count, "get"));
  EXPECT_FALSE(allows(Endpoint::read_counter, "POST"));
  EXPECT_FALSE(allows(Endpoint::metrics, "POST"));
  EXPECT_FALSE(allows(Endpoint::not_found, "GET"));
  EXPECT_EQ(allowed_methods(Endpoint::read_counter), "GET, HEAD, PUT, DELETE, OPTIONS");
  EXPECT_TRUE(allows(Endpoint::healthz, "HEAD"));
  // Another site's page may only read: the admin methods are never offered by CORS.
  EXPECT_EQ(cors_methods(Endpoint::read_counter), "GET, OPTIONS");
  EXPECT_EQ(cors_methods(Endpoint::counters), "");
}

}  // namespace
}  // namespace app
