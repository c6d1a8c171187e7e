"""A fake AWS Lambda Runtime API (aws-wire.md §A2), for tests and benchmarks.

It hands out queued events on GET /2018-06-01/runtime/invocation/next with the headers the
real API sends (Lambda-Runtime-Aws-Request-Id, -Deadline-Ms, -Invoked-Function-Arn,
-Trace-Id) and records every POST to /invocation/{id}/response, /invocation/{id}/error and
/init/error, answering 202 as the real API does (400 for an unknown or already answered
request id). Threaded, on 127.0.0.1 (or ::1 with ipv6=True) and a port the system picks.

    with FakeRuntimeApi() as api:
        # start the function with AWS_LAMBDA_RUNTIME_API=api.address
        post = api.invoke(http_event("GET", "/count"))   # enqueue, then wait for the answer
        post.kind, post.json(), post.error_type, post.time

For cold-start timing, enqueue an event before starting the process and read
`first_response_time` (time.monotonic() when the first /response arrived) after
`wait_for_first_response()`; `first_next_time` is when the runtime first asked for work.
"""
import base64
import collections
import http.server
import itertools
import json
import select
import socket
import threading
import time
import urllib.parse
import uuid

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:visitor-counter"


class Post:
    """One POST the runtime made: kind is "response", "error" or "init_error"."""

    def __init__(self, kind, request_id, headers, body):
        self.kind = kind
        self.request_id = request_id
        self.headers = headers  # names lower-cased
        self.body = body        # bytes
        self.time = time.monotonic()
        self.wall_time = time.time()

    @property
    def error_type(self):
        return self.headers.get("lambda-runtime-function-error-type")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Post(%s, %s, %r)" % (self.kind, self.request_id, self.body[:200])


def http_event(method, path, query="", headers=None, body=None, base64_body=False,
               source_ip="203.0.113.7"):
    """An API Gateway HTTP API payload 2.0 event, shaped like aws-wire.md §B1."""
    host = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
    all_headers = {"host": host, "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Test/1.0",
                   "x-amzn-trace-id": "Root=1-68b2f0f0-0123456789abcdef01234567",
                   "x-forwarded-for": source_ip, "x-forwarded-port": "443",
                   "x-forwarded-proto": "https"}
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "a1b2c3d4e5", "domainName": host,
            "domainPrefix": "a1b2c3d4e5",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": source_ip, "userAgent": all_headers["user-agent"]},
            "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
            "routeKey": "$default", "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": base64_body,
    }
    if query:
        params = {}
        for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            params[key] = params[key] + "," + value if key in params else value
        event["queryStringParameters"] = params
    if body is not None:
        raw = body.encode() if isinstance(body, str) else body
        event["body"] = base64.b64encode(raw).decode() if base64_body else raw.decode()
    return event


class FakeRuntimeApi:
    def __init__(self, deadline_ms=30_000, ipv6=False):
        self.deadline_ms = deadline_ms
        self.ipv6 = ipv6
        self.posts = []            # every Post, in arrival order
        self.next_calls = 0        # GET /next requests received
        self.first_next_time = None
        self.first_response_time = None
        self._events = collections.deque()  # (request_id, body bytes, deadline_ms)
        self._issued = set()       # request ids handed out and not yet answered
        self._changed = threading.Condition()
        self._closed = False
        self._ids = itertools.count(1)
        self._server = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self):
        api = self

        class Handler(_Handler):
            fake = api

        if self.ipv6:
            self._server = _Server6(("::1", 0), Handler)
        else:
            self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def address(self):
        """host:port, the value for AWS_LAMBDA_RUNTIME_API."""
        host = "[::1]" if self.ipv6 else "127.0.0.1"
        return "%s:%d" % (host, self._server.server_address[1])

    def close(self):
        """Goes away like a dead Runtime API: pending /next calls are dropped unanswered
        and new connections are refused."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- feeding events ---------------------------------------------------------------
    def enqueue(self, event, request_id=None, deadline_ms=None):
        """Queues an event (a dict is sent as JSON, str/bytes as they are); returns its
        request id."""
        request_id = request_id or "%08d-e9f4-11e8-9739-2dfe598c3fcd" % next(self._ids)
        if isinstance(event, dict):
            event = json.dumps(event)
        if isinstance(event, str):
            event = event.encode()
        deadline = self.deadline_ms if deadline_ms is None else deadline_ms
        with self._changed:
            self._events.append((request_id, event, deadline))
            self._changed.notify_all()
        return request_id

    def invoke(self, event, timeout=10, **kwargs):
        """enqueue() and wait for the runtime's /response or /error for it."""
        return self.wait_for(self.enqueue(event, **kwargs), timeout)

    # -- waiting on what the runtime posts ----------------------------------------------
    def wait_until(self, predicate, timeout=10, what="condition"):
        with self._changed:
            if not self._changed.wait_for(predicate, timeout):
                raise TimeoutError("fake Runtime API: timed out waiting for %s; posts: %r"
                                   % (what, self.posts))

    def wait_for(self, request_id, timeout=10):
        """The /response or /error post for `request_id`."""
        found = []

        def answered():
            found[:] = [p for p in self.posts if p.request_id == request_id]
            return bool(found)

        self.wait_until(answered, timeout, "an answer to " + request_id)
        return found[0]

    def wait_for_init_error(self, timeout=10):
        self.wait_until(lambda: any(p.kind == "init_error" for p in self.posts), timeout,
                        "an /init/error post")
        return next(p for p in self.posts if p.kind == "init_error")

    def wait_for_first_response(self, timeout=10):
        self.wait_until(lambda: self.first_response_time is not None, timeout,
                        "the first /response")
        return self.first_response_time

    # -- called by the handler ----------------------------------------------------------
    def _next_event(self, client_alive):
        """The next queued event, or None when closing or when the caller's client has gone
        (a killed process): then the event stays queued for the next runtime."""
        with self._changed:
            self.next_calls += 1
            if self.first_next_time is None:
                self.first_next_time = time.monotonic()
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._closed or self._events)
            if self._closed:
                return None
            item = self._events.popleft()
            if not client_alive():
                self._events.appendleft(item)
                self._changed.notify_all()
                return None
            self._issued.add(item[0])
            return item

    def _record(self, kind, request_id, headers, body):
        with self._changed:
            if kind != "init_error":
                if request_id not in self._issued:
                    return False
                self._issued.discard(request_id)
            post = Post(kind, request_id, headers, body)
            if kind == "response" and self.first_response_time is None:
                self.first_response_time = post.time
            self.posts.append(post)
            self._changed.notify_all()
            return True


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a runtime killed mid-request is part of the tests, not a failure


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real Runtime API allows
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK stall every kept-alive exchange by ~40 ms.
    disable_nagle_algorithm = True
    fake = None

    def log_message(self, *args):
        pass

    def _reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != PREFIX + "/invocation/next":
            return self._reply(404, {"errorType": "NotFound", "errorMessage": self.path})
        item = self.fake._next_event(self._client_alive)
        if item is None:  # closing, or the client went away: drop the connection
            self.close_connection = True
            return
        request_id, event, deadline_ms = item
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(event)))
        self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + deadline_ms))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN)
        self.send_header("Lambda-Runtime-Trace-Id",
                         "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;"
                         "Sampled=0")
        self.end_headers()
        self.wfile.write(event)

    def _client_alive(self):
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return not readable or self.connection.recv(1, socket.MSG_PEEK) != b""
        except OSError:
            return False

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        kind, request_id = self._classify()
        if kind is None:
            return self._reply(404, {"errorType": "NotFound", "errorMessage": self.path})
        if not self.fake._record(kind, request_id, headers, body):
            return self._reply(400, {"errorMessage": "Invalid request ID",
                                     "errorType": "InvalidRequestID"})
        self._reply(202, {"status": "OK"})

    def _classify(self):
        if self.path == PREFIX + "/init/error":
            return "init_error", None
        prefix = PREFIX + "/invocation/"
        if self.path.startswith(prefix):
            request_id, _, kind = self.path[len(prefix):].partition("/")
            if kind in ("response", "error") and request_id:
                return kind, request_id
        return None, None
