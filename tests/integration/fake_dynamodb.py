"""A fault-injecting DynamoDB endpoint for integration tests: a real (in-memory) table that
applies UpdateItem ADD, GetItem and DescribeTable of the classic item shape, with faults
chosen per call by a schedule:

  "ok"             apply, answer 200
  "500_after"      apply, then answer 500 InternalServerError (AWS: a 500 may follow an
                   applied write)
  "reset_after"    apply, then reset the connection without an answer
  "throttle"       apply nothing, answer 400 ProvisionedThroughputExceededException

`latency` delays every UpdateItem (before applying it). The endpoint runs in a child
process (one thread per connection), so it never competes with the test's own clients for
the interpreter; the test reads its state with stats() and count()."""
import http.client
import http.server
import json
import multiprocessing
import socket
import struct
import threading
import time


class FakeDynamoDb:
    def __init__(self, schedule=lambda n: "ok", latency=0.0):
        """schedule(n) names the fault of the n-th UpdateItem (1-based, in arrival order)."""
        self.schedule, self.latency = schedule, latency
        self.items = {}          # id -> count
        self.applied = 0         # the sum of every ADD applied
        self.calls = {}          # fault -> UpdateItem calls answered with it
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.update_calls = 0
        self.first_update = self.last_update = None  # time.monotonic() of the first, last answer
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the body would wait for
            # the client's delayed ACK (40 ms) on every answer.
            disable_nagle_algorithm = True

            def do_GET(self):  # GET /_stats: the endpoint's state, for the test
                with fake.lock:
                    stats = {"items": fake.items, "applied": fake.applied, "calls": fake.calls,
                             "most_in_flight": fake.most_in_flight,
                             "first_update": fake.first_update, "last_update": fake.last_update}
                    send_json(self, 200, stats)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                target = self.headers.get("X-Amz-Target", "").split(".")[-1]
                if target == "UpdateItem":
                    return fake._update(self, body)
                if target == "GetItem":
                    with fake.lock:
                        count = fake.items.get(body["Key"]["id"]["S"])
                    item = {} if count is None else {"Item": {"count": {"N": str(count)}}}
                    return send_json(self, 200, item)
                if target == "DescribeTable":
                    return send_json(self, 200, {"Table": {"TableStatus": "ACTIVE"}})
                return send_json(self, 400, error("UnknownOperationException", target))

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024

            def handle_error(self, request, client_address):
                pass  # a reset connection is the point, not a failure

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.process = multiprocessing.get_context("fork").Process(
            target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.process.start()
        self.httpd.server_close()  # the child serves; the parent only asks it for stats
        return self

    def __exit__(self, *exc):
        self.process.kill()
        self.process.join()

    def store_url(self, extra=""):
        return ("dynamodb://visitor-counter?region=us-east-1&endpoint=http://127.0.0.1:%d"
                "&base_delay_ms=5&throttle_delay_ms=10%s" % (self.port, extra))

    def stats(self):
        """{"items": {id: count}, "applied": sum of ADDs, "calls": {fault: n},
        "most_in_flight": n}"""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/_stats")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def count(self, key):
        return self.stats()["items"].get(key, 0)

    def total(self):
        return self.stats()["applied"]

    def _update(self, handler, body):
        with self.lock:
            self.update_calls += 1
            fault = self.schedule(self.update_calls)
            self.calls[fault] = self.calls.get(fault, 0) + 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            if fault == "throttle":
                return send_json(handler, 400, error(
                    "ProvisionedThroughputExceededException", "throughput exceeded"))
            key = body["Key"]["id"]["S"]
            delta = int(body["ExpressionAttributeValues"][":n"]["N"])
            with self.lock:
                value = self.items[key] = self.items.get(key, 0) + delta
                self.applied += delta
            if fault == "500_after":
                return send_json(handler, 500, error("InternalServerError", "internal"))
            if fault == "reset_after":
                # SO_LINGER 0: close() sends a RST instead of a FIN.
                handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                              struct.pack("ii", 1, 0))
                handler.close_connection = True
                handler.connection.close()
                return None
            return send_json(handler, 200, {"Attributes": {"count": {"N": str(value)}}})
        finally:
            with self.lock:
                self.in_flight -= 1
                self.last_update = time.monotonic()
                if self.first_update is None:
                    self.first_update = self.last_update



def send_json(handler, status, answer):
    """Answers a DynamoDB JSON-protocol request from an http.server handler."""
    data = json.dumps(answer).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/x-amz-json-1.0")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def error(kind, message):
    """A DynamoDB error answer's body."""
    return {"__type": "com.amazonaws.dynamodb.v20120810#" + kind, "message": message}
