"""Retries of the DynamoDB store against a scripted fake DynamoDB endpoint: throttling twice
then success gives 200 after exactly 3 attempts; a 500 to an UpdateItem is not retried (it
may have been applied): 503 + Retry-After + "outcome":"unknown"; persistent 500s to a read
stop after exactly max_attempts; ResourceNotFound is not retried (1 attempt). The jitter
itself is covered by unit/aws/retry_test.cpp; faults after an applied write by
test_dynamodb_faults.py.

The script answers the requests of the classic item shape (the counter's item, and
DescribeTable); the counting policy's own items (the day's salt, visitor marks, day rows)
live in fake_dynamodb's in-memory table, so a hit sends, in order: UpdateItem of the day's
salt, UpdateItem of the visitor's mark, UpdateItem of the counter and, at the same time,
UpdateItem of the day's row, and once the hit is answered, DeleteItem of the two days before (once per day and
process).

The backoff is shortened through the store URL (base_delay_ms, throttle_delay_ms) so the
tests stay fast; the defaults are 25 ms and 100 ms."""
import datetime
import http.server
import json
import re
import threading
import time
import unittest

from dynalite import DUMMY_CREDENTIALS
from fake_dynamodb import TABLE, Table, error, is_classic, item_id, send_json
from server import Server

RESOURCE_NOT_FOUND = (400, "ResourceNotFoundException", "Requested resource not found")
THROTTLED = (400, "ProvisionedThroughputExceededException",
             "The level of configured provisioned throughput for the table was exceeded")
INTERNAL = (500, "InternalServerError", "Internal server error")


class FakeDynamoDb:
    """Answers each request that scripted(operation, body) selects (by default those of the
    classic item shape, fake_dynamodb.is_classic) with the next scripted reply; the last one
    repeats. A reply is an (HTTP status, error type, message) tuple, or a dict sent as a 200
    JSON body. Every other request is applied to an in-memory table (fake_dynamodb.Table)."""

    def __init__(self, replies, scripted=is_classic):
        self.replies = list(replies)
        self.table = Table()
        self.requests = []  # (monotonic time, X-Amz-Target, headers, JSON body)
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                target = self.headers.get("X-Amz-Target")
                operation = target.split(".")[-1]
                with fake.lock:
                    fake.requests.append((time.monotonic(), target, dict(self.headers), body))
                    reply = None
                    if scripted(operation, body):
                        reply = fake.replies.pop(0) if len(fake.replies) > 1 else fake.replies[0]
                if reply is None:
                    send_json(self, *fake.table.call(operation, body))
                elif isinstance(reply, dict):
                    send_json(self, 200, reply)
                else:
                    status, kind, message = reply
                    send_json(self, status, error(kind, message))

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def store_url(self, extra=""):
        return ("dynamodb://%s?region=us-east-1&endpoint=http://127.0.0.1:%d"
                "&base_delay_ms=5&throttle_delay_ms=20%s" % (TABLE, self.httpd.server_address[1],
                                                             extra))

    def targets(self):
        with self.lock:
            return [target for _, target, _, _ in self.requests]

    def calls(self):
        """(operation, item id) of every request, in arrival order; a visitor mark's id has
        its visitor hash replaced by <visitor>."""
        with self.lock:
            return [(target.split(".")[-1],
                     re.sub(r"#v#(\d{4}-\d\d-\d\d)#[0-9a-f]{32}$", r"#v#\1#<visitor>",
                            item_id(body) or ""))
                    for _, target, _, body in self.requests]


def serve(fake, extra=""):
    return Server(store=fake.store_url(extra), env=DUMMY_CREDENTIALS)


def utc_today():
    return str(datetime.datetime.now(datetime.timezone.utc).date())


def day_of(fake, before, after):
    """The UTC day of the hits, from the day's salt UpdateItem the first one sent; it must be
    the day the request was sent on (`before` or `after` it, across a midnight)."""
    operation, salt = fake.calls()[0]
    assert operation == "UpdateItem" and salt.startswith("#salt#"), fake.calls()
    day = salt[len("#salt#"):]
    assert day in (before, after), (day, before, after)
    return day


def first_hit_calls(key, day, counter_attempts, day_rows=1):
    """What the first counting hit of a process on `key` sends, as (operation, item id): the
    day's salt, the visitor's mark, the counter's attempts and `day_rows` updates of the
    day's row (those two side by side), then (after the hit is answered) the deletion of
    older salts."""
    date = datetime.date.fromisoformat(day)
    return ([("UpdateItem", "#salt#" + day)] +
            [("UpdateItem", "%s#v#%s#<visitor>" % (key, day))] +
            [("UpdateItem", key)] * counter_attempts +
            [("UpdateItem", "%s#day#%s" % (key, day))] * day_rows +
            [("DeleteItem", "#salt#%s" % (date - datetime.timedelta(days=back)))
             for back in (1, 2)])


def in_order(calls):
    """`calls` with the counter's and the day row's updates, which go side by side, in the
    order first_hit_calls lists them (the counter's first)."""
    middle = range(2, len(calls) - 2)
    side_by_side = sorted((calls[i] for i in middle), key=lambda call: "#day#" in call[1])
    return calls[:2] + side_by_side + calls[-2:]


def first_hit_done(fake, timeout=5):
    """fake.calls(), in_order, once the two deletions of older salts are in (they go out
    after the answer, so the hit's own calls are all in by then), or when `timeout` runs
    out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if [operation for operation, _ in fake.calls()].count("DeleteItem") >= 2:
            break
        time.sleep(0.01)
    return in_order(fake.calls())


class DynamoDbRetryTest(unittest.TestCase):
    def test_throttling_twice_then_success(self):
        replies = [THROTTLED, THROTTLED,
                   {"Attributes": {"count": {"N": "7"}, "visitors": {"N": "3"}}}]
        with FakeDynamoDb(replies) as fake, serve(fake) as s:
            before = utc_today()
            status, _, body = s.request("GET", "/count")
            after = utc_today()
            self.assertEqual((status, json.loads(body)), (200, {"count": 7}))
            day = day_of(fake, before, after)
            expected = first_hit_calls("visitors", day, counter_attempts=3)
            self.assertEqual(first_hit_done(fake), expected)
            for _, _, headers, request in fake.requests:
                self.assertTrue(headers["Authorization"].startswith(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
                self.assertEqual(headers["Content-Type"], "application/x-amz-json-1.0")
            counter = [request for _, _, _, request in fake.requests
                       if item_id(request) == "visitors"]
            self.assertEqual(counter, [{
                "TableName": "visitor-counter", "Key": {"id": {"S": "visitors"}},
                "UpdateExpression": "ADD #a0 :v0, #a1 :v1",
                "ExpressionAttributeNames": {"#a0": "count", "#a1": "visitors"},
                "ExpressionAttributeValues": {":v0": {"N": "1"}, ":v1": {"N": "1"}},
                "ReturnValues": "UPDATED_NEW"}] * 3)
            # The day's row got the hit (a new visitor); the mark and the salt are there.
            items = fake.table.snapshot()
            self.assertEqual(items["visitors#day#" + day],
                             {"id": "visitors#day#" + day, "views": 1, "visitors": 1})
            marks = [item for key, item in items.items() if "#v#" in key]
            self.assertEqual([sorted(mark) for mark in marks], [["expires", "id", "seen"]])
            self.assertEqual(sorted(items["#salt#" + day]), ["expires", "id", "salt"])

    def test_a_server_error_to_an_update_is_not_retried(self):
        with FakeDynamoDb([INTERNAL]) as fake:
            s = serve(fake, "&max_attempts=3").start()
            try:
                before = utc_today()
                status, headers, body = s.request("GET", "/count")
                after = utc_today()
                self.assertEqual(status, 503, body)
                self.assertEqual(headers.get("retry-after"), "1")
                self.assertEqual(headers.get("content-type"), "application/json")
                self.assertEqual(json.loads(body)["error"], "store_unavailable")
                self.assertEqual(json.loads(body)["outcome"], "unknown")
                # The counter's UpdateItem went once; the day's row beside it is kept, as
                # the counter may have taken the hit.
                day = day_of(fake, before, after)
                expected = first_hit_calls("visitors", day, counter_attempts=1)
                self.assertEqual(first_hit_done(fake), expected)
            finally:
                code, _, err = s.stop()
            self.assertEqual(code, 0, err)
            self.assertIn("HTTP 500 InternalServerError", err)
            self.assertIn("outcome unknown, not retried after 1 attempt(s)", err)
            self.assertNotIn(DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"], err)

    def test_persistent_server_errors_to_a_read_stop_at_max_attempts(self):
        with FakeDynamoDb([INTERNAL]) as fake:
            s = serve(fake, "&max_attempts=3").start()
            try:
                status, _, body = s.request("GET", "/counters/visitors")
                self.assertEqual(status, 503, body)
                self.assertNotIn("outcome", json.loads(body))
                self.assertEqual(fake.targets(), ["DynamoDB_20120810.GetItem"] * 3)
            finally:
                code, _, err = s.stop()
            self.assertEqual(code, 0, err)
            self.assertIn("attempts exhausted after 3 attempt(s)", err)

    def test_resource_not_found_fails_fast(self):
        with FakeDynamoDb([RESOURCE_NOT_FOUND]) as fake, serve(fake) as s:
            before = utc_today()
            status, headers, body = s.request("GET", "/count")
            after = utc_today()
            self.assertEqual(status, 503, body)
            self.assertIn("retry-after", headers)
            self.assertEqual(json.loads(body)["outcome"], "not_counted")
            day = day_of(fake, before, after)
            # The day's row beside the counter is not sent when the counter fails first,
            # else it is lowered back: the history never keeps a hit the counter did not.
            calls = first_hit_done(fake)
            self.assertIn(calls, [first_hit_calls("visitors", day, counter_attempts=1,
                                                  day_rows=n) for n in (0, 2)])
            row = fake.table.snapshot().get("visitors#day#" + day)
            self.assertIn(row, [None, {"id": "visitors#day#" + day, "views": 0, "visitors": 0}])
            self.assertEqual(s.request("GET", "/healthz")[0], 503)
            self.assertEqual(fake.targets()[-1], "DynamoDB_20120810.DescribeTable")
            self.assertEqual(fake.targets().count("DynamoDB_20120810.DescribeTable"), 1)

    def test_a_missing_table_fails_fast_at_the_days_salt(self):
        # Every request, the day's salt first, finds no table: one attempt, nothing counted.
        with FakeDynamoDb([RESOURCE_NOT_FOUND], scripted=lambda operation, body: True) as fake, \
                serve(fake) as s:
            status, headers, body = s.request("GET", "/count")
            self.assertEqual(status, 503, body)
            self.assertIn("retry-after", headers)
            self.assertEqual(json.loads(body)["outcome"], "not_counted")
            self.assertEqual(fake.targets(), ["DynamoDB_20120810.UpdateItem"])
            self.assertEqual(s.request("GET", "/healthz")[0], 503)
            self.assertEqual(fake.targets(), ["DynamoDB_20120810.UpdateItem",
                                              "DynamoDB_20120810.DescribeTable"])

    def test_throttled_reads_and_health_checks_are_retried_too(self):
        replies = [THROTTLED, {"Item": {"id": {"S": "visitors"}, "count": {"N": "41"}}},
                   INTERNAL, {"Table": {"TableName": "visitor-counter", "TableStatus": "ACTIVE"}}]
        with FakeDynamoDb(replies) as fake, serve(fake) as s:
            status, _, body = s.request("GET", "/counters/visitors")
            self.assertEqual((status, json.loads(body)["count"]), (200, 41))
            self.assertEqual(s.request("GET", "/healthz")[0], 200)
            self.assertEqual(fake.targets(), ["DynamoDB_20120810.GetItem"] * 2 +
                             ["DynamoDB_20120810.DescribeTable"] * 2)


if __name__ == "__main__":
    unittest.main()
