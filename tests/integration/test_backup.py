"""`visitor-counter backup` against the real binary: a consistent copy of a SQLite store
taken while a server counts into it, which opens as a store and passes SQLite's integrity
check; the documented restore (stop, put the copy in place, start) brings back exactly the
copy's counts; and stores that are not SQLite are refused."""
import os
import shutil
import sqlite3
import threading
import unittest

from owner import run_cli
from server import Server, send


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
