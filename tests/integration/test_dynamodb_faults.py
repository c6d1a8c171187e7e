"""Exact under faults: `serve --store dynamodb://...` against a DynamoDB endpoint that applies
an UpdateItem and then answers 500 or resets the connection, or throttles it.

The promise: acknowledged <= stored <= sent. A write whose outcome is unknown is never
resent; its hits get 503 with "outcome":"unknown" (and count in
vc_hits_outcome_unknown_total). Throttling applied nothing, so it is retried, and every
hit of a throttling-only run is exact.

The faults hit the counter's own write (UpdateItem ADD on `count`), numbered among those
writes; the counting policy's items (the day's salt, visitor marks, day rows) are written
without fault. A day's row is raised only after its counter's write succeeded, so it holds
exactly the 200s: the history lags the counter by the writes whose outcome is unknown."""
import json
import re
import threading
import time
import unittest

from dynalite import DUMMY_CREDENTIALS, check_policy_items
from fake_dynamodb import FakeDynamoDb, item_id
from server import Server

CLIENTS, HITS_EACH = 8, 40


def ambiguous_every_4th_and_7th(n):
    if n % 4 == 0:
        return "500_after"
    if n % 7 == 0:
        return "reset_after"
    return "ok"


def hammer(server, clients=CLIENTS, hits=HITS_EACH, key="visitors"):
    """Each client sends `hits` counting requests on its own kept-alive connection.
    Returns every (status, JSON body) answered."""
    answers, lock = [], threading.Lock()

    def client():
        conn = server.connection(timeout=30)
        mine = []
        try:
            for _ in range(hits):
                conn.request("POST", "/count/" + key)
                response = conn.getresponse()
                mine.append((response.status, json.loads(response.read()),
                             response.getheader("Retry-After")))
        finally:
            conn.close()
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def metric(server, name):
    text = server.request("GET", "/metrics")[2]
    return int(re.search(r"^%s (\d+)$" % name, text, re.M).group(1))


class DynamoDbFaultsTest(unittest.TestCase):
    def test_ambiguous_failures_never_double_count(self):
        with FakeDynamoDb(ambiguous_every_4th_and_7th) as fake, \
                Server(store=fake.store_url(), env=DUMMY_CREDENTIALS) as s:
            answers = hammer(s)
            sent = CLIENTS * HITS_EACH
            self.assertEqual(len(answers), sent)
            ok = [body["count"] for status, body, _ in answers if status == 200]
            unknown = [body for status, body, _ in answers
                       if status == 503 and body.get("outcome") == "unknown"]
            others = [a for a in answers if a[0] != 200 and a[1].get("outcome") != "unknown"]
            self.assertEqual(others, [])
            for body in unknown:
                self.assertEqual(body["error"], "store_unavailable")
            self.assertTrue(all(a[2] == "1" for a in answers if a[0] == 503))
            stored = fake.count("visitors")
            # Every ambiguous write here was in fact applied, and none was sent twice.
            self.assertEqual(stored, len(ok) + len(unknown))
            self.assertLessEqual(len(ok), stored)
            self.assertLessEqual(stored, sent)
            self.assertEqual(len(set(ok)), len(ok), "the 200s must carry distinct values")
            self.assertLessEqual(max(ok), stored)
            self.assertGreater(fake.stats()["calls"].get("500_after", 0), 0)
            self.assertGreater(fake.stats()["calls"].get("reset_after", 0), 0)
            self.assertGreater(len(unknown), 0)
            self.assertEqual(metric(s, "vc_hits_outcome_unknown_total"), len(unknown))
            # One visitor (one address, no User-Agent), counted by the first write (applied
            # whatever its fault; here n = 1, "ok"). The day's row goes beside the counter
            # and is kept when the counter's answer is lost, so it has what the counter has.
            self.assertEqual(fake.stats()["items"]["visitors"]["visitors"], 1)
            check_policy_items(self, fake.scan(), "visitors", views=stored, visitors=1)

    def test_throttling_is_retried_and_exact(self):
        def throttle_every_3rd(n):
            return "throttle" if n % 3 == 0 else "ok"

        with FakeDynamoDb(throttle_every_3rd) as fake, \
                Server(store=fake.store_url("&max_attempts=10"), env=DUMMY_CREDENTIALS) as s:
            answers = hammer(s)
            self.assertEqual([a for a in answers if a[0] != 200], [])
            self.assertEqual(fake.count("visitors"), CLIENTS * HITS_EACH)
            self.assertGreater(fake.stats()["calls"].get("throttle", 0), 0)
            values = sorted(body["count"] for _, body, _ in answers)
            self.assertEqual(values, list(range(1, CLIENTS * HITS_EACH + 1)))
            self.assertEqual(metric(s, "vc_hits_outcome_unknown_total"), 0)
            self.assertEqual(fake.stats()["items"]["visitors"]["visitors"], 1)
            check_policy_items(self, fake.scan(), "visitors", views=CLIENTS * HITS_EACH,
                               visitors=1)


    def test_a_slow_key_does_not_hold_up_the_others_in_its_batch(self):
        """Keys are independent: in one batch, a key whose visitor mark is slow delays that
        key only. (A batch is formed while the previous one is at the store, so a first
        slow hit holds the worker while `slow` and `fast` queue up into the next batch.)"""
        def slow_mark(operation, body):
            return operation == "UpdateItem" and re.match(r"slow[^#]*#v#", item_id(body) or "")

        with FakeDynamoDb(latency=2.0, scheduled=slow_mark) as fake, \
                Server(store=fake.store_url("&timeout_ms=5000&deadline_ms=10000"),
                       env=DUMMY_CREDENTIALS) as s:
            self.assertEqual(s.request("POST", "/count/warm-up")[0], 200)  # the day's salt
            answers, started = {}, time.monotonic()

            def hit(key):
                status = s.request("POST", "/count/" + key)[0]
                answers[key] = (status, time.monotonic() - started)

            first = threading.Thread(target=hit, args=("slow-first",))
            first.start()
            while fake.stats()["in_flight"] == 0:  # the worker is in the first batch
                time.sleep(0.01)
            both = [threading.Thread(target=hit, args=(key,)) for key in ("slow", "fast")]
            for thread in both:
                thread.start()
            for thread in [first, *both]:
                thread.join()
            self.assertEqual({key: status for key, (status, _) in answers.items()},
                             {"slow-first": 200, "slow": 200, "fast": 200})
            # fast: when the first batch ends (2 s); slow: 2 s after that.
            self.assertLess(answers["fast"][1], answers["slow"][1] - 1.0,
                            "the fast key waited for the slow one: %r" % answers)


    def test_an_idempotency_key_of_a_hit_that_did_not_count_can_count_again(self):
        """A refused write gives its Idempotency-Key back (a resend counts once); one whose
        outcome is unknown keeps it (a resend gets 409, never a second count)."""
        faults = {1: "throttle", 3: "500_after"}  # by counter write
        with FakeDynamoDb(lambda n: faults.get(n, "ok")) as fake, \
                Server(store=fake.store_url("&max_attempts=1"), env=DUMMY_CREDENTIALS) as s:
            def post(key):
                status, _, body = s.request("POST", "/count/idem",
                                            headers={"Idempotency-Key": '"%s"' % key})
                return status, json.loads(body)

            self.assertEqual(post("refused"), (503, {
                "error": "store_unavailable", "outcome": "not_counted",
                "message": "the counter store is unavailable; try again shortly"}))
            status, body = post("refused")
            self.assertEqual((status, body.get("count")), (200, 1), body)
            status, body = post("unknown")
            self.assertEqual((status, body.get("outcome")), (503, "unknown"))
            status, body = post("unknown")
            self.assertEqual((status, body["error"]), (409, "idempotency_conflict"))
            self.assertEqual(fake.count("idem"), 2)  # the first refused, the 500 applied


if __name__ == "__main__":
    unittest.main()
