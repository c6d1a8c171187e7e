"""deploy/systemd/visitor-counter.service: systemd-analyze verifies it (with ExecStart
pointing at the built binary), its offline security exposure stays low, the hardening the
README promises is there, and the binary starts with the unit's own flags."""
import os
import re
import shlex
import signal
import subprocess
import tempfile
import unittest

UNIT = os.path.join(os.path.dirname(__file__), "../../deploy/systemd/visitor-counter.service")
BINARY = os.path.abspath(os.environ.get("VC_BINARY", "../../build/release/visitor-counter"))


def unit_text():
    with open(UNIT) as f:
        return f.read()


def exec_start(text):
    """The ExecStart command line, continuation lines joined, as a list of words."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return shlex.split(re.search(r"^ExecStart=(.*)$", joined, re.M).group(1))


class SystemdUnitTest(unittest.TestCase):
    def local_copy(self, folder):
        path = os.path.join(folder, "visitor-counter.service")
        with open(path, "w") as f:
            f.write(unit_text().replace("/usr/local/bin/visitor-counter", BINARY))
        return path

    def test_systemd_analyze_verifies_it(self):
        with tempfile.TemporaryDirectory() as folder:
            done = subprocess.run(["systemd-analyze", "verify", self.local_copy(folder)],
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertNotIn("visitor-counter.service", done.stderr)  # no warning about it

    def test_its_exposure_is_low(self):
        with tempfile.TemporaryDirectory() as folder:
            done = subprocess.run(["systemd-analyze", "security", "--offline=true",
                                   self.local_copy(folder)], capture_output=True, text=True,
                                  timeout=60)
            score = float(re.search(r"Overall exposure level for \S+: ([\d.]+)",
                                    done.stdout).group(1))
            self.assertLessEqual(score, 2.0, done.stdout)

    def test_the_promised_hardening(self):
        text = unit_text()
        for line in ["DynamicUser=yes", "StateDirectory=visitor-counter", "ProtectSystem=strict",
                     "NoNewPrivileges=yes", "ProtectHome=yes", "PrivateTmp=yes",
                     "CapabilityBoundingSet=\n", "MemoryDenyWriteExecute=yes",
                     "SystemCallFilter=@system-service"]:
            self.assertIn(line, text)

    def test_the_binary_starts_with_the_units_flags(self):
        with tempfile.TemporaryDirectory() as state:
            args = [a.replace("${STATE_DIRECTORY}", state) for a in exec_start(unit_text())[1:]]
            args = [re.sub(r"^127\.0\.0\.1:\d+$", "127.0.0.1:0", a) for a in args]
            proc = subprocess.Popen([BINARY, *args], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            line = proc.stdout.readline()
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
            self.assertIn("listening on http://127.0.0.1:", line, err)
            self.assertIn("(metrics on http://127.0.0.1:", line)
            self.assertEqual(proc.returncode, 0, err)
            self.assertTrue(os.path.exists(os.path.join(state, "counter.db")))


if __name__ == "__main__":
    unittest.main()
