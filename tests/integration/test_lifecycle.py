"""Start-up and shutdown: --help, bad flags and unusable stores fail with one line and a
non-zero exit; SIGTERM and SIGINT stop gracefully with exit 0: new connections are refused,
idle keep-alive connections closed at once, and hits in flight answered; configuration
from VC_*."""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from dynalite import DUMMY_CREDENTIALS
from fake_dynamodb import FakeDynamoDb
from server import BINARY, Server


def run(*args, env=None):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=20,
                          env={**os.environ, **(env or {})}, cwd=tempfile.mkdtemp())



def pending(server):
    """The server's vc_pending: hits and reads accepted and not yet answered."""
    text = server.request("GET", "/metrics")[2]
    return int(re.search(r"^vc_pending (\d+)$", text, re.M).group(1))

class LifecycleTest(unittest.TestCase):
    def assert_one_line_error(self, result, words):
        self.assertNotEqual(result.returncode, 0)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("visitor-counter: "), lines[0])
        self.assertIn(words, lines[0])

    def test_help_lists_flags_with_defaults(self):
        result = run("--help")
        self.assertEqual(result.returncode, 0)
        for text in ["--listen", "VC_LISTEN", "127.0.0.1:8080", "--store", "sqlite:var/counter.db",
                     "--allow-origin", "--require-origin", "--sync", "--threads"]:
            self.assertIn(text, result.stdout)

    def test_healthcheck_asks_the_running_server(self):
        with Server() as s:
            where = "%s:%d" % (s.host, s.port)
            self.assertEqual(run("healthcheck", "--listen", where).returncode, 0)
            self.assertEqual(run("healthcheck", env={"VC_LISTEN": where}).returncode, 0)
            # serve listening on every address is asked on loopback
            self.assertEqual(run("healthcheck", env={"VC_LISTEN": "0.0.0.0:%d" % s.port})
                             .returncode, 0)
        gone = run("healthcheck", "--listen", where)
        self.assertEqual(gone.returncode, 1)
        self.assertIn("GET /healthz", gone.stderr)
        self.assertEqual(run("healthcheck", "--listen", "nohost").returncode, 2)
        self.assertEqual(run("healthcheck", "--timeout-ms", "0").returncode, 2)

    def test_healthcheck_fails_when_the_store_does_not_answer(self):
        # Nothing listens on port 1: /healthz answers 503, and the check says so.
        down = "dynamodb://vc-table?region=us-east-1&endpoint=http://127.0.0.1:1&max_attempts=1"
        with Server(store=down, env=DUMMY_CREDENTIALS) as s:
            result = run("healthcheck", "--listen", "%s:%d" % (s.host, s.port))
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("answered 503", result.stderr)

    def test_bad_flags(self):
        self.assert_one_line_error(run("serve", "--frobnicate"), "--frobnicate")
        self.assert_one_line_error(run("serve", "--sync", "maybe"), "--sync")
        self.assert_one_line_error(run("serve", "--allow-origin", "https://a.example/"),
                                   "https://a.example/")
        self.assert_one_line_error(run("serve", "--store", "nosuch:x"), "nosuch:x")

    def test_unusable_stores(self):
        folder = tempfile.mkdtemp()
        with open(os.path.join(folder, "corrupt.db"), "wb") as f:
            f.write(b"this is not an sqlite database" * 300)
        self.assert_one_line_error(run("serve", "--listen", "127.0.0.1:0", "--store",
                                       "sqlite:" + os.path.join(folder, "corrupt.db")),
                                   "not a database")
        with open(os.path.join(folder, "plainfile"), "w") as f:
            f.write("x")
        self.assert_one_line_error(run("serve", "--listen", "127.0.0.1:0", "--store",
                                       "sqlite:" + os.path.join(folder, "plainfile", "c.db")),
                                   "cannot")

    def test_port_in_use(self):
        with Server() as s:
            result = run("serve", "--listen", "127.0.0.1:%d" % s.port, "--store", "memory:")
            self.assert_one_line_error(result, "cannot listen")

    def test_sigterm_and_sigint_stop_gracefully(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            s = Server().start()
            s.request("GET", "/count")
            code, out, err = s.stop(sig)
            self.assertEqual(code, 0, err)
            self.assertIn("stopped", out)
            with Server(workdir=s.workdir) as again:
                self.assertEqual(again.count(), 1)

    def test_sigterm_answers_hits_in_flight_and_closes_idle_connections(self):
        # Every DynamoDB call takes 1 s: the hits are at the store for 2 s (a mark, then the
        # counter beside its day row) when SIGTERM comes, well within their 3 s deadline.
        with FakeDynamoDb(latency=1.0, scheduled=lambda operation, body: True) as fake, \
                Server(store=fake.store_url(), env=DUMMY_CREDENTIALS) as s:
            self.assertEqual(s.request("POST", "/count/warm-up")[0], 200)  # the day's salt
            idle = []
            for _ in range(3):  # kept-alive connections that asked once and wait
                conn = s.connection(timeout=10)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                idle.append(conn)
            answers = []

            def hit(key):
                answers.append(s.request("POST", "/count/" + key))

            hits = [threading.Thread(target=hit, args=("in-flight-%d" % i,)) for i in range(5)]
            for t in hits:
                t.start()
            # All five at the server (accepted, or already answered on a busy machine) and
            # one at the store: a hit still connecting at SIGTERM would be refused.
            deadline = time.monotonic() + 10
            while pending(s) + len(answers) < 5 or fake.stats()["in_flight"] == 0:
                self.assertLess(time.monotonic(), deadline, "the hits did not reach the store")
                time.sleep(0.01)
            s.proc.send_signal(signal.SIGTERM)
            for conn in idle:  # closed by the server while the hits are still at the store
                self.assertEqual(conn.sock.recv(1), b"")
            self.assertLess(len(answers), 5, "the idle connections were closed only at the end")
            for t in hits:
                t.join()
            self.assertEqual(s.proc.wait(timeout=15), 0)
            self.assertEqual(sorted(status for status, _, _ in answers), [200] * 5,
                             [json.loads(body) for _, _, body in answers])
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection((s.host, s.port), timeout=5)

    def test_the_servers_own_page_counts_without_an_allow_list(self):
        # Listening on a loopback address without --public-url: the printed URL is exempt.
        with Server() as s:
            own = "http://%s:%d" % (s.host, s.port)
            self.assertEqual(s.request("POST", "/count", {"Origin": own})[0], 200)
            self.assertEqual(s.request("POST", "/count", {"Origin": "http://127.0.0.1:1"})[0], 403)
            self.assertEqual(s.count(), 1)
        with Server("--listen", "[::1]:0") as s:
            self.assertEqual(s.host, "::1")
            own = "http://[::1]:%d" % s.port
            self.assertEqual(s.request("POST", "/count", {"Origin": own})[0], 200)

    def test_an_origin_naming_the_host_header_is_not_exempt(self):
        # Anyone can point a domain at the server; the Host header proves nothing.
        with Server() as s:
            for host in ["evil.example", "evil.example:%d" % s.port]:
                status, _, body = s.request("POST", "/count",
                                            {"Host": host, "Origin": "http://" + host})
                self.assertEqual(status, 403, body)
            self.assertEqual(s.count(), 0)

    def test_only_the_public_url_is_exempt(self):
        with Server("--public-url", "https://counter.example/") as s:
            self.assertEqual(s.request("POST", "/count", {"Origin": "https://counter.example"})[0],
                             200)
            own = "http://%s:%d" % (s.host, s.port)  # no longer exempt
            self.assertEqual(s.request("POST", "/count", {"Origin": own})[0], 403)
            self.assertEqual(s.request("POST", "/count", {"Host": "counter.example",
                                                          "Origin": "http://counter.example"})[0],
                             403)
            self.assertEqual(s.count(), 1)
        with Server(env={"VC_PUBLIC_URL": "http://counter.example:8080"}) as s:
            self.assertEqual(
                s.request("GET", "/count", {"Origin": "http://counter.example:8080"})[0], 200)

    def test_no_exemption_when_listening_on_all_addresses(self):
        with Server("--listen", "0.0.0.0:0") as s:
            for origin in ["http://0.0.0.0:%d" % s.port, "http://127.0.0.1:%d" % s.port]:
                self.assertEqual(s.request("POST", "/count", {"Origin": origin})[0], 403)

    def test_a_public_url_with_a_path_is_refused(self):
        for url in ["https://counter.example/demo", "https://counter.example?x=1", "counter.example"]:
            self.assert_one_line_error(run("serve", "--listen", "127.0.0.1:0", "--store", "memory:",
                                           "--public-url", url), "public URL")
        self.assert_one_line_error(run("serve", "--store", "memory:",
                                       env={"VC_PUBLIC_URL": "http://h/x"}), "public URL")

    def test_configuration_from_the_environment(self):
        with Server(env={"VC_ALLOW_ORIGINS": "https://a.example", "VC_REQUIRE_ORIGIN": "1"}) as s:
            self.assertEqual(s.request("GET", "/count")[0], 403)
            self.assertEqual(s.request("GET", "/count", {"Origin": "https://a.example"})[0], 200)


if __name__ == "__main__":
    unittest.main()
