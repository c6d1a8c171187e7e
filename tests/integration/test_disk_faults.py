"""Disk faults under a running server: a failed fsync, and a full disk.

A failed fsync stops acknowledgements, and a restart makes the log durable before serving.

Linux reports a write-back error to fsync once: the lost pages are then marked clean, so the
next fsync succeeds without them, and SQLite's WAL recovery after a power cut stops at the
first frame whose checksum fails, dropping every commit after it. powerfs.py (see
test_power_loss.py) fails one fdatasync of the WAL that way while the server counts under
load. Then:

- no hit sent after the failure is answered 200; they get 503 `store_halted`, and /healthz,
  /metrics and stderr say why; after a power cut the disk holds every hit answered 200;
- a server restarted (after kill -9) on the same file system, whose page cache still returns
  the lost frames, writes them durably before it serves: after a power cut the disk holds
  every hit either server answered 200.

Both fail on a server that goes on acknowledging after the failure, or that appends to the
WAL after the lost frames without writing them again.

A full disk (a small tmpfs, mounted by the test: it runs as root, as CI does) fails the
hits `503 not_counted` while /healthz says `store_cannot_write`; once space is freed the
next hit counts, /healthz is 200 again, and no acknowledged hit is lost.
"""
import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from server import Server, send
from test_power_loss import PowerFSTestCase

CLIENTS = 8
BEFORE = 300  # hits answered 200 before the failure is injected
AFTER = 300   # hits sent after it, before the power is cut


class Load:
    """CLIENTS threads counting on kept-alive connections, whatever the answers, until stopped
    or the server goes away. Each answer is kept with whether its request was sent after
    `mark()`."""

    def __init__(self, server):
        self.server = server
        self.lock = threading.Condition()
        self.sent = 0
        self.marked = False
        self.answers = []  # (sent after mark(), status, body)
        self.stopping = False
        self.threads = [threading.Thread(target=self.client) for _ in range(CLIENTS)]
        for t in self.threads:
            t.start()

    def client(self):
        try:
            conn = self.server.connection(timeout=20)
            while not self.stopping:
                with self.lock:
                    self.sent += 1
                    after = self.marked
                status, _, body = send(conn, "POST", "/count")
                with self.lock:
                    self.answers.append((after, status, body))
                    self.lock.notify_all()
        except Exception:  # the power went out, or the server was killed, under us
            return

    def mark(self):
        with self.lock:
            self.marked = True

    def wait(self, done, timeout=60):
        """Waits until done(answers) holds, tested at each answer; False on timeout."""
        with self.lock:
            return self.lock.wait_for(lambda: done(self.answers), timeout)

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join()

    def acked(self, after=None):
        """The counts answered 200 (to requests sent after mark(), or before it, or all)."""
        with self.lock:
            return [json.loads(body)["count"] for a, status, body in self.answers
                    if status == 200 and (after is None or a == after)]


def oks(answers):
    return sum(1 for _, status, _ in answers if status == 200)


class SyncFailureTest(PowerFSTestCase):
    def setUp(self):
        super().setUp()
        self.store = "sqlite:" + os.path.join(self.fs.mnt, "counter.db")

    def fail_a_wal_sync(self, load):
        """Fails the next WAL sync once BEFORE hits are answered; returns once it failed, with
        the load's later requests marked."""
        self.assertTrue(load.wait(lambda answers: oks(answers) >= BEFORE), "no load")
        self.fs.fail_next_sync("-wal")
        deadline = time.monotonic() + 20
        while not self.fs.sync_failed():
            self.assertLess(time.monotonic(), deadline, "no WAL sync failed")
            time.sleep(0.01)
        load.mark()

    def test_no_hit_is_acknowledged_after_a_failed_sync(self):
        self.fs.mount()
        with Server("--sync", "full", store=self.store) as s:
            load = Load(s)
            self.fail_a_wal_sync(load)
            self.assertTrue(load.wait(lambda answers: sum(a for a, _, _ in answers) >= AFTER),
                            "the load stopped")
            health_status, _, health = s.request("GET", "/healthz")
            _, _, metrics = s.request("GET", "/metrics")
            after = [(status, body) for a, status, body in list(load.answers) if a]
            self.fs.cut(s)
            load.stop()
            log = "".join(s._stderr)
        acked = load.acked()
        stored = self.restart_count()
        print("\nsent %d, acknowledged %d (%d after the failure), stored %d after the cut"
              % (load.sent, len(acked), len(load.acked(after=True)), stored), file=sys.stderr)
        self.assertEqual([a for a in after if a[0] == 200], [], "answered 200 after the failure")
        self.assertTrue(all(status == 503 and json.loads(body)["error"] == "store_halted"
                            for status, body in after), after[:3])
        self.assertEqual(health_status, 503)
        self.assertEqual(json.loads(health)["error"], "store_halted")
        self.assertIn("vc_store_halted 1\n", metrics)
        self.assertIn("fdatasync of the WAL failed: Input/output error", log)
        self.assertGreaterEqual(stored, max(acked), "an answered value was lost")
        self.assertGreaterEqual(stored, len(acked), "acknowledged hits lost")
        self.assertLessEqual(stored, load.sent, "more than sent")

    def test_a_restart_after_a_failed_sync_writes_the_log_durably(self):
        self.fs.mount()
        with Server("--sync", "full", store=self.store) as first:
            load = Load(first)
            self.fail_a_wal_sync(load)
            first.proc.kill()  # a crash: no checkpoint at close
            first.proc.wait()
            load.stop()
        acked, sent = len(load.acked()), load.sent
        with Server("--sync", "full", store=self.store) as second:
            self.assertGreaterEqual(second.count(), acked)
            load = Load(second)
            self.assertTrue(load.wait(lambda answers: oks(answers) >= BEFORE), "no load")
            self.fs.cut(second)
            load.stop()
        acked_again = load.acked()
        stored = self.restart_count()
        print("\nfirst server: sent %d, acknowledged %d; second: sent %d, acknowledged %d "
              "(highest %d); stored %d after the cut"
              % (sent, acked, load.sent, len(acked_again), max(acked_again), stored),
              file=sys.stderr)
        self.assertGreaterEqual(stored, max(acked_again), "an answered value was lost")
        self.assertGreaterEqual(stored, acked + len(acked_again), "acknowledged hits lost")
        self.assertLessEqual(stored, sent + load.sent, "more than sent")


class FullDiskTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="vc-full-")
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "vc-full", self.root],
                                 capture_output=True, text=True)
        if mounted.returncode != 0:  # never a skip: CI runs the tests as root
            self.fail("cannot mount a tmpfs (the test needs root): " + mounted.stderr)
        self.addCleanup(subprocess.run, ["umount", "-l", self.root], capture_output=True)

    def fill(self):
        """Fills the file system; returns the filler's path."""
        path = os.path.join(self.root, "filler")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as e:
            self.assertEqual(e.errno, errno.ENOSPC)
        finally:
            os.close(fd)
        return path

    def test_a_full_disk_is_503_and_unhealthy_until_space_is_freed(self):
        store = "sqlite:" + os.path.join(self.root, "counter.db")
        with Server(store=store) as s:
            for i in range(5):
                self.assertEqual(s.request("POST", "/count/before-%d" % i)[0], 200)
            filler = self.fill()
            failed = []
            for i in range(50):  # new keys: new pages, a WAL that must grow
                status, _, body = s.request("POST", "/count/full-%d" % i)
                if status != 200:
                    failed.append((status, json.loads(body)))
            self.assertTrue(failed, "no hit failed on a full disk")
            for status, body in failed:
                self.assertEqual((status, body["error"], body["outcome"]),
                                 (503, "store_unavailable", "not_counted"))
            status, _, body = s.request("GET", "/healthz")
            self.assertEqual((status, json.loads(body)["error"]), (503, "store_cannot_write"))
            self.assertIn("vc_store_write_failing 1\n", s.request("GET", "/metrics")[2])
            os.unlink(filler)
            self.assertEqual(s.request("POST", "/count/after")[0], 200)
            self.assertEqual(s.request("GET", "/healthz")[0], 200)
            self.assertIn("vc_store_write_failing 0\n", s.request("GET", "/metrics")[2])
            acked = 5 + 50 - len(failed) + 1
            listed = sum(s.count(key) for key in
                         ["before-%d" % i for i in range(5)] + ["full-%d" % i for i in range(50)]
                         + ["after"])
            self.assertEqual(listed, acked)
            _, _, log = s.stop()
        self.assertIn("database or disk is full", log)


if __name__ == "__main__":
    unittest.main()
