"""`visitor-counter backup` against the real binary: a consistent copy of a SQLite store
taken while a server counts into it, which opens as a store and passes SQLite's integrity
check; the documented restore (stop, put the copy in place, start) brings back exactly the
copy's counts; a database of more than 50 MB is copied while the counting goes on (a copy
in steps starts over at every write between them, and never finished under load); and
stores that are not SQLite are refused."""
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import unittest

from owner import run_cli
from server import BINARY, Server, send


class Load:
    """One client counting `key` on a kept-alive connection until stopped."""

    def __init__(self, server, key):
        self.stop_event, self.sent, self.acked = threading.Event(), 0, 0
        self.thread = threading.Thread(target=self.run, args=(server, key))
        self.thread.start()

    def run(self, server, key):
        conn = server.connection()
        while not self.stop_event.is_set():
            self.sent += 1
            if send(conn, "GET", "/count/" + key)[0] == 200:
                self.acked += 1
        conn.close()

    def stop(self):
        self.stop_event.set()
        self.thread.join()


class BackupTest(unittest.TestCase):
    def test_a_backup_taken_under_load_is_consistent_and_restores(self):
        with Server() as s:
            for _ in range(50):
                self.assertEqual(s.request("GET", "/count/page")[0], 200)
            stop, sent = threading.Event(), [0]

            def load():
                conn = s.connection()
                while not stop.is_set():
                    sent[0] += 1
                    send(conn, "GET", "/count/page")
                conn.close()

            thread = threading.Thread(target=load)
            thread.start()
            copy = os.path.join(s.workdir, "copy.db")
            code, _, err = run_cli("backup", "--store", "sqlite:" + s.db_path, "--output", copy)
            stop.set()
            thread.join()
            self.assertEqual(code, 0, err)
            self.assertIn("copied to", err)
            self.assertFalse(os.path.exists(copy + ".partial"))
            with sqlite3.connect(copy) as db:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
                [(backed_up,)] = db.execute("SELECT count FROM counters WHERE id = 'page'")
                # No salt and no visitor mark: a kept backup cannot tie a visitor id to an
                # address. The copy is one file (not in WAL mode).
                self.assertEqual(db.execute("SELECT count(*) FROM salts").fetchone(), (0,))
                self.assertEqual(db.execute("SELECT count(*) FROM marks").fetchone(), (0,))
                self.assertEqual(db.execute("PRAGMA journal_mode").fetchone(), ("delete",))
            self.assertFalse(os.path.exists(copy + "-wal"))
            with sqlite3.connect(s.db_path) as live:
                [(salt,)] = live.execute("SELECT salt FROM salts")
                [(mark,)] = live.execute("SELECT visitor FROM marks LIMIT 1")
            with open(copy, "rb") as f:
                raw = f.read()
            self.assertNotIn(bytes(salt), raw)  # overwritten, not just unlinked from the tree
            self.assertNotIn(mark.encode() if isinstance(mark, str) else bytes(mark), raw)
            self.assertGreaterEqual(backed_up, 50)
            self.assertLessEqual(backed_up, 50 + sent[0])
            self.assertEqual(s.stop()[0], 0)
            # Restore, as the README says: stop, remove the WAL and shared memory, copy.
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(s.db_path + suffix):
                    os.remove(s.db_path + suffix)
            shutil.copy(copy, s.db_path)
            with Server(workdir=s.workdir) as restored:
                self.assertEqual(restored.count("page"), backed_up)
                status, _, body = restored.request("GET", "/count/page")
                self.assertEqual((status, body), (200, '{"count":%d}' % (backed_up + 1)))

    def test_a_big_database_is_copied_while_counting_goes_on(self):
        with Server() as s:
            self.assertEqual(s.request("GET", "/count/page")[0], 200)  # the schema exists
            with sqlite3.connect(s.db_path) as db:  # 400,000 counters, about 60 MB
                db.executemany("INSERT INTO counters (id, count, visitors) VALUES (?, 1, 1)",
                               (("filler/%06d/%s" % (i, "x" * 100),) for i in range(400000)))
            self.assertGreater(os.path.getsize(s.db_path) + os.path.getsize(s.db_path + "-wal"),
                               50 << 20)
            load = Load(s, "page")
            copy = os.path.join(s.workdir, "copy.db")
            started = time.monotonic()
            try:
                done = subprocess.run([BINARY, "backup", "--store", "sqlite:" + s.db_path,
                                       "--output", copy], capture_output=True, text=True,
                                      timeout=60)
                acked_meanwhile, took = load.acked, time.monotonic() - started
            finally:
                load.stop()
            print("\nbackup of %.0f MB: %.2f s, %d hits counted meanwhile"
                  % (os.path.getsize(copy) / 1e6, took, acked_meanwhile), file=sys.stderr)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertGreater(acked_meanwhile, 0, "nothing counted during the backup")
            with sqlite3.connect(copy) as db:
                self.assertEqual(db.execute("PRAGMA quick_check").fetchall(), [("ok",)])
                [(counters,)] = db.execute("SELECT count(*) FROM counters")
                [(page,)] = db.execute("SELECT count FROM counters WHERE id = 'page'")
            self.assertEqual(counters, 400001)
            self.assertGreaterEqual(page, 1)
            self.assertLessEqual(page, 1 + load.sent)

    def test_only_sqlite_stores(self):
        code, _, err = run_cli("backup", "--store", "memory:", "--output", "/tmp/x.db")
        self.assertEqual(code, 2)
        self.assertIn("backup copies sqlite:PATH stores", err)
        code, _, err = run_cli("backup", "--store", "sqlite:/nonexistent/dir/c.db", "--output",
                               "/tmp/vc-backup-never.db")
        self.assertEqual(code, 1)
        self.assertIn("cannot open", err)


if __name__ == "__main__":
    unittest.main()
