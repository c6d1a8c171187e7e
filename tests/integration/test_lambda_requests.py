"""What a Lambda function's hits cost in DynamoDB requests, per profile, counted at a fake
DynamoDB endpoint (tests/integration/fake_dynamodb.py) while the bootstrap serves events
from the fake Runtime API: the figures docs/deploy.md prices. Also that the full profile
fetches the day's salt at init, before any event, and the classic profile never does."""
import json
import unittest

from dynalite import DUMMY_CREDENTIALS
from fake_dynamodb import FakeDynamoDb
from fake_runtime_api import FakeRuntimeApi, http_event
from test_lambda import ORIGIN, finish, start_function

# The template's defaults (deploy/template.yaml), as the function's environment.
TEMPLATE = {"VC_ALLOW_ORIGINS": ORIGIN, "VC_IGNORE_BOTS": "true", "VC_MAX_COUNTERS": "10000",
            "VC_KEEP_DAYS": "0", "VC_OWNER_CREATES_COUNTERS": "false"}
FULL = {**TEMPLATE, "VC_PROFILE": "full", "VC_COUNT_UNIT": "visitors", "VC_REPEAT_WINDOW": "10"}
CLASSIC = {**TEMPLATE, "VC_PROFILE": "classic", "VC_COUNT_UNIT": "views", "VC_REPEAT_WINDOW": "0"}


def visitor_event(number, method="GET", path="/count/home", headers=None):
    """A counting request from source address number `number` (a new visitor per number)."""
    event = http_event(method, path, headers={"origin": ORIGIN, **(headers or {})})
    event["requestContext"]["http"]["sourceIp"] = "198.51.100.%d" % number
    return event


class RequestsPerHit:
    """unittest mixin: the function on a fake DynamoDB, started with the class's `env`."""
    env = {}

    def setUp(self):
        self.fake = self.enterContext(FakeDynamoDb())
        self.api = self.enterContext(FakeRuntimeApi())
        self.proc = start_function(self.api, env={**DUMMY_CREDENTIALS, **self.env,
                                                  "AWS_REGION": "us-east-1",
                                                  "VC_STORE": self.fake.store_url()})

    def tearDown(self):
        self.proc.kill()
        finish(self.proc)

    def operations(self):
        return self.fake.stats()["operations"]

    def requests_of(self, event, status=200, then=None):
        """The DynamoDB requests one event made, by operation: {"UpdateItem": 3}. `then`
        (operations -> bool) waits for work the function does after answering."""
        before = self.operations()
        post = self.api.invoke(event, timeout=30)
        self.assertEqual(post.kind, "response", post)
        self.assertEqual(post.json()["statusCode"], status, post.json())
        if then:
            self.fake.wait_until(lambda stats: then(stats["operations"]),
                                 "the work after the answer")
        after = self.operations()
        return {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}

    def answer(self, path):
        post = self.api.invoke(http_event("GET", path, headers={"origin": ORIGIN}), timeout=30)
        return post.json()["statusCode"], json.loads(post.json()["body"])


class FullProfileTest(RequestsPerHit, unittest.TestCase):
    env = FULL

    def test_the_salt_is_fetched_at_init_and_a_new_visitor_costs_three_writes(self):
        # Before any event: the day's salt, one UpdateItem, and nothing else.
        self.api.wait_until(lambda: self.api.first_next_time is not None, what="GET next")
        self.fake.wait_until(lambda stats: stats["operations"].get("UpdateItem") == 1, "the salt")
        self.assertEqual(self.operations(), {"UpdateItem": 1})
        salts = [k for k in self.fake.stats()["items"] if k.startswith("#salt#")]
        self.assertEqual(len(salts), 1, salts)
        self.assertEqual(self.api.posts, [])
        # The first hit on a new counter: is there a counter (GetItem), take a place in the
        # count of counters, the visitor's mark, the counter and its day row; then, after
        # the answer, the two earlier days' salts deleted.
        first = self.requests_of(visitor_event(1),
                                 then=lambda ops: ops.get("DeleteItem", 0) == 2)
        self.assertEqual(first, {"GetItem": 1, "UpdateItem": 4, "DeleteItem": 2})
        # Warm: a new visitor is three writes (mark, counter, day row).
        self.assertEqual(self.requests_of(visitor_event(2)), {"UpdateItem": 3})
        # A reload within the repeat window: the mark's conditional write fails (billed as
        # a write), then the counter is read for its answer.
        self.assertEqual(self.requests_of(visitor_event(2)), {"UpdateItem": 1, "GetItem": 1})
        # The widget's POST with an Idempotency-Key: the key's claim and its recorded answer.
        widget = visitor_event(3, "POST", headers={"idempotency-key": '"k-1"'})
        self.assertEqual(self.requests_of(widget), {"PutItem": 1, "UpdateItem": 4})
        items = self.fake.stats()["items"]
        self.assertEqual(items["home"]["count"], 3)
        self.assertEqual(items["home"]["visitors"], 3)


class ClassicProfileTest(RequestsPerHit, unittest.TestCase):
    env = CLASSIC

    def test_every_hit_is_one_update_of_the_classic_item(self):
        # The first hit on a new counter also checks it exists and takes a place in the
        # count of counters (MaxCounters); no salt, no mark, no day row.
        self.assertEqual(self.requests_of(visitor_event(1)), {"GetItem": 1, "UpdateItem": 2})
        for event in [visitor_event(2), visitor_event(2), visitor_event(4, "GET", "/count/home"),
                      visitor_event(5, "POST", headers={"idempotency-key": '"k-1"'}),
                      visitor_event(5, "POST", headers={"idempotency-key": '"k-1"'})]:
            self.assertEqual(self.requests_of(event), {"UpdateItem": 1})
        items = self.fake.stats()["items"]
        # The classic design's item, and nothing of the counting policy beside it.
        self.assertEqual(items["home"], {"id": "home", "count": 6})
        self.assertEqual(sorted(items), ["#counters", "home"])
        self.assertEqual(self.answer("/counters/home"),
                         (200, {"key": "home", "count": 6, "views": 6, "visitors": 0}))

    def test_history_and_period_badges_say_there_is_none(self):
        self.requests_of(visitor_event(1))
        for path in ["/history/home", "/badge/home.svg?period=7d"]:
            status, body = self.answer(path)
            self.assertEqual((status, body["error"]), (404, "not_found"), path)
            self.assertIn("classic profile", body["message"])


if __name__ == "__main__":
    unittest.main()
