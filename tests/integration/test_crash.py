"""Durability: kill -9 under load, restart, and no acknowledged hit is lost.

After a crash the count must be at least (count before + hits answered 200) and at most
(count before + requests sent). Repeated over several rounds on the same file."""
import json
import shutil
import tempfile
import threading
import unittest

from server import Server, send

ROUNDS, CLIENTS, ACKS_BEFORE_KILL = 5, 8, 300


class Load:
    def __init__(self, server):
        self.server = server
        self.lock = threading.Condition()
        self.sent = self.acked = self.highest = 0
        self.threads = [threading.Thread(target=self.client) for _ in range(CLIENTS)]

    def client(self):
        try:
            conn = self.server.connection(timeout=5)
            while True:
                with self.lock:
                    self.sent += 1
                status, _, body = send(conn, "POST", "/count")
                if status != 200:
                    return
                with self.lock:
                    self.acked += 1
                    self.highest = max(self.highest, json.loads(body)["count"])
                    self.lock.notify_all()
        except (OSError, ValueError, Exception):  # the server died under us
            return

    def run_until(self, acks):
        for t in self.threads:
            t.start()
        with self.lock:
            self.lock.wait_for(lambda: self.acked >= acks, timeout=60)

    def join(self):
        for t in self.threads:
            t.join()


class CrashTest(unittest.TestCase):
    def test_kill9_under_load_loses_no_acknowledged_hit(self):
        workdir = tempfile.mkdtemp(prefix="vc-crash-")
        self.addCleanup(shutil.rmtree, workdir, True)
        for round_ in range(ROUNDS):
            with Server(workdir=workdir) as s:
                before = s.count()
                load = Load(s)
                load.run_until(ACKS_BEFORE_KILL)
                s.kill9()
                load.join()
            self.assertGreaterEqual(load.acked, ACKS_BEFORE_KILL)
            with Server(workdir=workdir) as s:
                after = s.count()
            self.assertGreaterEqual(after, before + load.acked, "round %d" % round_)
            self.assertGreaterEqual(after, load.highest, "round %d" % round_)
            self.assertLessEqual(after, before + load.sent, "round %d" % round_)


if __name__ == "__main__":
    unittest.main()
