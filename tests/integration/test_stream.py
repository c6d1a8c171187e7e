"""Live counts (GET /stream/{key}) against the real binary on a real SQLite file: the head
and the first event, an event after each hit and coalesced events under a burst, a stream
that never counts, the origin policy and --private-stats, --max-streams and one address's
share of it, an HTTP/1.0 client (no chunks), a client that
leaves (file descriptors, streams and memory back where they were), and a drain that ends
open streams at once. Across processes: test_redis.py and test_dynamodb.py."""
import json
import os
import re
import signal
import time
import unittest

from owner import ADMIN_ENV, BEARER
from server import Clients, Server
from sse import StreamClient
from test_counting import BROWSER

COUNT = {"User-Agent": BROWSER}


def metric(server, name):
    text = server.request("GET", "/metrics")[2]
    return int(re.search(r"^%s (\d+)$" % name, text, re.M).group(1))


def wait_until(condition, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


def open_fds(server):
    return len(os.listdir("/proc/%d/fd" % server.proc.pid))


def rss_kib(server):
    with open("/proc/%d/status" % server.proc.pid) as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))


class StreamTest(unittest.TestCase):
    def test_the_totals_now_then_an_event_per_hit(self):
        with Server("--count-unit", "views") as s:
            with StreamClient(s, "/stream/home") as stream:
                self.assertEqual(stream.status, 200)
                self.assertEqual(stream.headers["content-type"], "text/event-stream; charset=utf-8")
                self.assertEqual(stream.headers["cache-control"], "no-cache")
                self.assertEqual(stream.headers["x-accel-buffering"], "no")
                self.assertEqual(stream.headers["transfer-encoding"], "chunked")
                self.assertNotIn("content-length", stream.headers)
                self.assertEqual(stream.block(), "retry: 3000")
                first_id, first = stream.event()
                self.assertEqual(first, {"key": "home", "count": 0, "views": 0, "visitors": 0})
                last_id = first_id
                for n in range(1, 4):
                    self.assertEqual(s.request("POST", "/count/home", COUNT)[0], 200)
                    event_id, data = stream.event()
                    self.assertEqual(data, {"key": "home", "count": n, "views": n, "visitors": 1})
                    self.assertGreater(event_id, last_id)
                    last_id = event_id

    def test_a_burst_of_hits_is_coalesced_into_few_events(self):
        with Server("--count-unit", "views") as s:
            with StreamClient(s, "/stream/busy") as stream:
                stream.event()
                clients = Clients(s, 8, 50, method="POST", path="/count/busy").start()
                clients.join()
                events, data = 0, {}
                while data.get("count") != 400:
                    _, data = stream.event()
                    events += 1
                self.assertEqual(data["views"], 400)
                self.assertLess(events, 400)  # one per 250 ms flush, not one per hit
                self.assertEqual(metric(s, "vc_stream_events_total"), events + 1)

    def test_a_stream_never_counts(self):
        with Server() as s:
            streams = [StreamClient(s, "/stream/quiet", {"User-Agent": BROWSER})
                       for _ in range(3)]
            for stream in streams:
                self.assertEqual(stream.event()[1]["views"], 0)
                stream.close()
            self.assertEqual(s.request("GET", "/counters/quiet")[0], 404)

    def test_bad_keys_methods_and_parameters(self):
        with Server() as s:
            status, _, body = s.request("GET", "/stream/a%2F..%2Fb")
            self.assertEqual((status, json.loads(body)["error"]), (400, "bad_key"))
            status, _, body = s.request("GET", "/stream/home?since=3")
            self.assertEqual((status, json.loads(body)["error"]), (400, "bad_query"))
            status, headers, _ = s.request("POST", "/stream/home")
            self.assertEqual((status, headers["allow"]), (405, "GET, OPTIONS"))

    def test_the_origin_policy_applies_as_for_reads(self):
        with Server("--allow-origin", "https://blog.example", "--require-origin") as s:
            with StreamClient(s, "/stream/home", {"Origin": "https://evil.example"}) as refused:
                self.assertEqual(refused.status, 403)
            with StreamClient(s, "/stream/home") as no_origin:
                self.assertEqual(no_origin.status, 403)
            with StreamClient(s, "/stream/home", {"Origin": "https://blog.example"}) as stream:
                self.assertEqual(stream.status, 200)
                self.assertEqual(stream.headers["access-control-allow-origin"],
                                 "https://blog.example")
                self.assertEqual(stream.event()[1]["count"], 0)
            status, headers, _ = s.request("OPTIONS", "/stream/home",
                                           {"Origin": "https://blog.example"})
            self.assertEqual((status, headers["access-control-allow-methods"]),
                             (204, "GET, OPTIONS"))

    def test_private_stats_needs_the_admin_token(self):
        with Server("--private-stats", env=ADMIN_ENV) as s:
            with StreamClient(s, "/stream/home") as refused:
                self.assertEqual(refused.status, 401)
            with StreamClient(s, "/stream/home", BEARER) as stream:
                self.assertEqual(stream.status, 200)
                self.assertEqual(stream.event()[1]["count"], 0)

    def test_past_max_streams_503_until_one_closes(self):
        with Server("--max-streams", "2") as s:
            first = StreamClient(s, "/stream/a", source="127.0.0.2")
            second = StreamClient(s, "/stream/b", source="127.0.0.3")
            self.assertEqual((first.status, second.status), (200, 200))
            with StreamClient(s, "/stream/c", source="127.0.0.4") as refused:
                self.assertEqual(refused.status, 503)
                self.assertEqual(refused.headers["retry-after"], "30")
            self.assertEqual(metric(s, "vc_streams_refused_total"), 1)
            first.close()
            wait_until(lambda: metric(s, "vc_streams") == 1, "the closed stream to go")
            with StreamClient(s, "/stream/c", source="127.0.0.4") as third:
                self.assertEqual(third.status, 200)
            second.close()

    def test_one_address_gets_a_tenth_of_max_streams(self):
        with Server("--max-streams", "20") as s:
            mine = [StreamClient(s, "/stream/k%d" % i, source="127.0.0.2") for i in range(2)]
            self.assertEqual([stream.status for stream in mine], [200, 200])
            with StreamClient(s, "/stream/k3", source="127.0.0.2") as refused:
                self.assertEqual(refused.status, 503)
            with StreamClient(s, "/stream/k3", source="127.0.0.3") as other:
                self.assertEqual(other.status, 200)  # another address has its own share
            for stream in mine:
                stream.close()

    def test_an_http_1_0_client_gets_the_events_without_chunks(self):
        with Server() as s:
            with StreamClient(s, "/stream/home", version="1.0") as stream:
                self.assertEqual(stream.status, 200)
                self.assertNotIn("transfer-encoding", stream.headers)
                self.assertEqual(stream.headers["connection"], "close")
                self.assertEqual(stream.block(), "retry: 3000")
                self.assertEqual(stream.event()[1]["views"], 0)

    def test_clients_that_leave_free_everything(self):
        # Under AddressSanitizer (make test-asan sets ASAN_OPTIONS) the allocator keeps
        # freed memory and its own records, so RSS says nothing there; LeakSanitizer, at
        # the exit below, says whether anything was lost.
        sanitized = "ASAN_OPTIONS" in os.environ
        with Server("--max-streams", "2000") as s:  # one address may open 200
            s.request("GET", "/healthz")
            fds = open_fds(s)
            rss = []
            for _ in range(5):
                streams = [StreamClient(s, "/stream/k%d" % (i % 50)) for i in range(200)]
                for stream in streams:
                    stream.event()
                self.assertEqual(metric(s, "vc_streams"), 200)
                for stream in streams:
                    stream.close()
                wait_until(lambda: metric(s, "vc_streams") == 0, "every stream to be closed")
                wait_until(lambda: open_fds(s) <= fds, "the descriptors to be closed")
                rss.append(rss_kib(s))
            if not sanitized:
                # The first round may grow the allocator's pools; later rounds reuse them.
                self.assertLess(max(rss[1:]) - rss[0], 1024, rss)
            still_open = StreamClient(s, "/stream/at-exit")
            still_open.event()
            code, _, err = s.stop(signal.SIGTERM)
            still_open.close()
            self.assertEqual(code, 0, err)
            self.assertNotIn("LeakSanitizer", err)

    def test_a_drain_ends_open_streams_at_once(self):
        with Server() as s:
            stream = StreamClient(s, "/stream/home")
            stream.event()
            started = time.monotonic()
            code, out, _ = s.stop(signal.SIGTERM, timeout=5)  # the drain's bound is 10 s
            self.assertEqual(code, 0)
            self.assertIn("stopped", out)
            with self.assertRaises(EOFError):
                stream.event()
            self.assertTrue(stream.ended)  # the last chunk, not a cut connection
            stream.close()
            self.assertLess(time.monotonic() - started, 5)


if __name__ == "__main__":
    unittest.main()
