"""Runs dynalite (npm `dynalite` 4.0.0, a local DynamoDB API server) for integration tests.

dynalite comes from the pinned package in ./node (package.json + package-lock.json). CI
runs `npm ci` there; when node_modules is missing this module runs it itself (under a file
lock, so parallel tests install once). Missing node or npm is an error, never a skip.

Each Dynalite listens in memory on 127.0.0.1 at a free port, with `--createTableMs 0`.
Requests to it are unsigned: dynalite checks only that an Authorization header of the
SigV4 shape and an X-Amz-Date header are present (aws-wire.md §E).
"""
import datetime
import fcntl
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
CLI = os.path.join(NODE_DIR, "node_modules", "dynalite", "cli.js")
REGION = "us-east-1"

# Dummy credentials for the server under test; dynalite never verifies them.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                     "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}

_AUTHORIZATION = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/"
                  "aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00")


def ensure_installed():
    """Installs the pinned dynalite with `npm ci` unless it is there already."""
    if os.path.exists(CLI):
        return
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise RuntimeError("dynalite is not installed and `%s` is missing: install nodejs "
                               "and npm, then run `npm ci` in %s" % (tool, NODE_DIR))
    with open(os.path.join(tempfile.gettempdir(), "vc-dynalite-npm.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(CLI):
            return
        result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0 or not os.path.exists(CLI):
            raise RuntimeError("npm ci in %s failed:\n%s%s" % (NODE_DIR, result.stdout,
                                                             result.stderr))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dynalite:
    """One dynalite process. Use as a context manager, or start() and stop()."""

    def __init__(self):
        self.port = None
        self.proc = None
        self.log = None

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def store_url(self, table, extra=""):
        """The visitor-counter --store URL for `table` on this dynalite."""
        return "dynamodb://%s?region=%s&endpoint=%s%s" % (table, REGION, self.endpoint, extra)

    def start(self, timeout=30):
        ensure_installed()
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is missing: dynalite needs Node.js >= 20")
        for _ in range(3):  # another process may grab the free port first
            self.port = free_port()
            self.log = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(
                [node, CLI, "--host", "127.0.0.1", "--port", str(self.port),
                 "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"],
                stdout=self.log, stderr=subprocess.STDOUT)
            if self._wait_ready(timeout):
                return self
            self.stop()
        raise RuntimeError("dynalite did not start")

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/")
                body = conn.getresponse().read().decode()
                conn.close()
                if body.startswith("healthy"):
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None:
            self.log.close()
            self.log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def call(self, operation, body):
        """One DynamoDB JSON API call: (HTTP status, decoded JSON answer)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("POST", "/", body=json.dumps(body), headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "DynamoDB_20120810." + operation,
                "X-Amz-Date": "20150830T123600Z",
                "Authorization": _AUTHORIZATION,
            })
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            conn.close()

    def create_table(self, table, timeout=10):
        """Creates `table` in the classic shape (partition key `id`, string; on-demand) and
        waits until it is ACTIVE."""
        status, answer = self.call("CreateTable", {
            "TableName": table,
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        })
        if status != 200:
            raise RuntimeError("CreateTable %s: %d %r" % (table, status, answer))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, answer = self.call("DescribeTable", {"TableName": table})
            if status == 200 and answer["Table"]["TableStatus"] == "ACTIVE":
                return
            time.sleep(0.02)
        raise RuntimeError("table %s did not become ACTIVE" % table)

    def item(self, table, key):
        """The raw item `key` (strongly consistent), or None."""
        status, answer = self.call("GetItem", {"TableName": table, "Key": {"id": {"S": key}},
                                               "ConsistentRead": True})
        if status != 200:
            raise RuntimeError("GetItem: %d %r" % (status, answer))
        return answer.get("Item")

    def scan(self, table):
        """Every raw item of `table` (strongly consistent), following LastEvaluatedKey."""
        items, start = [], None
        while True:
            request = {"TableName": table, "ConsistentRead": True}
            if start:
                request["ExclusiveStartKey"] = start
            status, answer = self.call("Scan", request)
            if status != 200:
                raise RuntimeError("Scan: %d %r" % (status, answer))
            items.extend(answer.get("Items", []))
            start = answer.get("LastEvaluatedKey")
            if not start:
                return items


DAY = 86400


def check_policy_items(test, items, key, views, visitors):
    """Asserts, on a table's raw items (Dynalite.scan, FakeDynamoDb.scan), the items the
    DynamoDB store keeps beside counter `key` (src/store/dynamodb/dynamodb_store.hpp): its
    day rows (`KEY#day#YYYY-MM-DD`: views, visitors) add up to `views` and `visitors` (what
    this program counted on it); each day has one visitor mark (`KEY#v#DAY#<32 hex>`: seen
    on that day, expires at the midnight that ends it) per visitor its row counted; and the
    day's salt (`#salt#DAY`: 64 hex digits, expires at the end of the next day) is there
    for the last day, and no other salt."""
    def number(item, name):
        test.assertEqual(set(item[name]), {"N"}, item)
        return int(item[name]["N"])

    def day_start(day):
        return int(datetime.datetime.fromisoformat(day).replace(
            tzinfo=datetime.timezone.utc).timestamp())

    by_id = {item["id"]["S"]: item for item in items}
    rows, marks, salts = {}, {}, {}
    for item_id, item in by_id.items():
        match = re.fullmatch(re.escape(key) + r"#day#(\d{4}-\d\d-\d\d)", item_id)
        if match:
            test.assertEqual(sorted(item), ["id", "views", "visitors"], item)
            rows[match.group(1)] = (number(item, "views"), number(item, "visitors"))
        match = re.fullmatch(re.escape(key) + r"#v#(\d{4}-\d\d-\d\d)#[0-9a-f]{32}", item_id)
        if match:
            day = match.group(1)
            test.assertEqual(sorted(item), ["expires", "id", "seen"], item)
            test.assertEqual(number(item, "expires"), day_start(day) + DAY, item)
            test.assertTrue(day_start(day) <= number(item, "seen") < day_start(day) + DAY, item)
            marks[day] = marks.get(day, 0) + 1
        match = re.fullmatch(r"#salt#(\d{4}-\d\d-\d\d)", item_id)
        if match:
            day = match.group(1)
            test.assertEqual(sorted(item), ["expires", "id", "salt"], item)
            test.assertRegex(item["salt"]["S"], r"^[0-9a-f]{64}$")
            test.assertEqual(number(item, "expires"), day_start(day) + 2 * DAY, item)
            salts[day] = item
    test.assertTrue(rows, "no day row of %s" % key)
    test.assertEqual(tuple(map(sum, zip(*rows.values()))), (views, visitors), rows)
    test.assertEqual(marks, {day: row[1] for day, row in rows.items() if row[1]})
    test.assertEqual(list(salts), [max(rows)])


class TablePerTest:
    """unittest mixin: one dynalite for the test class (`self.dynalite`), and a fresh table
    in the classic shape from each call of new_table()."""

    @classmethod
    def setUpClass(cls):
        cls.dynalite = Dynalite().start()
        cls.tables = 0

    @classmethod
    def tearDownClass(cls):
        cls.dynalite.stop()

    def new_table(self):
        type(self).tables += 1
        table = "counters-%d" % self.tables
        self.dynalite.create_table(table)
        return table
