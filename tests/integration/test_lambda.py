"""visitor-counter as a Lambda bootstrap (docs/architecture.md, "The Lambda runtime loop")
against a fake Runtime API: payload 2.0 events in, payload 2.0 responses out, invocation
errors, init errors, and the log."""
import base64
import json
import os
import subprocess
import tempfile
import unittest

from dynalite import DUMMY_CREDENTIALS
from fake_dynamodb import FakeDynamoDb
from fake_runtime_api import FakeRuntimeApi, http_event
from server import BINARY, EMULATOR

ORIGIN = "https://site.example"
# Variables of the machine running the tests that would change what the binary does.
FOREIGN = ("AWS_LAMBDA_RUNTIME_API", "TABLE_NAME", "VC_STORE", "VC_ALLOW_ORIGINS",
           "VC_REQUIRE_ORIGIN")


def start_function(api, args=("lambda",), env=None):
    """Starts the binary as Lambda would start the bootstrap, with a SQLite store."""
    workdir = tempfile.mkdtemp(prefix="vc-lambda-")
    full_env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    full_env.update({"AWS_LAMBDA_RUNTIME_API": api.address,
                     "VC_STORE": "sqlite:" + os.path.join(workdir, "c.db"),
                     "VC_ALLOW_ORIGINS": ORIGIN, **(env or {})})
    return subprocess.Popen([*EMULATOR, BINARY, *args], cwd=workdir, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc, timeout=10):
    """Waits for the process to end (killing it after `timeout`); returns (code, out, err)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


class Answer:
    """The payload 2.0 response a /response post carried."""

    def __init__(self, post):
        self.post = post
        self.payload = post.json()
        self.status = self.payload["statusCode"]
        self.headers = {k.lower(): v for k, v in self.payload["headers"].items()}
        raw = self.payload["body"]
        self.body = base64.b64decode(raw).decode() if self.payload["isBase64Encoded"] else raw

    def json(self):
        return json.loads(self.body)


class FunctionUnderTest:
    """unittest mixin: the bootstrap on a fake Runtime API for each test, started with the
    class's `env`."""
    env = {}

    def setUp(self):
        self.api = FakeRuntimeApi().start()
        self.proc = start_function(self.api, env=self.env)

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.kill()
        finish(self.proc)
        self.api.close()

    def call(self, method, path, **kwargs):
        post = self.api.invoke(http_event(method, path, **kwargs))
        self.assertEqual(post.kind, "response", post)
        self.assertEqual(post.headers.get("content-type"), "application/json")
        return Answer(post)

    def count(self, key="visitors"):
        answer = self.call("GET", "/counters/" + key)
        return 0 if answer.status == 404 else answer.json()["count"]


class LambdaTest(FunctionUnderTest, unittest.TestCase):
    def test_counts(self):
        first = self.call("GET", "/count")
        self.assertEqual((first.status, first.body), (200, '{"count":1}'))
        self.assertEqual(first.headers["content-type"], "application/json")
        self.assertEqual(first.headers["cache-control"], "no-store")
        self.assertFalse(first.payload["isBase64Encoded"])
        self.assertEqual(self.call("GET", "/count").json(), {"count": 2})
        named = self.call("POST", "/count/home", query="ref=tw&ref=hn",
                          headers={"content-type": "application/json"},
                          body='{"delta":1}', base64_body=True)
        self.assertEqual(named.json(), {"count": 1})
        self.assertEqual(self.count(), 2)

    def test_live_streams_are_not_served_but_say_what_to_do(self):
        answer = self.call("GET", "/stream/home")
        self.assertEqual((answer.status, answer.json()["error"]), (404, "not_found"))
        self.assertIn("poll GET /counters/{key}", answer.json()["message"])

    def test_reads_without_counting(self):
        self.assertEqual(self.call("GET", "/counters/visitors").status, 404)
        self.call("GET", "/count")
        for _ in range(2):
            answer = self.call("GET", "/counters/visitors")
            self.assertEqual((answer.status, answer.json()), (200, {"key": "visitors", "count": 1,
                                                              "views": 1, "visitors": 1}))

    def test_head_answers_like_get_without_a_body_or_a_count(self):
        self.call("GET", "/count")
        # Each HEAD, and a GET of the same kind that does not count either.
        for head_path, get_path in [("/count", "/counters/visitors"),
                                    ("/count/visitors", "/counters/visitors"),
                                    ("/counters/visitors", "/counters/visitors"),
                                    ("/healthz", "/healthz"), ("/counter.js", "/counter.js"),
                                    ("/badge/visitors.svg", "/badge/visitors.svg?period=7d")]:
            head, get = self.call("HEAD", head_path), self.call("GET", get_path)
            self.assertEqual((head.status, get.status), (200, 200), head_path)
            self.assertEqual(head.body, "", head_path)
            self.assertNotEqual(get.body, "", get_path)
            self.assertEqual(head.headers["content-type"], get.headers["content-type"], head_path)
        self.assertEqual(self.count(), 1)  # HEAD never counts

    def test_bad_key(self):
        answer = self.call("GET", "/count/bad%20key")
        self.assertEqual(answer.status, 400)
        self.assertEqual(answer.headers["content-type"], "application/json")
        self.assertEqual(answer.json()["error"], "bad_key")
        self.assertEqual(self.call("GET", "/count/a/../b").status, 400)
        self.assertEqual(self.count(), 0)

    def test_allowed_origin(self):
        answer = self.call("GET", "/count", headers={"origin": ORIGIN})
        self.assertEqual(answer.status, 200)
        self.assertEqual(answer.headers["access-control-allow-origin"], ORIGIN)
        self.assertEqual(answer.headers["vary"], "Origin")

    def test_refused_origin_does_not_count(self):
        self.call("GET", "/count")
        answer = self.call("GET", "/count", headers={"origin": "https://evil.example"})
        self.assertEqual(answer.status, 403)
        self.assertEqual(answer.json()["error"], "origin_not_allowed")
        self.assertNotIn("access-control-allow-origin", answer.headers)
        self.assertEqual(self.count(), 1)

    def test_an_origin_naming_the_api_host_is_not_exempt(self):
        # The event's Host is the API's own domain; without VC_PUBLIC_URL nothing is exempt.
        own = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
        self.assertEqual(self.call("GET", "/count", headers={"origin": own}).status, 403)
        self.assertEqual(self.count(), 0)

    def test_the_public_url_is_exempt(self):
        self.proc.kill()
        finish(self.proc)
        self.proc = start_function(self.api, env={"VC_PUBLIC_URL": "https://counter.example"})
        answer = self.call("GET", "/count", headers={"origin": "https://counter.example"})
        self.assertEqual(answer.status, 200)
        self.assertEqual(answer.headers["access-control-allow-origin"], "https://counter.example")
        self.assertEqual(self.call("GET", "/count", headers={"origin": "https://other.example"})
                         .status, 403)

    def test_preflight(self):
        answer = self.call("OPTIONS", "/count/home", headers={
            "origin": ORIGIN, "access-control-request-method": "POST",
            "access-control-request-headers": "content-type"})
        self.assertEqual(answer.status, 204)
        self.assertEqual(answer.body, "")
        self.assertEqual(answer.headers["access-control-allow-origin"], ORIGIN)
        self.assertEqual(answer.headers["access-control-allow-methods"], "GET, POST, OPTIONS")
        self.assertIn("access-control-max-age", answer.headers)
        self.assertEqual(self.count("home"), 0)

    def test_unknown_route(self):
        answer = self.call("GET", "/no/such/thing")
        self.assertEqual(answer.status, 404)
        self.assertEqual(answer.json()["error"], "not_found")

    def test_bad_events_are_invocation_errors_and_the_loop_goes_on(self):
        for event in [b"{not json", {"version": "2.0", "rawPath": "/count"},
                      {"version": "1.0", "httpMethod": "GET", "path": "/count"}]:
            post = self.api.invoke(event)
            self.assertEqual(post.kind, "error", post)
            self.assertEqual(post.error_type, "Runtime.InvalidEvent")
            self.assertEqual(post.headers.get("content-type"), "application/json")
            body = post.json()
            self.assertEqual(body["errorType"], "Runtime.InvalidEvent")
            self.assertTrue(body["errorMessage"])
        self.assertEqual(self.call("GET", "/count").json(), {"count": 1})

    def test_one_log_line_per_invocation_without_headers_and_exit_when_api_goes_away(self):
        secret = "Bearer s3cr3t-t0ken"
        ids = [self.api.enqueue(http_event("GET", "/count/home", query="utm=private-q",
                                           headers={"origin": ORIGIN, "authorization": secret})),
               self.api.enqueue(http_event("GET", "/nope", headers={"cookie": "sid=zzz"})),
               self.api.enqueue(b"[]")]
        for request_id in ids:
            self.api.wait_for(request_id)
        self.api.close()  # /next now fails: the runtime retries briefly, then exits
        code, out, err = finish(self.proc)
        self.assertNotEqual(code, 0)
        lines = [json.loads(line) for line in out.splitlines()]
        invocations = [line for line in lines if "requestId" in line]
        self.assertEqual([line["requestId"] for line in invocations], ids)
        first, second, third = invocations
        self.assertEqual((first["route"], first["status"]), ("/count/home", 200))
        self.assertEqual((second["route"], second["status"]), ("/nope", 404))
        self.assertEqual((third["route"], third["status"]), (None, None))
        self.assertEqual(third["errorType"], "Runtime.InvalidEvent")
        for line in invocations:
            self.assertIsInstance(line["durationMs"], (int, float))
            self.assertGreaterEqual(line["durationMs"], 0)
        for private in [secret, "s3cr3t", "203.0.113.7", "Mozilla", ORIGIN, "private-q", "sid=zzz",
                        "execute-api"]:
            self.assertNotIn(private, out + err)

    def test_starts_without_a_command_as_lambda_bootstrap(self):
        # The old process dies while waiting in /next; its event must reach the new one.
        self.api.wait_until(lambda: self.api.next_calls >= 1, what="the first /next")
        self.proc.kill()
        finish(self.proc)
        self.proc = start_function(self.api, args=())
        self.assertEqual(self.call("GET", "/count").json(), {"count": 1})


    def test_a_ready_answer_is_sent_even_past_the_deadline(self):
        post = self.api.invoke(http_event("GET", "/nope"), deadline_ms=-1000)
        self.assertEqual(Answer(post).status, 404)


class LambdaSlowStoreTest(unittest.TestCase):
    """A store slower than the invocation's time left: the function answers 503 before the
    deadline, and a counting request's answer says the hit may still count."""

    def test_a_late_hit_is_answered_as_outcome_unknown(self):
        with FakeDynamoDb(latency=1.5) as fake, FakeRuntimeApi() as api:
            proc = start_function(api, env={**DUMMY_CREDENTIALS, "VC_STORE": fake.store_url()})
            try:
                answer = Answer(api.invoke(http_event("POST", "/count/late"), deadline_ms=600))
                self.assertEqual(answer.status, 503)
                self.assertEqual(answer.json()["error"], "store_unavailable")
                self.assertEqual(answer.json()["outcome"], "unknown")
                self.assertEqual(answer.headers.get("retry-after"), "1")
                # The write was already on its way and does land: hence "unknown".
                fake.wait_until(lambda stats: stats["items"].get("late", {}).get("count") == 1,
                                "the late write")
            finally:
                proc.kill()
                finish(proc)


class LambdaInitErrorTest(unittest.TestCase):
    def setUp(self):
        self.api = FakeRuntimeApi().start()

    def tearDown(self):
        self.api.close()

    def expect_init_error(self, env, words):
        proc = start_function(self.api, env=env)
        post = self.api.wait_for_init_error()
        code, _, err = finish(proc)
        self.assertNotEqual(code, 0)
        self.assertEqual(post.error_type, "Runtime.ConfigError")
        body = post.json()
        self.assertEqual(body["errorType"], "Runtime.ConfigError")
        self.assertIn(words, body["errorMessage"])
        self.assertIn(words, err)
        self.assertEqual(self.api.next_calls, 0, "it must not ask for events after init/error")

    def test_bad_origin_pattern(self):
        self.expect_init_error({"VC_ALLOW_ORIGINS": "https://bad.example/"}, "bad.example")

    def test_public_url_with_a_path(self):
        self.expect_init_error({"VC_PUBLIC_URL": "https://counter.example/demo"}, "public URL")

    def test_bad_runtime_api_address(self):
        # Not even init/error can be posted: the process logs why and exits.
        proc = start_function(self.api, env={"AWS_LAMBDA_RUNTIME_API": "[::1"})
        code, out, _ = finish(proc)
        self.assertNotEqual(code, 0)
        self.assertIn("bad AWS_LAMBDA_RUNTIME_API", out)

    def test_unknown_store(self):
        self.expect_init_error({"VC_STORE": "nosuch:"}, "nosuch:")

    def test_unusable_sqlite_path(self):
        self.expect_init_error({"VC_STORE": "sqlite:/proc/no/such/dir/c.db"}, "/proc/no/such")

    def test_bad_variable(self):
        self.expect_init_error({"VC_REQUIRE_ORIGIN": "perhaps"}, "VC_REQUIRE_ORIGIN")

    def test_a_rate_limit_is_refused_on_lambda(self):
        self.expect_init_error({"VC_RATE_LIMIT": "5/s,burst=20"}, "stage throttling")


class LambdaCountingPolicyTest(FunctionUnderTest, unittest.TestCase):
    """The template's recommended profile: the visitor is API Gateway's sourceIp (never a
    header the client wrote) and its User-Agent."""
    env = {"VC_COUNT_UNIT": "visitors", "VC_IGNORE_BOTS": "true", "VC_REPEAT_WINDOW": "10"}

    def hit(self, source_ip, **kwargs):
        answer = self.call("POST", "/count/home", source_ip=source_ip, **kwargs)
        self.assertEqual(answer.status, 200, answer.body)
        return answer.json()["count"]

    def test_visitors_by_source_ip(self):
        self.assertEqual(self.hit("203.0.113.7"), 1)
        self.assertEqual(self.hit("203.0.113.7"), 1)  # a reload: a repeat
        # A header the client wrote does not change who it is.
        self.assertEqual(self.hit("203.0.113.7", headers={"x-forwarded-for": "198.51.100.9"}), 1)
        self.assertEqual(self.hit("198.51.100.9"), 2)
        self.assertEqual(self.hit("198.51.100.10", headers={"user-agent": "curl/8.5.0"}), 2)
        self.assertEqual(self.call("GET", "/counters/home").json(),
                         {"key": "home", "count": 2, "views": 2, "visitors": 2})

    def test_an_idempotency_key_replays(self):
        key = {"idempotency-key": '"view-1"'}
        self.assertEqual(self.hit("203.0.113.7", headers=key), 1)
        self.assertEqual(self.hit("198.51.100.9", headers=key), 1)
        bad = self.call("POST", "/count/home", headers={"idempotency-key": "view-1"})
        self.assertEqual((bad.status, bad.json()["error"]), (400, "bad_idempotency_key"))
        self.assertEqual(self.call("GET", "/counters/home").json()["views"], 1)


class LambdaIpv6Test(unittest.TestCase):
    def test_runtime_api_on_an_ipv6_literal(self):
        with FakeRuntimeApi(ipv6=True) as api:
            self.assertTrue(api.address.startswith("[::1]:"))
            proc = start_function(api)
            try:
                post = api.invoke(http_event("GET", "/count"))
                self.assertEqual(Answer(post).json(), {"count": 1})
            finally:
                proc.kill()
                finish(proc)


if __name__ == "__main__":
    unittest.main()


class LambdaAdminTest(FunctionUnderTest, unittest.TestCase):
    """The admin API through API Gateway's payload 2.0, with the template's VC_ADMIN_TOKEN:
    a base64 PUT body, the listing, history, DELETE and the dashboard page."""
    env = {"VC_ADMIN_TOKEN": "lambda-admin-token-0123456789"}
    bearer = {"authorization": "Bearer lambda-admin-token-0123456789"}

    def test_admin_api(self):
        self.assertEqual(self.call("GET", "/counters").status, 401)
        self.call("GET", "/count/home")
        answer = self.call("PUT", "/counters/home", headers={**self.bearer,
                                                             "content-type": "application/json"},
                           body='{"views": 500}', base64_body=True)
        self.assertEqual((answer.status, answer.json()["views"]), (200, 500), answer.body)
        listing = self.call("GET", "/counters", query="days=2", headers=self.bearer).json()
        [home] = listing["counters"]
        self.assertEqual((home["key"], home["views"], len(home["days"])), ("home", 500, 2))
        history = self.call("GET", "/history/home").json()
        self.assertEqual(history["days"][-1]["views"], 1)  # the one real hit, today
        self.assertEqual(self.call("DELETE", "/counters/home", headers=self.bearer).status, 200)
        self.assertEqual(self.count("home"), 0)
        page = Answer(self.api.invoke(http_event("GET", "/dashboard")))
        self.assertEqual(page.status, 200)
        self.assertIn("text/html", page.headers["content-type"])
