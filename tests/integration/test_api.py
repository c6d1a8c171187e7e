"""The HTTP API (README, "HTTP API") over real sockets, against a real SQLite file."""
import http.client
import json
import re
import subprocess
import unittest

from server import BINARY, Server, send

ORIGINS = ["--allow-origin", "https://site.example", "--allow-origin", "http://localhost:*"]


class ApiTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(*ORIGINS).start()

    def tearDown(self):
        self.server.__exit__()

    def test_counts_the_default_counter_and_named_ones(self):
        s = self.server
        self.assertEqual(s.request("GET", "/count")[2], '{"count":1}')
        status, headers, body = s.request("POST", "/count")
        self.assertEqual((status, json.loads(body)), (200, {"count": 2}))
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(headers["cache-control"], "no-store")
        self.assertEqual(json.loads(s.request("GET", "/count/blog/post-1")[2]), {"count": 1})
        self.assertEqual(s.request("GET", "/counters/blog/post-1")[2],
                         '{"key":"blog/post-1","count":1,"views":1,"visitors":1}')
        self.assertEqual(s.count(), 2)

    def test_reading_never_counts(self):
        s = self.server
        self.assertEqual(s.request("GET", "/counters/home")[0], 404)
        s.request("GET", "/count/home")
        for _ in range(3):
            self.assertEqual(json.loads(s.request("GET", "/counters/home")[2])["count"], 1)

    def test_origin_policy(self):
        s = self.server
        status, headers, _ = s.request("GET", "/count", {"Origin": "https://site.example"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["access-control-allow-origin"], "https://site.example")
        self.assertEqual(headers["vary"], "Origin")
        status, headers, _ = s.request("GET", "/count", {"Origin": "http://localhost:5173"})
        self.assertEqual(headers["access-control-allow-origin"], "http://localhost:5173")
        status, headers, body = s.request("GET", "/count", {"Origin": "https://evil.example"})
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(body)["error"], "origin_not_allowed")
        self.assertNotIn("access-control-allow-origin", headers)
        self.assertEqual(s.count(), 2)

    def test_preflight(self):
        status, headers, body = self.server.request("OPTIONS", "/count/home", {
            "Origin": "https://site.example", "Access-Control-Request-Method": "POST"})
        self.assertEqual(status, 204)
        self.assertEqual(headers["access-control-allow-origin"], "https://site.example")
        self.assertEqual(headers["access-control-allow-methods"], "GET, POST, OPTIONS")
        self.assertEqual(headers["access-control-max-age"], "86400")
        self.assertNotIn("content-length", headers)  # RFC 9110: never on a 204
        self.assertEqual(self.server.count("home"), 0)

    def test_preflight_keeps_the_connection_framed(self):
        # The raw bytes, so nothing smooths over the 204's framing; a second request on the
        # same connection must get its own complete answer.
        answer = self.server.raw(
            b"OPTIONS /count/home HTTP/1.1\r\nHost: x\r\nOrigin: https://site.example\r\n"
            b"Access-Control-Request-Method: POST\r\n\r\n"
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        first, _, second = answer.partition(b"\r\n\r\n")
        self.assertTrue(first.startswith(b"HTTP/1.1 204 "), answer)
        self.assertNotIn(b"content-length", first.lower())
        self.assertTrue(second.startswith(b"HTTP/1.1 200 "), answer)

    def test_operating_endpoints(self):
        s = self.server
        self.assertEqual(s.request("GET", "/healthz")[:1], (200,))
        s.request("GET", "/count")
        status, headers, body = s.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        self.assertIn('vc_http_requests_total{route="count",status="200"} 1', body)
        self.assertIn("vc_hits_total 1", body)
        self.assertIn("vc_store_commit_seconds_count 1", body)
        status, headers, body = s.request("GET", "/")
        self.assertEqual((status, headers["content-type"]), (200, "text/html; charset=utf-8"))
        self.assertIn("data-visitor-count", body)
        status, headers, body = s.request("GET", "/counter.js")
        self.assertEqual(headers["content-type"], "text/javascript; charset=utf-8")

    def test_head_answers_what_get_would_without_a_body_and_never_counts(self):
        s = self.server
        s.request("GET", "/count/headed")
        for path in ["/healthz", "/count/headed", "/counters/headed", "/badge/headed.svg",
                     "/history/headed", "/", "/counter.js", "/metrics"]:
            conn = s.connection()
            conn.request("HEAD", path)
            head = conn.getresponse()
            self.assertEqual(head.read(), b"", path)
            conn.close()
            # The GET that reads the same thing without counting.
            read = path.replace("/count/", "/counters/").replace(".svg", ".svg?count=false")
            status, headers, body = s.request("GET", read)
            if path.startswith("/count/"):
                body = '{"count":%d}' % json.loads(body)["count"]
            self.assertEqual(head.status, 200, path)
            self.assertEqual(head.getheader("content-type"), headers["content-type"], path)
            if path not in ("/metrics", "/badge/headed.svg"):  # these change between calls
                self.assertEqual(int(head.getheader("content-length")), len(body.encode()), path)
        self.assertEqual(s.count("headed"), 1)  # HEAD never counted
        conn = s.connection()
        conn.request("HEAD", "/nope")
        self.assertEqual(conn.getresponse().status, 404)
        conn.close()

    def test_metrics_on_the_operators_listener_and_no_demo_page(self):
        with Server("--metrics-listen", "127.0.0.1:0", "--no-demo") as s:
            port = int(re.search(r"\(metrics on http://127\.0\.0\.1:(\d+)\)", s.banner).group(1))
            for path, status in [("/metrics", 404), ("/", 404), ("/demo.css", 404),
                                 ("/counter.js", 200), ("/healthz", 200), ("/count/x", 200)]:
                self.assertEqual(s.request("GET", path)[0], status, path)
            operator = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            for path, status in [("/metrics", 200), ("/healthz", 200), ("/count/x", 404),
                                 ("/counters/x", 404), ("/", 404)]:
                status_got, headers, body = send(operator, "GET", path)
                self.assertEqual(status_got, status, path)
                if path == "/metrics":
                    self.assertIn('vc_http_requests_total{route="count",status="200"} 1', body)
            operator.close()
            self.assertEqual(s.count("x"), 1)

    def test_version(self):
        done = subprocess.run([BINARY, "--version"], capture_output=True, text=True, timeout=10)
        self.assertEqual(done.returncode, 0)
        self.assertRegex(done.stdout, r"^visitor-counter \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)\n$")

    def test_errors_are_json_with_the_right_status(self):
        s = self.server
        cases = [("GET", "/nope", 404, "not_found"), ("DELETE", "/count", 405, "method_not_allowed"),
                 ("POST", "/counters/x", 405, "method_not_allowed"),
                 ("GET", "/count/%2e%2e", 400, "bad_key"), ("GET", "/count/a%00b", 400, "bad_key"),
                 ("GET", "/count/" + "k" * 129, 400, "bad_key"), ("GET", "/count/a//b", 400, "bad_key")]
        for method, path, status, code in cases:
            got, headers, body = s.request(method, path)
            self.assertEqual(got, status, path)
            self.assertEqual(headers["content-type"], "application/json", path)
            self.assertEqual(json.loads(body)["error"], code, path)
        self.assertEqual(s.request("DELETE", "/count")[1]["allow"], "GET, HEAD, POST, OPTIONS")
        self.assertEqual(s.count(), 0)

    def test_badge_styles_count_and_bad_options_count_nothing(self):
        s = self.server
        heights = {"flat": "20", "flat-square": "20", "plastic": "18", "for-the-badge": "28",
                   "social": "20"}
        for n, (style, height) in enumerate(heights.items(), start=1):
            status, headers, svg = s.request(
                "GET", f"/badge/styled.svg?style={style}&labelColor=%23234&format=short&label=%C3%A9t%C3%A9")
            self.assertEqual(status, 200, svg)
            self.assertEqual(headers["content-type"], "image/svg+xml; charset=utf-8")
            self.assertRegex(svg, rf'^<svg xmlns="http://www.w3.org/2000/svg" width="[\d.]+" height="{height}"')
            self.assertIn(f"<title>\u00e9t\u00e9: {n}</title>", svg)
            self.assertEqual(s.count("styled"), n)
        loud = s.request("GET", "/badge/styled.svg?count=false&style=for-the-badge&label=%C3%A9t%C3%A9")[2]
        self.assertIn(">\u00c9T\u00c9</text>", loud)  # for-the-badge writes capitals
        refusals = {
            "style=round": "style must be flat, flat-square, plastic, for-the-badge or social",
            "format=long": "format must be full or short",
            "labelColor=purple": "labelColor must be a name (brightgreen, green, yellowgreen, yellow, orange, red, "
                                 "blue, lightgrey, grey, informational, success, important, critical, inactive) "
                                 "or 3 or 6 hex digits such as 4c1 or 007ec6",
            "labelcolor=red": "unknown option 'labelcolor': a badge takes label, color, labelColor, style, format, "
                              "count and period",
            "style=social&label=": "label must be 1-64 printable characters (UTF-8)",
        }
        for query, message in refusals.items():
            status, headers, body = s.request("GET", "/badge/styled.svg?" + query)
            self.assertEqual(status, 400, query)
            self.assertEqual(headers["content-type"], "application/json", query)
            self.assertEqual(json.loads(body), {"error": "bad_option", "message": message}, query)
        self.assertEqual(s.count("styled"), len(heights))

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        conn = self.server.connection()
        values = [json.loads(send(conn, "GET", "/count")[2])["count"] for _ in range(50)]
        conn.close()
        self.assertEqual(values, list(range(1, 51)))


if __name__ == "__main__":
    unittest.main()
