"""Bad input over raw sockets: each gets the right status or a closed connection, never a
crash and never a changed count, and the server keeps serving others meanwhile."""
import json
import os
import socket
import unittest

from owner import ADMIN_ENV
from server import Server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TIMEOUT_MS = 400


def status_of(reply):
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else None


def json_body(reply):
    return json.loads(reply.split(b"\r\n\r\n", 1)[1])


class BadInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--read-timeout-ms", str(TIMEOUT_MS)).start()
        cls.server.request("GET", "/count")  # the count every test must leave at 1

    @classmethod
    def tearDownClass(cls):
        code, _, err = cls.server.stop()
        assert code == 0, err

    def tearDown(self):
        self.assertIsNone(self.server.proc.poll(), "the server died")
        self.assertEqual(self.server.count(), 1)

    def expect(self, data, status, error=None):
        reply = self.server.raw(data)
        self.assertEqual(status_of(reply), status, reply[:200])
        if error:
            self.assertEqual(json_body(reply)["error"], error)
        return reply

    def test_malformed_request_lines(self):
        for data in [b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET /count HTTP/9.9\r\n\r\n",
                     b"GET /count HTTP/1.1\r\nBad Header\r\n\r\n", b"\x00\x01\x02\r\n\r\n",
                     b"GET /count HTTP/1.1\r\nContent-Length: abc\r\n\r\n"]:
            self.expect(data, 400, "bad_request")

    def test_headers_over_16_kib(self):
        big = b"x-filler: " + b"a" * (17 * 1024) + b"\r\n"
        self.expect(b"GET /count HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n", 431, "headers_too_large")

    def test_headers_under_the_limit_still_work(self):
        fine = b"x-filler: " + b"a" * (8 * 1024) + b"\r\n"
        self.expect(b"GET /counters/visitors HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    + fine + b"\r\n", 200)

    def test_body_over_the_limit(self):
        self.expect(b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"
                    + b"a" * 5000, 413, "body_too_large")
        self.expect(b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
                    413, "body_too_large")

    def test_routes_methods_and_keys(self):
        close = b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        self.expect(b"GET /nope" + close, 404, "not_found")
        self.expect(b"BREW /count" + close, 405, "method_not_allowed")
        self.expect(b"PATCH /count" + close, 405)
        self.expect(b"HEAD /count" + close, 200)  # answered like GET, without a body or a count
        for path in [b"/count/%2e%2e", b"/count/%2E%2E/x", b"/count/a%00b", b"/count/%", b"/count/%zz",
                     b"/count/..", b"/count/a/../b", b"/count/" + b"k" * 129, b"/count/a%20b",
                     b"/count/%C3%A9"]:
            self.expect(b"GET " + path + close, 400, "bad_key")

    def test_a_stalled_client_is_closed_and_others_are_served(self):
        with socket.create_connection((self.server.host, self.server.port)) as stalled:
            stalled.sendall(b"GET /count HTTP/1.1\r\nHost: x\r\n")  # and never finishes
            self.assertEqual(self.server.request("GET", "/healthz")[0], 200)
            stalled.settimeout(TIMEOUT_MS / 1000 * 20)
            self.assertEqual(stalled.recv(1024), b"")  # closed by the server, no answer

    def test_pipelined_and_trickled_requests_are_each_answered_in_order(self):
        ask = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
        with socket.create_connection((self.server.host, self.server.port)) as client:
            client.settimeout(10)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Three requests in one write: parsed from what the first read left over.
            client.sendall(ask % b"/healthz" + ask % b"/nope" + ask % b"/counters/visitors")
            # Then one a byte at a time: each read finds only part of it.
            for byte in ask % b"/nope":
                client.send(bytes([byte]))
            replies = b""
            while replies.count(b"HTTP/1.1 ") < 4 or not replies.endswith(b"}"):
                chunk = client.recv(65536)
                self.assertTrue(chunk, replies)
                replies += chunk
        statuses = [int(part.split(b" ", 1)[0]) for part in replies.split(b"HTTP/1.1 ")[1:]]
        self.assertEqual(statuses, [200, 404, 200, 404])

    def test_a_client_that_does_not_read_gets_every_answer_whole(self):
        # 100 pipelined requests for a 51 KB file, 5 MB of answers that the client reads only
        # once all are sent: far more than the socket buffers hold, so the server must wait
        # for room and carry on where each write stopped.
        expected = open(os.path.join(ROOT, "web/vendor/uplot/uPlot.iife.min.js"), "rb").read()
        ask = b"GET /uPlot.iife.min.js HTTP/1.1\r\nHost: x\r\n\r\n"
        with Server(env=ADMIN_ENV) as owner, socket.socket() as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            client.settimeout(10)
            client.connect((owner.host, owner.port))
            client.sendall(ask * 100)
            reply = bytearray()
            while len(reply) < 100 * len(expected) or not reply.endswith(expected):
                chunk = client.recv(1 << 20)
                self.assertTrue(chunk, "closed after %d bytes" % len(reply))
                reply += chunk
        self.assertEqual(reply.count(b"HTTP/1.1 200 OK\r\n"), 100)
        self.assertEqual(reply.count(expected), 100)

    def test_a_silent_client_is_closed(self):
        with socket.create_connection((self.server.host, self.server.port)) as silent:
            silent.settimeout(TIMEOUT_MS / 1000 * 20)
            self.assertEqual(silent.recv(1024), b"")


if __name__ == "__main__":
    unittest.main()
