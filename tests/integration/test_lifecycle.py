"""Start-up and shutdown: --help, bad flags and unusable stores fail with one line and a
non-zero exit; SIGTERM and SIGINT stop gracefully with exit 0; configuration from VC_*."""
import os
import signal
import subprocess
import tempfile
import unittest

from server import BINARY, Server


def run(*args, env=None):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=20,
                          env={**os.environ, **(env or {})}, cwd=tempfile.mkdtemp())


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

    def test_the_servers_own_page_counts_without_an_allow_list(self):
        with Server() as s:
            own = "http://%s:%d" % (s.host, s.port)
            self.assertEqual(s.request("POST", "/count", {"Origin": own})[0], 200)
            self.assertEqual(s.request("POST", "/count", {"Origin": "http://127.0.0.1:1"})[0], 403)
            self.assertEqual(s.count(), 1)

    def test_configuration_from_the_environment(self):
        with Server(env={"VC_ALLOW_ORIGINS": "https://a.example", "VC_REQUIRE_ORIGIN": "1"}) as s:
            self.assertEqual(s.request("GET", "/count")[0], 403)
            self.assertEqual(s.request("GET", "/count", {"Origin": "https://a.example"})[0], 200)


if __name__ == "__main__":
    unittest.main()
