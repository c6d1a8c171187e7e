"""Retries of the DynamoDB store against a scripted fake DynamoDB endpoint: throttling twice
then success gives 200 after exactly 3 attempts; a 500 to an UpdateItem is not retried (it
may have been applied): 503 + Retry-After + "outcome":"unknown"; persistent 500s to a read
stop after exactly max_attempts; ResourceNotFound is not retried (1 attempt). The jitter
itself is covered by unit/aws/retry_test.cpp; faults after an applied write by
test_dynamodb_faults.py.

The backoff is shortened through the store URL (base_delay_ms, throttle_delay_ms) so the
tests stay fast; the defaults are 25 ms and 100 ms."""
import http.server
import json
import threading
import time
import unittest

from dynalite import DUMMY_CREDENTIALS
from fake_dynamodb import error, send_json
from server import Server

RESOURCE_NOT_FOUND = (400, "ResourceNotFoundException", "Requested resource not found")
THROTTLED = (400, "ProvisionedThroughputExceededException",
             "The level of configured provisioned throughput for the table was exceeded")
INTERNAL = (500, "InternalServerError", "Internal server error")


class FakeDynamoDb:
    """Answers each request with the next scripted reply; the last one repeats. A reply is
    an (HTTP status, error type, message) tuple, or a dict sent as a 200 JSON body."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests = []  # (monotonic time, X-Amz-Target, headers, JSON body)
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with fake.lock:
                    fake.requests.append((time.monotonic(), self.headers.get("X-Amz-Target"),
                                          dict(self.headers), json.loads(body)))
                    reply = fake.replies.pop(0) if len(fake.replies) > 1 else fake.replies[0]
                if isinstance(reply, dict):
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
        return ("dynamodb://visitor-counter?region=us-east-1&endpoint=http://127.0.0.1:%d"
                "&base_delay_ms=5&throttle_delay_ms=20%s" % (self.httpd.server_address[1], extra))

    def targets(self):
        with self.lock:
            return [target for _, target, _, _ in self.requests]


def serve(fake, extra=""):
    return Server(store=fake.store_url(extra), env=DUMMY_CREDENTIALS)


class DynamoDbRetryTest(unittest.TestCase):
    def test_throttling_twice_then_success(self):
        replies = [THROTTLED, THROTTLED, {"Attributes": {"count": {"N": "7"}}}]
        with FakeDynamoDb(replies) as fake, serve(fake) as s:
            status, _, body = s.request("GET", "/count")
            self.assertEqual((status, json.loads(body)), (200, {"count": 7}))
            self.assertEqual(fake.targets(), ["DynamoDB_20120810.UpdateItem"] * 3)
            for _, _, headers, request in fake.requests:
                self.assertTrue(headers["Authorization"].startswith(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
                self.assertEqual(headers["Content-Type"], "application/x-amz-json-1.0")
                self.assertEqual(request, {
                    "TableName": "visitor-counter", "Key": {"id": {"S": "visitors"}},
                    "UpdateExpression": "ADD #count :n",
                    "ExpressionAttributeNames": {"#count": "count"},
                    "ExpressionAttributeValues": {":n": {"N": "1"}},
                    "ReturnValues": "UPDATED_NEW"})

    def test_a_server_error_to_an_update_is_not_retried(self):
        with FakeDynamoDb([INTERNAL]) as fake:
            s = serve(fake, "&max_attempts=3").start()
            try:
                status, headers, body = s.request("GET", "/count")
                self.assertEqual(status, 503, body)
                self.assertEqual(headers.get("retry-after"), "1")
                self.assertEqual(headers.get("content-type"), "application/json")
                self.assertEqual(json.loads(body)["error"], "store_unavailable")
                self.assertEqual(json.loads(body)["outcome"], "unknown")
                self.assertEqual(fake.targets(), ["DynamoDB_20120810.UpdateItem"])
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
            status, headers, body = s.request("GET", "/count")
            self.assertEqual(status, 503, body)
            self.assertIn("retry-after", headers)
            self.assertEqual(json.loads(body)["outcome"], "not_counted")
            self.assertEqual(fake.targets(), ["DynamoDB_20120810.UpdateItem"])
            self.assertEqual(s.request("GET", "/healthz")[0], 503)
            self.assertEqual(fake.targets()[-1], "DynamoDB_20120810.DescribeTable")
            self.assertEqual(len(fake.targets()), 2)

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
