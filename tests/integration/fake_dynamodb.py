"""A fault-injecting DynamoDB endpoint for integration tests: a real (in-memory) table that
applies the requests the DynamoDB store sends (see `Table`), with faults chosen per call by
a schedule:

  "ok"             apply, answer 200
  "500_after"      apply, then answer 500 InternalServerError (AWS: a 500 may follow an
                   applied write)
  "reset_after"    apply, then reset the connection without an answer
  "throttle"       apply nothing, answer 400 ProvisionedThroughputExceededException

The schedule, and `latency` (a delay before applying), apply to the calls `scheduled`
selects, numbered among those calls only: by default the counter's own write, the
UpdateItem `ADD` on `count` (the one whose outcome may be unknown). Every other call (the
day's salt, visitor marks, day rows, reads, DescribeTable) is applied at once, without
fault. The endpoint runs in a child process (one thread per connection), so it never
competes with the test's own clients for the interpreter; the test reads its state with
stats(), count() and total()."""
import http.client
import json
import multiprocessing
import re
import socket
import socketserver
import struct
import threading
import time

TABLE = "visitor-counter"


class Table:
    """One in-memory DynamoDB table (partition key `id`, a string) that answers the JSON API
    the DynamoDB store and the classic handler use, with DynamoDB's semantics for them:

      UpdateItem   SET path = :value, SET path = if_not_exists(path, :value) and
                   ADD path :number clauses (ADD starts a missing attribute at 0 and
                   creates a missing item); ConditionExpression;
                   ReturnValues NONE, UPDATED_NEW, ALL_OLD, ALL_NEW
      PutItem      with an optional ConditionExpression
      GetItem      the whole item, or {} when there is none
      DeleteItem   {} whether or not the item was there
      DescribeTable

    A condition is OR-ed AND-ed terms: attribute_exists(path), attribute_not_exists(path),
    or path OP :value (OP one of = <> < <= > >=). When it fails the answer is 400
    ConditionalCheckFailedException and nothing changes. Anything else it does not know,
    and (as DynamoDB does) an expression attribute name or value that no expression uses,
    is a 400 ValidationException, so a request the store should not send is noticed, not
    silently accepted. Items hold DynamoDB-typed values ({"N": "3"}). Thread-safe."""

    def __init__(self, name=TABLE):
        self.name = name
        self.items = {}   # id -> {attribute: typed value}
        self.added = {}   # attribute -> the sum of every ADD applied to it
        self.lock = threading.Lock()

    def call(self, operation, body):
        """One request: (HTTP status, JSON answer)."""
        handler = {"UpdateItem": self._update, "PutItem": self._put, "GetItem": self._get,
                   "DeleteItem": self._delete, "DescribeTable": self._describe}.get(operation)
        if handler is None:
            return 400, error("UnknownOperationException", operation)
        if body.get("TableName") != self.name:
            return 400, error("ResourceNotFoundException", "Requested resource not found")
        try:
            with self.lock:
                return handler(body)
        except Invalid as e:
            return 400, error("ValidationException", str(e))

    def snapshot(self):
        """{id: {attribute: plain value}}: numbers as int, strings as str."""
        with self.lock:
            return {key: {name: plain(value) for name, value in item.items()}
                    for key, item in self.items.items()}

    def scan(self):
        """Every item, DynamoDB-typed, as a Scan answers them."""
        with self.lock:
            return [dict(item) for item in self.items.values()]

    def _describe(self, body):
        return 200, {"Table": {"TableName": self.name, "TableStatus": "ACTIVE",
                               "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}}

    def _get(self, body):
        item = self.items.get(key_of(body))
        return 200, {} if item is None else {"Item": dict(item)}

    def _delete(self, body):
        self.items.pop(key_of(body), None)
        return 200, {}

    def _put(self, body):
        item = body.get("Item") or {}
        key = item.get("id", {}).get("S")
        if not key:
            raise Invalid("Item has no string id")
        names = Names(body)
        holds = names.check(body.get("ConditionExpression"), self.items.get(key))
        names.all_used()
        if not holds:
            return condition_failed()
        self.items[key] = dict(item)
        return 200, {}

    def _update(self, body):
        key = key_of(body)
        old = self.items.get(key)
        names = Names(body)
        actions = names.update(body.get("UpdateExpression", ""))
        holds = names.check(body.get("ConditionExpression"), old)
        names.all_used()
        if not holds:
            return condition_failed()
        returns = body.get("ReturnValues", "NONE")
        if returns not in ("NONE", "UPDATED_NEW", "ALL_OLD", "ALL_NEW"):
            raise Invalid("ReturnValues %s is not supported here" % returns)
        new = dict(old) if old is not None else {"id": {"S": key}}
        for action, attribute, value in actions:
            if attribute == "id":
                raise Invalid("Cannot update attribute id. This attribute is part of the key")
            if action == "SET":
                new[attribute] = value
            elif action == "KEEP":  # SET path = if_not_exists(path, :value)
                new.setdefault(attribute, value)
            else:  # ADD
                if "N" not in value or ("N" not in new.get(attribute, {"N": "0"})):
                    raise Invalid("An operand in the update expression has an incorrect "
                                  "data type")
                total = int(new.get(attribute, {"N": "0"})["N"]) + int(value["N"])
                new[attribute] = {"N": str(total)}
        for action, attribute, value in actions:
            if action == "ADD":
                self.added[attribute] = self.added.get(attribute, 0) + int(value["N"])
        self.items[key] = new
        if returns == "UPDATED_NEW":
            return 200, {"Attributes": {attribute: new[attribute] for _, attribute, _ in actions}}
        if returns == "ALL_OLD":
            return 200, {} if old is None else {"Attributes": dict(old)}
        if returns == "ALL_NEW":
            return 200, {"Attributes": dict(new)}
        return 200, {}


class Invalid(Exception):
    """A request DynamoDB would refuse with a ValidationException."""


class Names:
    """A request's ExpressionAttributeNames and Values, resolved in its expressions."""

    _COMPARISON = re.compile(r"^(\S+)\s*(<>|<=|>=|=|<|>)\s*(:\w+)$")
    _FUNCTION = re.compile(r"^(attribute_exists|attribute_not_exists)\s*\(\s*(\S+?)\s*\)$")

    def __init__(self, body):
        self.names = body.get("ExpressionAttributeNames") or {}
        self.values = body.get("ExpressionAttributeValues") or {}
        self.used = set()

    def name(self, path):
        if path.startswith("#"):
            if path not in self.names:
                raise Invalid("An expression attribute name used in the document path is not "
                              "defined; attribute name: %s" % path)
            self.used.add(path)
            return self.names[path]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", path):
            raise Invalid("unsupported document path %r" % path)
        return path

    def value(self, placeholder):
        if placeholder not in self.values:
            raise Invalid("An expression attribute value used in expression is not defined; "
                          "attribute value: %s" % placeholder)
        self.used.add(placeholder)
        return self.values[placeholder]

    def update(self, expression):
        """[(action, attribute, typed value)] of SET and ADD clauses."""
        parts = re.split(r"\b(SET|ADD|REMOVE|DELETE)\b", expression, flags=re.I)
        if parts[0].strip() or len(parts) < 3:
            raise Invalid("Invalid UpdateExpression: %r" % expression)
        actions = []
        for keyword, clauses in zip(parts[1::2], parts[2::2]):
            keyword = keyword.upper()
            for clause in re.split(r",(?![^(]*\))", clauses):  # not the commas in f(a, b)
                clause = clause.strip()
                keep = re.fullmatch(r"(\S+)\s*=\s*if_not_exists\s*\(\s*(\S+?)\s*,\s*(:\w+)\s*\)",
                                    clause)
                if keyword == "SET" and keep:
                    if self.name(keep.group(1)) != self.name(keep.group(2)):
                        raise Invalid("if_not_exists of another attribute is not supported here")
                    actions.append(("KEEP", self.name(keep.group(1)), self.value(keep.group(3))))
                    continue
                if keyword == "SET":
                    match = re.fullmatch(r"(\S+)\s*=\s*(:\w+)", clause)
                elif keyword == "ADD":
                    match = re.fullmatch(r"(\S+)\s+(:\w+)", clause)
                else:
                    match = None
                if match is None:
                    raise Invalid("unsupported %s clause %r" % (keyword, clause))
                actions.append((keyword, self.name(match.group(1)), self.value(match.group(2))))
        attributes = [attribute for _, attribute, _ in actions]
        if len(set(attributes)) != len(attributes):
            raise Invalid("Two document paths overlap with each other")
        return actions

    def check(self, expression, item):
        """Whether condition `expression` (None: no condition) holds for `item` (None: no
        item). Every term is evaluated, so every name and value it uses counts as used."""
        if expression is None:
            return True
        item = item or {}
        disjuncts = re.split(r"\s+OR\s+", expression.strip(), flags=re.I)
        results = []
        for disjunct in disjuncts:
            terms = re.split(r"\s+AND\s+", disjunct, flags=re.I)
            results.append(all([self._term(term.strip(), item) for term in terms]))
        return any(results)

    def _term(self, term, item):
        match = self._FUNCTION.fullmatch(term)
        if match:
            present = self.name(match.group(2)) in item
            return present if match.group(1) == "attribute_exists" else not present
        match = self._COMPARISON.fullmatch(term)
        if match is None:
            raise Invalid("unsupported condition %r" % term)
        attribute, op, operand = self.name(match.group(1)), match.group(2), self.value(
            match.group(3))
        have = item.get(attribute)
        if have is None or set(have) != set(operand):
            return False  # missing, or of another type: the comparison is false
        left, right = (int(have["N"]), int(operand["N"])) if "N" in have else (
            plain(have), plain(operand))
        return {"=": left == right, "<>": left != right, "<": left < right,
                "<=": left <= right, ">": left > right, ">=": left >= right}[op]

    def all_used(self):
        for placeholder in list(self.names) + list(self.values):
            if placeholder not in self.used:
                raise Invalid("Value provided in ExpressionAttribute%s unused in expressions: "
                              "keys: {%s}" % ("Names" if placeholder.startswith("#") else
                                              "Values", placeholder))


def key_of(body):
    key = body.get("Key") or {}
    if set(key) != {"id"} or "S" not in key["id"]:
        raise Invalid("The provided key element does not match the schema")
    return key["id"]["S"]


def plain(value):
    return int(value["N"]) if "N" in value else value.get("S", value)


def condition_failed():
    return 400, error("ConditionalCheckFailedException", "The conditional request failed")


def item_id(body):
    """The id of the item a request names (Key or Item), or None."""
    return ((body.get("Key") or body.get("Item") or {}).get("id") or {}).get("S")


def is_counter_add(operation, body):
    """The counter's own write: UpdateItem ADD on `count` of a counter item (a key, which
    never holds `#`; the store's other items do)."""
    if operation != "UpdateItem" or "#" in (item_id(body) or "#"):
        return False
    expression = body.get("UpdateExpression", "")
    names = body.get("ExpressionAttributeNames") or {}
    return expression.strip().upper().startswith("ADD") and "count" in names.values()


def is_classic(operation, body):
    """A request the classic item shape alone would send: DescribeTable, or one on a
    counter item (an id without `#`), as opposed to the counting policy's own items."""
    return operation == "DescribeTable" or "#" not in (item_id(body) or "#")


class FakeDynamoDb:
    def __init__(self, schedule=lambda n: "ok", latency=0.0, scheduled=is_counter_add):
        """schedule(n) names the fault of the n-th call that scheduled(operation, body)
        selects (1-based, in arrival order); `latency` delays those calls."""
        self.schedule, self.latency, self.scheduled = schedule, latency, scheduled
        self.table = Table()
        self.calls = {}          # fault -> scheduled calls answered with it
        self.operations = {}     # operation -> every call of it
        self.in_flight = 0       # scheduled calls being answered
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.scheduled_calls = 0
        self.first_update = self.last_update = None  # time.monotonic() of the first, last answer
        self.key_ids = []  # the access key ids requests were signed with, each once, in order
        self.scopes = []   # their credential scopes (key/date/region/service), likewise
        fake = self

        class Handler(LeanHandler):
            def serve(self, method, path, headers, body):
                if method == "GET" and path == "/_scan":  # the items, for the test
                    return self.reply(200, fake.table.scan())
                if method == "GET":  # /_stats: the endpoint's state, for the test
                    with fake.lock:
                        stats = {"items": fake.table.snapshot(),
                                 "applied": fake.table.added.get("count", 0),
                                 "calls": dict(fake.calls), "operations": dict(fake.operations),
                                 "in_flight": fake.in_flight,
                                 "most_in_flight": fake.most_in_flight,
                                 "first_update": fake.first_update,
                                 "last_update": fake.last_update,
                                 "key_ids": list(fake.key_ids),
                                 "scopes": list(fake.scopes)}
                    return self.reply(200, stats)
                body = json.loads(body)
                operation = headers.get("x-amz-target", "").split(".")[-1]
                scope = headers.get("authorization", "").partition("Credential=")[2].split(",")[0]
                key_id = scope.split("/")[0]
                with fake.lock:
                    fake.operations[operation] = fake.operations.get(operation, 0) + 1
                    if key_id not in fake.key_ids:
                        fake.key_ids.append(key_id)
                    if scope not in fake.scopes:
                        fake.scopes.append(scope)
                if fake.scheduled(operation, body):
                    return fake._scheduled(self, operation, body)
                return self.reply(*fake.table.call(operation, body))

        class Server(socketserver.ThreadingTCPServer):
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
        return ("dynamodb://%s?region=us-east-1&endpoint=http://127.0.0.1:%d"
                "&base_delay_ms=5&throttle_delay_ms=10%s" % (TABLE, self.port, extra))

    def stats(self):
        """{"items": {id: {attribute: value}}, "applied": sum of ADDs to count,
        "calls": {fault: n}, "operations": {operation: n}, "in_flight": n, "most_in_flight": n}"""
        return self._get("/_stats")

    def scan(self):
        """Every item, DynamoDB-typed (as dynalite.Dynalite.scan gives them)."""
        return self._get("/_scan")

    def _get(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def wait_until(self, predicate, what, timeout=10):
        """Waits until predicate(stats()) holds: the endpoint runs in another process, so
        its state is polled (every 10 ms)."""
        deadline = time.monotonic() + timeout
        while not predicate(self.stats()):
            if time.monotonic() > deadline:
                raise AssertionError("fake DynamoDB: timed out waiting for %s; operations: %r"
                                     % (what, self.stats()["operations"]))
            time.sleep(0.01)

    def count(self, key):
        """The `count` of counter `key` (0 if none)."""
        return self.stats()["items"].get(key, {}).get("count", 0)

    def total(self):
        return self.stats()["applied"]

    def _scheduled(self, handler, operation, body):
        """Answers a scheduled call as the schedule says; returns whether the connection
        stays open."""
        with self.lock:
            self.scheduled_calls += 1
            fault = self.schedule(self.scheduled_calls)
            self.calls[fault] = self.calls.get(fault, 0) + 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            if fault == "throttle":
                return handler.reply(400, error("ProvisionedThroughputExceededException",
                                                "throughput exceeded"))
            status, answer = self.table.call(operation, body)
            if fault == "500_after":
                return handler.reply(500, error("InternalServerError", "internal"))
            if fault == "reset_after":
                return handler.reset()
            return handler.reply(status, answer)
        finally:
            with self.lock:
                self.in_flight -= 1
                self.last_update = time.monotonic()
                if self.first_update is None:
                    self.first_update = self.last_update


class LeanHandler(socketserver.StreamRequestHandler):
    """The server side of kept-alive HTTP/1.1 connections, just enough for the JSON
    protocol: the fake answers thousands of requests a second beside the server under test
    on the same cores, and http.server's parsing costs about twice the CPU per request.
    serve(method, path, headers (lower-case names), body bytes) answers with reply() or
    reset(), and returns whether the connection stays open."""

    REASONS = {200: "OK", 400: "Bad Request", 500: "Internal Server Error"}

    def setup(self):
        super().setup()
        # The answer goes out in one write; no waiting for the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self):
        while True:
            line = self.rfile.readline(65537)
            if not line.strip():
                return  # closed by the client
            method, path, _ = line.decode("latin-1").split(" ", 2)
            headers = {}
            while True:
                header = self.rfile.readline(65537)
                if header in (b"\r\n", b"\n", b""):
                    break
                name, _, value = header.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = self.rfile.read(int(headers.get("content-length", 0)))
            if not self.serve(method, path, headers, body):
                return

    def serve(self, method, path, headers, body):
        raise NotImplementedError

    def reply(self, status, answer):
        """Sends a JSON answer; the connection stays open."""
        data = json.dumps(answer).encode()
        self.wfile.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/x-amz-json-1.0\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (
                             status, self.REASONS.get(status, "Error").encode(), len(data), data))
        return True

    def reset(self):
        """Resets the connection without an answer."""
        # SO_LINGER 0: closing sends a RST instead of a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        return False


def send_json(handler, status, answer):
    """Answers a DynamoDB JSON-protocol request from an http.server handler (the scripted
    fake of test_dynamodb_retry.py)."""
    data = json.dumps(answer).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/x-amz-json-1.0")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def error(kind, message):
    """A DynamoDB error answer's body."""
    return {"__type": "com.amazonaws.dynamodb.v20120810#" + kind, "message": message}
