"""The contract test: real requests to `visitor-counter serve` (real server processes on real
SQLite files, with the admin token) and to the Lambda bootstrap (through the fake Runtime
API), every answer checked against docs/openapi.yaml by contract.py: its status, headers and
body. Then coverage: every operation of the document (bar those marked x-contract-pending)
was exercised on serve, and every operation API Gateway routes was exercised on Lambda. The
document's AWS routes are also checked against deploy/template.yaml's.

A route that lands adds one line to a request table below and drops its x-contract-pending.
"""
import os
import re
import socket
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

from contract import ROOT, Contract  # noqa: E402
from fake_runtime_api import FakeRuntimeApi, http_event  # noqa: E402
from server import BINARY, Server  # noqa: E402
from test_lambda import Answer, finish, start_function  # noqa: E402

TOKEN = "contract-admin-token-0123456789"
BEARER = {"Authorization": "Bearer " + TOKEN}
ADMIN_ENV = {"VC_ADMIN_TOKEN": TOKEN}
ORIGIN = "https://site.example"
FOREIGN = "https://elsewhere.example"
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0"}
BIG_BODY = "a" * 5000  # over the 4096-byte limit

CONTRACT = Contract()


def parse_raw(reply):
    """(status, headers, body) of a raw HTTP/1.1 answer; a header sent twice is an error."""
    head, _, rest = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        assert name not in headers, ("a header sent twice", name, reply[:300])
        headers[name] = value.strip()
    length = int(headers.get("content-length", "0"))
    return status, headers, rest[:length].decode()


class ServeTarget:
    """A `serve` process; answers come over fresh connections."""
    name = "serve"

    def __init__(self, *args, admin=True):
        self.server = Server(*args, env=ADMIN_ENV if admin else {
            k: "" for k in ("VC_ADMIN_TOKEN", "VC_ADMIN_TOKEN_FILE")})

    def start(self):
        self.server.start()
        found = re.search(r"\(metrics on http://([0-9.]+):([0-9]+)\)", self.server.banner)
        self.operator = (found.group(1), int(found.group(2))) if found else None
        return self

    def stop(self):
        code, _, err = self.server.stop()
        assert code == 0, err

    def send(self, method, target, headers=None, body=None):
        """(status, headers, body); of an event stream, the body up to its first event."""
        conn = self.server.connection()
        try:
            conn.request(method, target, body=body, headers=headers or {})
            response = conn.getresponse()
            names = [name.lower() for name, _ in response.getheaders()]
            assert len(names) == len(set(names)), ("a header sent twice", target, names)
            got = {name.lower(): value for name, value in response.getheaders()}
            if not got.get("content-type", "").startswith("text/event-stream"):
                return response.status, got, response.read().decode()
            data = b""
            while not re.search(rb"\ndata: [^\n]*\n\n", data):
                chunk = response.read1(65536)
                assert chunk, ("the stream ended before its first event", data)
                data += chunk
            return response.status, got, data.decode()
        finally:
            conn.close()

    def raw(self, data, operator=False):
        address = self.operator if operator else (self.server.host, self.server.port)
        with socket.create_connection(address, timeout=10) as sock:
            sock.sendall(data)
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return parse_raw(b"".join(chunks))
                chunks.append(chunk)


class LambdaTarget:
    """The bootstrap on a fake Runtime API; answers are the payload 2.0 responses."""
    name = "lambda"

    def start(self):
        self.api = FakeRuntimeApi().start()
        self.proc = start_function(self.api, env=ADMIN_ENV)
        return self

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        finish(self.proc)
        self.api.close()

    def send(self, method, target, headers=None, body=None):
        path, _, query = target.partition("?")
        post = self.api.invoke(http_event(method, path, query=query, headers=headers, body=body))
        assert post.kind == "response", post
        answer = Answer(post)
        return answer.status, answer.headers, answer.body


class ContractCase(unittest.TestCase):
    """expect(): one request, its status asserted (so the branch meant is the one taken) and
    its answer checked against the document."""

    def expect(self, target, method, path, status, headers=None, body=None, error=None):
        got = target.send(method, path, headers, body)
        return self.judge(target.name, method, path, status, got, error, headers)

    def judge(self, where, method, path, status, got, error=None, request_headers=None):
        got_status, got_headers, got_body = got
        self.assertEqual(got_status, status, "%s %s %s: %s" % (where, method, path, got_body))
        if error:
            self.assertIn('"error":"%s"' % error, got_body, "%s %s %s" % (where, method, path))
        problems = CONTRACT.check(where, method, path, got_status, got_headers, got_body,
                                  request_headers)
        self.assertEqual(problems, [], "\n".join(problems))
        return got


class ServeContractTest(ContractCase):
    @classmethod
    def setUpClass(cls):
        cls.targets = []

        def start(*args, admin=True):
            target = ServeTarget(*args, admin=admin).start()
            cls.targets.append(target)
            return target

        cls.main = start("--allow-origin", ORIGIN, "--rate-limit", "100/s,burst=1000",
                         "--respect-dnt")
        cls.strict = start("--allow-origin", ORIGIN, "--require-origin", "--private-stats")
        cls.limited = start("--rate-limit", "0.01/s,burst=1", "--max-streams", "1")
        cls.capped = start("--max-counters", "1", "--keys", "home,blog/*")
        cls.bare = start("--no-demo", "--private-stats", "--metrics-listen", "127.0.0.1:0",
                         admin=False)

    @classmethod
    def tearDownClass(cls):
        for target in cls.targets:
            target.stop()

    def test_every_answer_keeps_the_contract(self):
        for group in (self.counting, self.reading, self.badges, self.owner, self.operating,
                      self.web, self.every_path, self.origins_and_private_stats,
                      self.rate_limit, self.counter_bounds, self.without_admin_token):
            with self.subTest(group.__name__):
                group()
        missing = CONTRACT.missing("serve", CONTRACT.operations())
        self.assertEqual(missing, [], "operations no request exercised on serve")
        self.assertEqual(CONTRACT.rules_used >= {"x-unknown-path", "x-method-not-allowed",
                                                 "x-any-request 400", "x-any-request 413",
                                                 "x-any-request 431"}, True, CONTRACT.rules_used)
        print("\ncontract: statuses documented and not shown by any answer: %s"
              % ", ".join("%s %s %d" % u for u in CONTRACT.unanswered()), file=sys.stderr)

    def counting(self):
        s, browser = self.main, {**BROWSER, "Origin": ORIGIN}
        for path in ("/count", "/count/home", "/count/blog/2026/hello"):
            got = self.expect(s, "POST", path, 200, browser)
            self.assertEqual(got[1]["access-control-allow-origin"], ORIGIN)
            self.assertIn("ratelimit", got[1])
            self.expect(s, "GET", path, 200, BROWSER)
            self.expect(s, "HEAD", path, 200)
            self.expect(s, "OPTIONS", path, 204,
                        {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
        keyed = {**browser, "Idempotency-Key": '"contract-1"'}
        first = self.expect(s, "POST", "/count/home", 200, keyed)
        self.assertEqual(self.expect(s, "POST", "/count/home", 200, keyed)[2], first[2])
        self.expect(s, "POST", "/count/home", 200, {**browser, "DNT": "1"})
        self.expect(s, "POST", "/count/home", 400, {"Idempotency-Key": "unquoted"},
                    error="bad_idempotency_key")
        self.expect(s, "POST", "/count/home", 400, {"Forwarded": "for=2001:db8::1"},
                    error="bad_forwarded")
        self.expect(s, "GET", "/count/bad%20key", 400, error="bad_key")
        self.expect(s, "HEAD", "/count/a/../b", 400)
        self.expect(s, "POST", "/count/home", 403, {"Origin": FOREIGN}, error="origin_not_allowed")
        self.expect(s, "HEAD", "/count", 403, {"Origin": FOREIGN})
        self.expect(s, "OPTIONS", "/count/home", 403, {"Origin": FOREIGN})
        self.expect(s, "POST", "/count/home", 413, body=BIG_BODY, error="body_too_large")
        self.expect(s, "PATCH", "/count", 405, error="method_not_allowed")
        self.expect(s, "DELETE", "/count/home", 405)

    def reading(self):
        s = self.main
        self.expect(s, "GET", "/counters/home", 200, {"Origin": ORIGIN})
        self.expect(s, "HEAD", "/counters/home", 200)
        self.expect(s, "OPTIONS", "/counters/home", 204,
                    {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
        self.expect(s, "GET", "/counters/never-counted", 404, error="not_found")
        self.expect(s, "GET", "/counters/a//b", 400, error="bad_key")
        self.expect(s, "GET", "/counters/home", 403, {"Origin": FOREIGN})
        self.expect(s, "POST", "/counters/home", 405)
        self.expect(s, "GET", "/history/home", 200, {"Origin": ORIGIN})
        self.expect(s, "GET", "/history/home?from=2026-01-01&to=2026-01-31", 200)
        self.expect(s, "GET", "/history/home", 200, BEARER)  # the owner: no CORS at all
        self.expect(s, "HEAD", "/history/home?to=2026-02-01", 200)
        self.expect(s, "OPTIONS", "/history/home", 204,
                    {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
        self.expect(s, "OPTIONS", "/history/home", 204, BEARER)
        self.expect(s, "GET", "/history/home?days=7", 400, error="bad_query")
        self.expect(s, "GET", "/history/home?from=2026-13-01", 400, error="bad_range")
        self.expect(s, "GET", "/history/%2e%2e", 400, error="bad_key")
        self.expect(s, "GET", "/history/never-counted", 404, error="not_found")
        self.expect(s, "GET", "/history/home", 403, {"Origin": FOREIGN})
        self.expect(s, "PUT", "/history/home", 405)
        self.expect(s, "GET", "/stream/home", 200, {"Origin": ORIGIN})
        self.expect(s, "GET", "/stream/never-counted", 200)
        self.expect(s, "GET", "/stream/home", 200, BEARER)
        self.expect(s, "OPTIONS", "/stream/home", 204,
                    {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
        self.expect(s, "OPTIONS", "/stream/home", 204, BEARER)
        self.expect(s, "GET", "/stream/home?x=1", 400, error="bad_query")
        self.expect(s, "GET", "/stream/a//b", 400, error="bad_key")
        self.expect(s, "GET", "/stream/home", 403, {"Origin": FOREIGN})
        self.expect(s, "OPTIONS", "/stream/home", 403, {"Origin": FOREIGN})
        self.expect(s, "HEAD", "/stream/home", 405)

    def badges(self):
        s = self.main
        got = self.expect(s, "GET", "/badge/home.svg", 200, {**BROWSER, "Origin": ORIGIN})
        self.assertIn("ratelimit", got[1])
        self.expect(s, "GET", "/badge/home.svg?label=views&color=green", 200, BROWSER)
        self.expect(s, "GET", "/badge/blog/2026/hello.svg?color=%23ff69b4&count=1", 200, BROWSER)
        shown = self.expect(s, "GET", "/badge/home.svg?count=false", 200)
        self.expect(s, "GET", "/badge/home.svg?period=7d&label=week", 200)
        self.expect(s, "HEAD", "/badge/home.svg?period=30d", 200)
        self.expect(s, "GET", "/badge/home.svg?count=false", 304,
                    {"If-None-Match": shown[1]["etag"]})
        self.expect(s, "HEAD", "/badge/home.svg?count=0", 304, {"If-None-Match": shown[1]["etag"]})
        self.expect(s, "OPTIONS", "/badge/home.svg", 204,
                    {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
        self.expect(s, "GET", "/badge/home.svg?colour=green", 400, error="bad_option")
        self.expect(s, "GET", "/badge/home.svg?v=2", 400, error="bad_option")
        self.expect(s, "HEAD", "/badge/home.svg?color=purple", 400)
        self.expect(s, "GET", "/badge/bad%20key.svg", 400, error="bad_key")
        self.expect(s, "GET", "/badge/home.svg", 403, {"Origin": FOREIGN})
        self.expect(s, "HEAD", "/badge/home.svg", 403, {"Origin": FOREIGN})
        self.expect(s, "POST", "/badge/home.svg", 405)

    def owner(self):
        s = self.main
        self.expect(s, "GET", "/counters", 200, BEARER)
        page = self.expect(s, "GET", "/counters?prefix=blog/&limit=1&days=2", 200, BEARER)
        self.assertIn('"days":[', page[2])
        self.expect(s, "GET", "/counters?limit=1&cursor=blog/2026/hello", 200, BEARER)
        self.expect(s, "HEAD", "/counters?limit=2", 200, BEARER)
        self.expect(s, "GET", "/counters?limit=0", 400, BEARER, error="bad_query")
        self.expect(s, "GET", "/counters?page=2", 400, BEARER, error="bad_query")
        self.expect(s, "GET", "/counters", 401, error="unauthorized")
        self.expect(s, "HEAD", "/counters", 401, {"Authorization": "Bearer wrong-token-0123456789"})
        self.expect(s, "OPTIONS", "/counters", 405)
        self.expect(s, "PUT", "/counters/set/me", 200, BEARER, '{"views":4711}')
        self.expect(s, "PUT", "/counters/set/me", 200, BEARER, '{"views":1,"visitors":1}')
        self.expect(s, "PUT", "/counters/set/me", 400, BEARER, '{"views":-1}', error="bad_body")
        self.expect(s, "PUT", "/counters/..", 400, BEARER, '{"views":1}', error="bad_key")
        self.expect(s, "PUT", "/counters/set/me", 401, body='{"views":1}')
        self.expect(s, "PUT", "/counters/set/me", 413, BEARER, BIG_BODY)
        self.expect(s, "DELETE", "/counters/set/me", 200, BEARER)
        self.expect(s, "DELETE", "/counters/set/me", 404, BEARER, error="not_found")
        self.expect(s, "DELETE", "/counters/a%00b", 400, BEARER, error="bad_key")
        self.expect(s, "DELETE", "/counters/home", 401)
        for path in ("/dashboard", "/dashboard.js", "/dashboard.css", "/uPlot.iife.min.js",
                     "/uPlot.min.css"):
            self.expect(s, "GET", path, 200)
            self.expect(s, "HEAD", path, 200)
            self.expect(s, "POST", path, 405)

    def operating(self):
        s = self.main
        for method in ("GET", "HEAD"):
            self.expect(s, method, "/healthz", 200)
            self.expect(s, method, "/metrics", 200)
            self.expect(s, method, "/openapi.yaml", 200)
        self.expect(s, "POST", "/openapi.yaml", 405)
        self.expect(s, "POST", "/healthz", 405)
        self.expect(s, "DELETE", "/metrics", 405)

    def web(self):
        s = self.main
        for path in ("/", "/index.html", "/demo.css", "/counter.js"):
            self.expect(s, "GET", path, 200)
            self.expect(s, "HEAD", path, 200)
            self.expect(s, "PUT", path, 405)

    def every_path(self):
        s = self.main
        self.expect(s, "GET", "/nope", 404, error="not_found")
        self.expect(s, "POST", "/badge/home.png", 404)
        close = b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        big = b"Content-Length: 5000\r\n\r\n" + BIG_BODY.encode()
        for method, target, data, status, error in [
                ("GET", "/", b"GARBAGE\r\n\r\n", 400, "bad_request"),
                ("GET", "/count", b"GET /count HTTP/9.9\r\n\r\n", 400, "bad_request"),
                ("GET", "/count", b"GET /count" + close + b"x-filler: " + b"a" * (17 * 1024)
                 + b"\r\n\r\n", 431, "headers_too_large"),
                ("POST", "/count", b"POST /count" + close + big, 413, "body_too_large"),
                ("GET", "/healthz", b"GET /healthz" + close + big, 413, "body_too_large")]:
            self.judge("serve", method, target, status, s.raw(data), error)

    def origins_and_private_stats(self):
        s, site = self.strict, {"Origin": ORIGIN}
        self.expect(s, "POST", "/count/home", 200, {**BROWSER, **site})
        self.expect(s, "POST", "/count/home", 403, BROWSER, error="origin_not_allowed")
        self.expect(s, "OPTIONS", "/count/home", 403)
        self.expect(s, "GET", "/counters/home", 403)
        self.expect(s, "GET", "/badge/home.svg?count=false", 403)
        self.expect(s, "GET", "/history/home", 401, site, error="unauthorized")
        self.expect(s, "HEAD", "/history/home", 401, site)
        self.expect(s, "OPTIONS", "/history/home", 401, site)
        self.expect(s, "GET", "/history/home", 200, BEARER)  # no Origin needed: admin route
        self.expect(s, "GET", "/badge/home.svg?period=7d", 401, site, error="unauthorized")
        self.expect(s, "GET", "/badge/home.svg?period=7d", 200, {**BEARER, **site})
        self.expect(s, "GET", "/stream/home", 401, site, error="unauthorized")
        self.expect(s, "OPTIONS", "/stream/home", 401, site)
        self.expect(s, "GET", "/stream/home", 200, BEARER)

    def rate_limit(self):
        s = self.limited
        got = self.expect(s, "POST", "/count/home", 200, BROWSER)
        self.assertIn("ratelimit-policy", got[1])
        limited = self.expect(s, "POST", "/count/home", 429, BROWSER, error="rate_limited")
        self.assertIn("retry-after", limited[1])
        self.expect(s, "GET", "/badge/home.svg", 429, BROWSER)
        # --max-streams 1: one stream held open, the next refused.
        with socket.create_connection((s.server.host, s.server.port), timeout=10) as held:
            held.sendall(b"GET /stream/home HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while b"\ndata: " not in data:
                data += held.recv(65536)
            self.expect(s, "GET", "/stream/home", 503, error="too_many_streams")

    def counter_bounds(self):
        s = self.capped
        self.expect(s, "POST", "/count/home", 200, BROWSER)
        self.expect(s, "POST", "/count/blog/new", 403, BROWSER, error="too_many_counters")
        self.expect(s, "GET", "/badge/blog/new.svg", 403, BROWSER, error="too_many_counters")
        self.expect(s, "POST", "/count/elsewhere", 404, BROWSER, error="unknown_counter")
        self.expect(s, "GET", "/badge/elsewhere.svg", 404, BROWSER, error="unknown_counter")

    def without_admin_token(self):
        s = self.bare
        self.expect(s, "POST", "/count/home", 200, BROWSER)
        for method, path in [("GET", "/counters"), ("HEAD", "/counters"),
                             ("PUT", "/counters/home"), ("DELETE", "/counters/home"),
                             ("GET", "/dashboard"), ("HEAD", "/dashboard.js"),
                             ("GET", "/dashboard.css"), ("GET", "/uPlot.iife.min.js"),
                             ("GET", "/uPlot.min.css"), ("GET", "/"), ("HEAD", "/index.html"),
                             ("GET", "/demo.css"), ("GET", "/metrics"),
                             ("GET", "/history/home"), ("OPTIONS", "/history/home"),
                             ("GET", "/badge/home.svg?period=30d"), ("GET", "/stream/home")]:
            self.expect(s, method, path, 404, BEARER if method == "PUT" else None,
                        '{"views":1}' if method == "PUT" else None, error=None)
        self.expect(s, "GET", "/counter.js", 200)
        close = b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        self.judge("serve", "GET", "/metrics", 200, s.raw(b"GET /metrics" + close, operator=True))
        self.judge("serve", "GET", "/healthz", 200, s.raw(b"GET /healthz" + close, operator=True))


class LambdaContractTest(ContractCase):
    """The Lambda bootstrap: every operation API Gateway routes, and its errors."""

    @classmethod
    def setUpClass(cls):
        cls.function = LambdaTarget().start()

    @classmethod
    def tearDownClass(cls):
        cls.function.stop()

    def test_every_answer_keeps_the_contract(self):
        f, site = self.function, {"Origin": ORIGIN}
        preflight = {**site, "Access-Control-Request-Method": "GET"}
        for path in ("/count", "/count/home"):
            self.expect(f, "POST", path, 200, site)
            self.expect(f, "GET", path, 200)
            self.expect(f, "HEAD", path, 200)
            self.expect(f, "OPTIONS", path, 204, preflight)
        self.expect(f, "POST", "/count/home", 400, {"Idempotency-Key": "x"},
                    error="bad_idempotency_key")
        self.expect(f, "POST", "/count/home", 413, body=BIG_BODY, error="body_too_large")
        self.expect(f, "GET", "/count/home", 403, {"Origin": FOREIGN})
        for method in ("GET", "HEAD"):
            self.expect(f, method, "/counters/home", 200, site)
            self.expect(f, method, "/history/home?from=2026-01-01&to=2026-01-02", 200)
            self.expect(f, method, "/badge/home.svg?count=false", 200)
            self.expect(f, method, "/healthz", 200)
            self.expect(f, method, "/counter.js", 200)
        for path in ("/counters/home", "/history/home", "/badge/home.svg"):
            self.expect(f, "OPTIONS", path, 204, preflight)
        self.expect(f, "GET", "/badge/readme.svg", 200)
        self.expect(f, "GET", "/badge/readme.svg?style=social&format=short", 200)
        self.expect(f, "GET", "/stream/home", 404, error="not_found")
        self.expect(f, "OPTIONS", "/stream/home", 404)
        self.expect(f, "GET", "/badge/home.svg?colour=green", 400, error="bad_option")
        self.expect(f, "GET", "/counters/never-counted", 404, error="not_found")
        self.expect(f, "GET", "/history/a/./b", 400, error="bad_key")
        self.expect(f, "GET", "/counters", 200, BEARER)
        self.expect(f, "GET", "/counters", 401)
        self.expect(f, "PUT", "/counters/moved", 200, BEARER, '{"views":12,"visitors":3}')
        self.expect(f, "PUT", "/counters/moved", 400, BEARER, '{"count":12}', error="bad_body")
        self.expect(f, "DELETE", "/counters/moved", 200, BEARER)
        self.expect(f, "DELETE", "/counters/moved", 404, BEARER)
        for path in ("/dashboard", "/dashboard.js", "/dashboard.css", "/uPlot.iife.min.js",
                     "/uPlot.min.css"):
            self.expect(f, "GET", path, 200)
        self.expect(f, "GET", "/nope", 404)
        self.expect(f, "PATCH", "/counters/home", 405)
        missing = CONTRACT.missing("lambda", CONTRACT.aws_operations())
        self.assertEqual(missing, [], "operations API Gateway routes that no request exercised "
                                      "on Lambda")


class CheckerTest(unittest.TestCase):
    """The checker itself, on made-up answers: each breach of the document is caught."""

    def setUp(self):
        self.contract = Contract()  # its own coverage, apart from the real answers'

    def problems(self, method, target, status, headers, body=""):
        return self.contract.check("made-up", method, target, status, headers, body)

    def test_a_good_answer_passes(self):
        self.assertEqual(self.problems("GET", "/counters/a/b", 200, {
            "content-type": "application/json", "cache-control": "no-store", "vary": "Origin"},
            '{"key":"a/b","count":1,"views":1,"visitors":1}'), [])

    def test_each_breach_is_caught(self):
        json_headers = {"content-type": "application/json", "cache-control": "no-store"}
        counter = {**json_headers, "vary": "Origin"}
        body = '{"key":"a","count":1,"views":1,"visitors":1}'
        for why, answer, found in [
                ("an extra field", ("GET", "/counters/a", 200, counter, body[:-1] + ',"x":1}'),
                 "Additional properties"),
                ("a missing field", ("GET", "/counters/a", 200, counter, '{"key":"a","count":1}'),
                 "'views' is a required property"),
                ("an undocumented status", ("GET", "/counters/a", 418, counter, body),
                 "418 is not a documented status"),
                ("an undocumented header", ("GET", "/counters/a", 200,
                                            {**counter, "x-debug": "1"}, body),
                 "x-debug"),
                ("a missing required header", ("GET", "/counters/a", 200, json_headers, body),
                 "required header vary"),
                ("a header's value", ("GET", "/counters/a", 200, {**counter, "vary": "*"}, body),
                 "header vary"),
                ("another media type", ("GET", "/counters/a", 200,
                                        {**counter, "content-type": "text/plain"}, body),
                 "Content-Type"),
                ("a body on HEAD", ("HEAD", "/counters/a", 200, counter, body), "a body"),
                ("a bad date", ("GET", "/history/a", 200, json_headers,
                                '{"key":"a","from":"2026-02-30","to":"2026-02-30","days":[{"date"'
                                ':"2026-02-30","views":0,"visitors":0}]}'), "is not a 'date'"),
                ("an unknown error code", ("GET", "/counters/a", 404, counter,
                                           '{"error":"gone","message":"m"}'), "'gone'"),
                ("an undocumented parameter", ("GET", "/history/a?days=7", 200, json_headers,
                                               '{"key":"a","from":"2026-02-01","to":"2026-02-01",'
                                               '"days":[{"date":"2026-02-01","views":0,'
                                               '"visitors":0}]}'), "'days'"),
                ("a wrong Allow", ("PATCH", "/healthz", 405, {**json_headers, "allow": "GET"},
                                   '{"error":"method_not_allowed","message":"m"}'), "Allow says"),
                ("a 200 for an undocumented method", ("PATCH", "/healthz", 200, json_headers,
                                                      '{"status":"ok"}'), "must answer 405"),
                ("a 200 on an unknown path", ("GET", "/nope", 200, json_headers, "{}"),
                 "not in the document")]:
            with self.subTest(why):
                problems = self.problems(*answer)
                self.assertTrue(any(found in p for p in problems), problems)


class TemplateTest(unittest.TestCase):
    def test_the_documents_version_is_the_binarys(self):
        out = subprocess.run([BINARY, "--version"], capture_output=True, text=True,
                             check=True).stdout
        self.assertEqual(out.split()[1], CONTRACT.doc["info"]["version"], out)

    def test_the_documents_aws_routes_are_the_templates(self):
        """deploy/template.yaml routes exactly the operations not marked x-aws: false (those
        still x-contract-pending aside)."""
        with open(os.path.join(ROOT, "deploy", "template.yaml")) as f:
            routes = {(method, path.strip('"')) for method, path in
                      re.findall(r"Method: (\w+), Path: (\"[^\"]+\"|[^,\s]+)", f.read())}
        self.assertGreater(len(routes), 20)
        pending = CONTRACT.operations(pending=True) - CONTRACT.operations()

        def route(template):
            return re.sub(r"\{key\}(\.svg)?", "{key+}", template)

        documented = {(m, route(t)) for t, m in CONTRACT.aws_operations()}
        pending_routes = {(m, route(t)) for t, m in pending}
        self.assertEqual(sorted(routes - documented - pending_routes), [],
                         "routed by the template, marked x-aws: false or missing in the document")
        self.assertEqual(sorted(documented - routes), [],
                         "in the document, not routed by the template (mark them x-aws: false?)")


if __name__ == "__main__":
    unittest.main()
