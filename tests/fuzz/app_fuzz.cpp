// Fuzz target: the HTTP request -> response path. Each input is a raw HTTP request (see
// fuzz_request.hpp), handed to app::App over the memory store as the server would hand it
// (header names lower-cased, values trimmed), and the answer is serialized by the
// HTTP/1.1 response writer. Invariants: the status is 100-599; a 4xx/5xx body is a JSON
// error; no header name or value holds a CR or LF; CORS echoes only the request's Origin;
// a request counts exactly when it is a counting request that was answered 200 (or 304),
// by one view (one that carries an Idempotency-Key: by at most one, as a replay counts
// nothing), and a count answer names the stored views (a replay's, at most those); the
// written response is framed exactly (see http_framing.hpp). Every request comes from the
// same peer address, as the counting policy needs one.
#include <openssl/crypto.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "app/app.hpp"
#include "app/badge.hpp"
#include "app/key.hpp"
#include "app/router.hpp"
#include "fuzz_check.hpp"
#include "fuzz_request.hpp"
#include "http/response_writer.hpp"
#include "http_framing.hpp"
#include "store/memory/memory_store.hpp"

namespace {

using fuzz::check;

// One App for the whole run, wired as in tests/unit/app/app_test.cpp. The store keeps its
// counts from input to input; `counted` is what each counter should hold by then, so a
// check needs one read of the store after the request and none before.
struct Harness {
  std::map<std::string, std::int64_t, std::less<>> counted;
  store::MemoryStore store;
  metrics::Registry metrics;
  counting::WriteCombiner counter{store, metrics};
  app::App app{counter, metrics,
               *app::OriginPolicy::create({"https://site.example", "http://localhost:*"}, false,
                                          "http://127.0.0.1:8080")};
};

Harness& harness() {
  // OpenSSL is set up (its configuration loaded) before the harness, so that at exit the
  // harness goes first: its combiner stops, and the worker thread's OpenSSL state (made
  // when the worker fetches the day's salt) is freed as the thread ends. Set up by the
  // worker instead, OpenSSL's exit handler runs while the worker still lives, and
  // LeakSanitizer reports that thread's state at exit.
  [[maybe_unused]] static const int openssl =
      OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, nullptr);
  static Harness instance;
  return instance;
}

// The counter's views, read through the combiner's worker (so after every earlier hit).
std::optional<std::int64_t> stored(const std::string& key) {
  std::promise<std::optional<std::int64_t>> read;
  harness().counter.read(key, [&read](auto totals) {
    check(totals.has_value(), "the memory store answers every read");
    read.set_value(totals && *totals ? std::optional((*totals)->views) : std::nullopt);
  });
  return read.get_future().get();
}

std::string_view trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

app::Request to_app_request(const fuzz::RawRequest& raw) {
  app::Request request;
  request.method = raw.method;
  request.target = raw.target;
  request.body = raw.body;
  request.peer = "192.0.2.1";
  for (const auto& [name, value] : raw.headers) {
    std::string lower(trim(name));
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    request.headers.emplace_back(std::move(lower), std::string(trim(value)));
  }
  return request;
}

bool has_cr_or_lf(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

std::optional<std::string_view> header(const app::Response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

// The counter a request names, when it names one that passes the key rules.
std::optional<std::string> named_key(const app::Route& route) {
  if (route.endpoint != app::Endpoint::count && route.endpoint != app::Endpoint::read_counter &&
      route.endpoint != app::Endpoint::badge) {
    return std::nullopt;
  }
  return app::parse_key(route.encoded_key);
}

// True when the request asks to count (whether or not it is then allowed to).
bool asks_to_count(const app::Request& request, const app::Route& route) {
  if (route.endpoint == app::Endpoint::count) {
    return request.method == "GET" || request.method == "POST";
  }
  if (route.endpoint != app::Endpoint::badge || request.method != "GET") return false;
  const std::size_t question = request.target.find('?');
  const auto options = app::parse_badge_query(
      question == std::string::npos ? std::string_view{}
                                    : std::string_view(request.target).substr(question + 1));
  return options && options->count;
}

void check_json_error(const app::Response& response) {
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(response.body, ec);
  check(!ec, "a 4xx/5xx body is JSON");
  const boost::json::object* object = body.if_object();
  check(object != nullptr && object->if_contains("error") != nullptr &&
            object->at("error").is_string() && object->if_contains("message") != nullptr &&
            object->at("message").is_string(),
        "a 4xx/5xx body is {\"error\":...,\"message\":...}");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const app::Request request =
      to_app_request(fuzz::split_request({reinterpret_cast<const char*>(data), size}));
  const std::string_view target = request.target;
  const app::Route route = app::route(target.substr(0, target.find('?')));
  const std::optional<std::string> key = named_key(route);

  std::atomic<int> calls = 0;
  std::promise<app::Response> answered;
  harness().app.handle(request, [&calls, &answered](app::Response response) {
    if (++calls == 1) answered.set_value(std::move(response));
  });
  const app::Response response = answered.get_future().get();

  check(response.status >= 100 && response.status <= 599, "the status is 100-599");
  if (response.status >= 400) check_json_error(response);
  for (const auto& [name, value] : response.headers) {
    check(!has_cr_or_lf(name) && !has_cr_or_lf(value), "no header holds a CR or LF");
  }
  if (const auto allowed = header(response, "Access-Control-Allow-Origin")) {
    check(request.header("origin") == *allowed, "CORS allows only the request's own Origin");
    check(response.status != 403, "a refused origin gets no CORS header");
  }

  const bool answered_ok = response.status == 200 || response.status == 304;
  const bool counts = answered_ok && asks_to_count(request, route);
  if (route.endpoint == app::Endpoint::count && answered_ok) {
    check(key.has_value(), "only a valid key counts");
  }
  if (key) {
    const std::int64_t after = stored(*key).value_or(0);
    std::int64_t& expected = harness().counted[*key];
    // A hit whose Idempotency-Key was answered before replays that answer, counting nothing.
    const bool may_replay = counts && request.header("idempotency-key").has_value();
    if (may_replay) {
      check(after == expected || after == expected + 1,
            "a counting request with an Idempotency-Key adds at most one");
      expected = after;
    } else {
      expected += counts ? 1 : 0;
      check(after == expected, "a counting request adds exactly one, any other request nothing");
    }
    if (route.endpoint == app::Endpoint::count && response.status == 200) {
      if (!may_replay) {
        check(response.body == "{\"count\":" + std::to_string(after) + "}",
              "the count answer is the stored value");
      } else {
        boost::system::error_code ec;
        const boost::json::value body = boost::json::parse(response.body, ec);
        const boost::json::object* object = ec ? nullptr : body.if_object();
        const boost::json::value* count = object ? object->if_contains("count") : nullptr;
        check(count != nullptr && count->is_int64() && count->as_int64() <= after,
              "a replayed count answer is at most the stored value");
      }
    }
  }
  check(calls == 1, "the app answers exactly once");

  for (const bool keep_alive : {true, false}) {
    std::string bytes;
    http::write_response(response, keep_alive, bytes);
    fuzz::check_framing(response, keep_alive, bytes);
  }
  return 0;
}
