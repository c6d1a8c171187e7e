"""export and import against the real binary: round trips that export byte for byte the same
(SQLite to SQLite, SQLite to DynamoDB), the classic seed table migrated to SQLite, a CSV
import, `set` that changes nothing the second time and `add` that adds, --dry-run, and bad
files that are reported by line and change nothing."""
import os
import pty
import sqlite3
import subprocess
import tempfile
import unittest

from dynalite import DUMMY_CREDENTIALS, TablePerTest
from owner import HEADER, day, export_text, run_cli
from server import BINARY, Server

SAMPLE = export_text([
    ("a", 10, 4, [(day(-3), 3, 1), (day(-1), 7, 3)]),
    ("blog/2026/hello-world", 5, 5, [(day(-400), 5, 5)]),
    ("visitors", 1234, 0, []),
])


class Transfer(TablePerTest, unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="vc-transfer-")

    def tearDown(self):
        self.dir.cleanup()

    def sqlite(self, name):
        return "sqlite:" + os.path.join(self.dir.name, name + ".db")

    def dynamodb(self):
        return self.dynalite.store_url(self.new_table())

    def export(self, store):
        path = os.path.join(self.dir.name, "export.jsonl")
        code, out, err = run_cli("export", "--store", store, "--output", path,
                                 env=DUMMY_CREDENTIALS)
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "")
        self.assertRegex(err, r"^exported \d+ counters in [\d.]+ s \(\d+/s\)\n$")
        with open(path) as f:
            return f.read()

    def import_(self, store, text, *flags, code=0):
        done, out, err = run_cli("import", "--store", store, *flags, stdin=text,
                                 env=DUMMY_CREDENTIALS)
        self.assertEqual(done, code, err)
        return err

    def test_sqlite_round_trip_exports_the_same_bytes(self):
        self.import_(self.sqlite("one"), SAMPLE)
        first = self.export(self.sqlite("one"))
        self.assertEqual(first, SAMPLE)
        self.import_(self.sqlite("two"), first)
        self.assertEqual(self.export(self.sqlite("two")), first)

    def test_sqlite_to_dynamodb_and_back(self):
        self.import_(self.sqlite("one"), SAMPLE)
        table = self.dynamodb()
        err = self.import_(table, self.export(self.sqlite("one")))
        self.assertRegex(err, r"imported 3 counters in")
        self.assertEqual(self.export(table), SAMPLE)
        with Server(store=table, env=DUMMY_CREDENTIALS) as s:
            self.assertEqual(s.count("blog/2026/hello-world"), 5)
            status, _, body = s.request("GET", "/history/a")
            self.assertIn('{"date":"%s","views":7,"visitors":3}' % day(-1), body)

    def test_classic_table_migrates_to_sqlite(self):
        table = self.new_table()
        for key, count in [("visitors", 4711), ("blog", 7)]:
            status, answer = self.dynalite.call("PutItem", {
                "TableName": table, "Item": {"id": {"S": key}, "count": {"N": str(count)}}})
            self.assertEqual(status, 200, answer)
        exported = self.export(self.dynalite.store_url(table))
        self.assertEqual(exported, HEADER + "\n"
                         '{"key":"blog","views":7,"visitors":0,"days":[]}\n'
                         '{"key":"visitors","views":4711,"visitors":0,"days":[]}\n')
        self.import_(self.sqlite("new"), exported)
        with Server(store=self.sqlite("new")) as s:
            status, _, body = s.request("GET", "/count")
            self.assertEqual((status, body), (200, '{"count":4712}'))

    def test_csv_import(self):
        self.import_(self.sqlite("csv"), 'key,count\nhome,10\n"docs/intro",25\n')
        self.assertEqual(self.export(self.sqlite("csv")), HEADER + "\n"
                         '{"key":"docs/intro","views":25,"visitors":0,"days":[]}\n'
                         '{"key":"home","views":10,"visitors":0,"days":[]}\n')

    def test_set_twice_changes_nothing_and_add_adds(self):
        store = self.sqlite("modes")
        self.import_(store, SAMPLE)
        self.import_(store, SAMPLE, "--mode", "set")
        self.assertEqual(self.export(store), SAMPLE)
        self.import_(store, export_text([("a", 1, 1, [(day(-1), 1, 1)])]), "--mode", "add")
        with sqlite3.connect(store[len("sqlite:"):]) as db:
            self.assertEqual(db.execute("SELECT count, visitors FROM counters WHERE id = 'a'")
                             .fetchall(), [(11, 5)])
            self.assertEqual(db.execute("SELECT views, visitors FROM days WHERE key = 'a' AND "
                                        "day = ?", (day(-1),)).fetchall(), [(8, 4)])

    def test_a_terminal_gets_a_progress_bar(self):
        source = os.path.join(self.dir.name, "in.jsonl")
        with open(source, "w") as f:
            f.write(SAMPLE)
        controller, terminal = pty.openpty()
        try:
            done = subprocess.run([BINARY, "import", "--store", self.sqlite("tty"), "--input",
                                   source], stderr=terminal, stdout=subprocess.DEVNULL,
                                  timeout=60)
            os.close(terminal)
            terminal = None
            shown = b""
            while True:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # EIO: the terminal's other end is closed
                    break
                if not chunk:
                    break
                shown += chunk
        finally:
            if terminal is not None:
                os.close(terminal)
            os.close(controller)
        self.assertEqual(done.returncode, 0)
        text = shown.decode()
        self.assertRegex(text, r"\r\[=+\] 3/3 counters  \d+/s  ETA 0 s")
        self.assertRegex(text, r"\r\x1b\[Kimported 3 counters in [\d.]+ s")

    def test_dry_run_and_bad_files_write_nothing(self):
        store = self.sqlite("bad")
        self.import_(store, SAMPLE)
        before = self.export(store)
        err = self.import_(store, export_text([("new", 1, 1, [])]), "--dry-run")
        self.assertIn("1 counters and 0 days are valid; --dry-run: nothing was written", err)
        bad = SAMPLE.replace('"key":"visitors"', '"key":"bad key"')
        err = self.import_(store, export_text([("fresh", 1, 1, [])]) + bad.split("\n", 1)[1],
                           code=2)
        self.assertIn("line 5: key must be", err)
        self.assertIn("nothing was written", err)
        err = self.import_(self.dynamodb(), "key,count\nok,1\nworse,-3\n", code=2)
        self.assertIn("line 3: count must be a whole number", err)
        self.assertEqual(self.export(store), before)
        self.import_(store, "", "--mode", "sometimes", code=2)


if __name__ == "__main__":
    unittest.main()
