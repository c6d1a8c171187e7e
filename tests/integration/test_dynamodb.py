"""The DynamoDB store against dynalite: 16 clients x 250 hits count exactly 4000 with
distinct, gap-free answers, in the classic item shape (`id` = "visitors", number `count`,
beside it `visitors`), with the counting policy's items beside the counter (its day's row,
the visitor's mark, the day's salt); reads and /healthz work; a live stream hears of a hit
made through another process; a missing table fails fast with 503 + Retry-After and is
logged; missing credentials stop start-up with one line."""
import json
import os
import subprocess
import tempfile
import unittest

from dynalite import DUMMY_CREDENTIALS, TablePerTest, check_policy_items
from owner import ADMIN_ENV, BEARER
from server import BINARY, Clients, Server
from sse import StreamClient

CLIENTS, HITS = 16, 250


class DynamoDbStoreTest(TablePerTest, unittest.TestCase):
    def server(self, table, *args):
        return Server(*args, store=self.dynalite.store_url(table), env=DUMMY_CREDENTIALS)

    def test_a_hit_through_another_process_shows_on_a_stream(self):
        table = self.new_table()
        with self.server(table) as watching, self.server(table, "--count-unit", "views") as other:
            with StreamClient(watching, "/stream/live") as stream:
                self.assertEqual(stream.event()[1]["views"], 0)
                self.assertEqual(other.request("POST", "/count/live",
                                               {"User-Agent": "Mozilla/5.0 (X11)"})[0], 200)
                _, data = stream.event_where(lambda d: d["views"] == 1)
                self.assertEqual(data["key"], "live")

    def test_sixteen_clients_count_exactly(self):
        table = self.new_table()
        with self.server(table) as s:
            values = sorted(Clients(s, CLIENTS, HITS).run())
            self.assertEqual(values, list(range(1, CLIENTS * HITS + 1)))
            status, _, body = s.request("GET", "/counters/visitors")
            self.assertEqual(status, 200, body)
            # Every client is one visitor: the same address, no User-Agent.
            self.assertEqual(json.loads(body), {"key": "visitors", "count": CLIENTS * HITS,
                                                "views": CLIENTS * HITS, "visitors": 1})
        # The classic item shape (plus `visitors`), so the Python handler can share the table.
        self.assertEqual(self.dynalite.item(table, "visitors"),
                         {"id": {"S": "visitors"}, "count": {"N": str(CLIENTS * HITS)},
                          "visitors": {"N": "1"}})
        items = self.dynalite.scan(table)
        check_policy_items(self, items, "visitors", views=CLIENTS * HITS, visitors=1)
        self.assertEqual(len(items), 4)  # the counter, its day row, one mark, the day's salt

    def test_keys_reads_and_health(self):
        table = self.new_table()
        with self.server(table) as s:
            self.assertEqual(s.request("GET", "/healthz")[0], 200)
            self.assertEqual(s.request("GET", "/counters/page/home")[0], 404)
            for expected in (1, 2, 3):
                status, _, body = s.request("POST", "/count/page/home")
                self.assertEqual((status, json.loads(body)["count"]), (200, expected))
            self.assertEqual(s.count("page/home"), 3)
            self.assertEqual(s.count("visitors"), 0)
        self.assertEqual(self.dynalite.item(table, "page/home")["count"], {"N": "3"})
        check_policy_items(self, self.dynalite.scan(table), "page/home", views=3, visitors=1)

    def test_max_counters_is_kept_across_processes(self):
        # Two processes share the count of counters (the item #counters): a third counter is
        # refused by either, and writes nothing of itself; existing counters go on.
        table = self.new_table()
        with self.server(table, "--max-counters", "2") as first, \
                self.server(table, "--max-counters", "2") as second:
            self.assertEqual(first.request("POST", "/count/a")[0], 200)
            self.assertEqual(second.request("POST", "/count/b")[0], 200)
            for s in (first, second):
                status, _, body = s.request("POST", "/count/c")
                self.assertEqual((status, json.loads(body)["error"]), (403, "too_many_counters"))
            self.assertEqual(second.request("POST", "/count/a")[0], 200)  # known to second now
            self.assertEqual(first.request("POST", "/count/b")[0], 200)
            self.assertIn("vc_new_counters_refused_total 1\n", first.request("GET", "/metrics")[2])
        ids = sorted(item["id"]["S"] for item in self.dynalite.scan(table))
        self.assertEqual([i for i in ids if i.startswith("c")], [], "the refused key wrote items")
        self.assertEqual(self.dynalite.item(table, "#counters")["count"], {"N": "2"})
        self.assertEqual(self.dynalite.item(table, "a")["count"], {"N": "2"})

    def test_only_the_owner_creates_counters(self):
        table = self.new_table()
        with Server("--owner-creates-counters", store=self.dynalite.store_url(table),
                    env={**DUMMY_CREDENTIALS, **ADMIN_ENV}) as s:
            status, _, body = s.request("POST", "/count/new")
            self.assertEqual((status, json.loads(body)["error"]), (404, "unknown_counter"))
            self.assertEqual([item["id"]["S"] for item in self.dynalite.scan(table)
                              if item["id"]["S"].startswith("new")], [])
            status = s.request("PUT", "/counters/new", BEARER, '{"views":0,"visitors":0}')[0]
            self.assertEqual(status, 200)
            status, _, body = s.request("POST", "/count/new")
            self.assertEqual((status, json.loads(body)["count"]), (200, 1))
            self.assertEqual(s.request("DELETE", "/counters/new", BEARER)[0], 200)
        # Without --max-counters, a removal leaves no count of counters behind.
        self.assertIsNone(self.dynalite.item(table, "#counters"))

    def test_processes_share_the_days_salt(self):
        # Two processes, one after the other and then side by side: the second keeps the
        # salt the first wrote (if_not_exists), so one reader is one visitor across them.
        table = self.new_table()
        reader = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Firefox/145.0"}
        with self.server(table) as first:
            self.assertEqual(first.request("GET", "/count/shared", reader)[0], 200)
            salt = [item for item in self.dynalite.scan(table)
                    if item["id"]["S"].startswith("#salt#")]
            with self.server(table, "--repeat-window", "0") as second:
                status, _, body = second.request("GET", "/count/shared", reader)
                self.assertEqual((status, json.loads(body)["count"]), (200, 2))
        self.assertEqual(self.dynalite.item(table, "shared"),
                         {"id": {"S": "shared"}, "count": {"N": "2"}, "visitors": {"N": "1"}})
        items = self.dynalite.scan(table)
        self.assertEqual([item for item in items if item["id"]["S"].startswith("#salt#")], salt)
        check_policy_items(self, items, "shared", views=2, visitors=1)

    def test_an_existing_count_continues(self):
        table = self.new_table()
        self.dynalite.call("PutItem", {"TableName": table, "Item": {
            "id": {"S": "visitors"}, "count": {"N": "1234"}}})
        with self.server(table) as s:
            status, _, body = s.request("GET", "/count")
            self.assertEqual((status, json.loads(body)), (200, {"count": 1235}))
            # An item of the classic handler has no `visitors`: it starts at 0.
            self.assertEqual(json.loads(s.request("GET", "/counters/visitors")[2]),
                             {"key": "visitors", "count": 1235, "views": 1235, "visitors": 1})

    def test_missing_table_fails_fast_with_503(self):
        s = self.server("no-such-table").start()
        try:
            status, headers, body = s.request("GET", "/count")
            self.assertEqual(status, 503, body)
            self.assertEqual(headers.get("retry-after"), "1")
            self.assertEqual(json.loads(body)["error"], "store_unavailable")
            self.assertEqual(s.request("GET", "/healthz")[0], 503)
            self.assertEqual(s.request("GET", "/counters/visitors")[0], 503)
            for _ in range(100):  # every call fails, but the log stays short
                self.assertEqual(s.request("GET", "/count")[0], 503)
        finally:
            code, _, err = s.stop()
        self.assertEqual(code, 0, err)
        lines = [l for l in err.splitlines() if "ResourceNotFoundException" in l]
        self.assertGreaterEqual(len(lines), 3, err)
        self.assertLessEqual(len(lines), 10, err)  # 5 per 10 s (two windows on a slow machine)
        self.assertRegex(err, r"\[\d+ earlier lines not logged: over 5 per 10 s\]")
        for line in lines:
            self.assertIn("table no-such-table", line)
            self.assertIn("not retryable after 1 attempt(s)", line)
            self.assertNotIn(DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"], line)

    def test_missing_credentials_stop_start_up(self):
        home = tempfile.mkdtemp()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"HOME": home, "AWS_EC2_METADATA_DISABLED": "true"})
        result = subprocess.run(
            [BINARY, "serve", "--listen", "127.0.0.1:0", "--store",
             self.dynalite.store_url("counters")],
            capture_output=True, text=True, timeout=20, env=env, cwd=home)
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.stderr.strip(),
                         "visitor-counter: no AWS credentials: none in the environment "
                         "(AWS_ACCESS_KEY_ID), the shared files (profile default), web identity "
                         "or ECS; instance metadata is disabled")
        # With instance metadata on, an unreachable service ends the chain the same way.
        env.update({"AWS_EC2_METADATA_DISABLED": "",
                    "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"})
        result = subprocess.run(
            [BINARY, "serve", "--listen", "127.0.0.1:0", "--store",
             self.dynalite.store_url("counters")],
            capture_output=True, text=True, timeout=20, env=env, cwd=home)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("no AWS credentials", result.stderr)
        self.assertIn("EC2 instance metadata (IMDSv2)", result.stderr)

    def test_bad_store_url_stops_start_up(self):
        result = subprocess.run(
            [BINARY, "serve", "--listen", "127.0.0.1:0", "--store", "dynamodb://x?region=us-east-1"],
            capture_output=True, text=True, timeout=20, env={**os.environ, **DUMMY_CREDENTIALS},
            cwd=tempfile.mkdtemp())
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("table name", result.stderr)


if __name__ == "__main__":
    unittest.main()
