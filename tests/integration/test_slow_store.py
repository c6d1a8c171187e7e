"""Latency stays bounded when the store is slow: a hit not sent to the store within
--queue-timeout-ms is answered `503 overloaded`, "outcome":"not_counted", and is never
applied; the hits that were sent are answered as the store answers them.

Many clients count a different key each, at once, with the patience of the widget (4 s),
against a DynamoDB endpoint that answers every call in 100 ms through a few connections, and
against a Redis server that is stopped (SIGSTOP) for longer than that (the batch at Redis
then ends with the store's own 3 s timeout, `unknown`). The assertions are about
outcomes, not timings: every client gets an answer; a key answered 200 is stored once, a key
answered `not_counted` is not stored at all, and one answered `unknown` at most once. Without
the queue timeout, clients wait for the whole backlog and give up unanswered."""
import json
import os
import signal
import threading
import time
import unittest

from dynalite import DUMMY_CREDENTIALS
from fake_dynamodb import FakeDynamoDb
from redis_server import RedisServer
from server import Server

PATIENCE = 4.0  # seconds, as the widget waits


def count_at_once(server, keys):
    """One client per key, all at once, each on its own connection with PATIENCE as its
    timeout. Returns {key: (status, body as JSON)}; a client that got no answer fails."""
    answers, errors, lock = {}, [], threading.Lock()
    ready = threading.Barrier(len(keys))

    def client(key):
        conn = server.connection(timeout=PATIENCE)
        try:
            conn.connect()
            ready.wait()
            conn.request("POST", "/count/" + key)
            response = conn.getresponse()
            answer = (response.status, json.loads(response.read()))
            with lock:
                answers[key] = answer
        except Exception as e:  # no answer within PATIENCE: what the bound is for
            with lock:
                errors.append("%s: %r" % (key, e))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(key,)) for key in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise AssertionError("%d of %d clients got no answer within %.0f s, e.g. %s"
                             % (len(errors), len(keys), PATIENCE, errors[:3]))
    return answers


class SlowStoreTest(unittest.TestCase):
    def check_outcomes(self, answers, stored):
        """Each key's answer against what the store holds for it."""
        outcomes = {}
        for key, (status, body) in answers.items():
            outcome = "counted" if status == 200 else body.get("outcome")
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if status == 200:
                self.assertEqual(stored(key), 1, key)
                continue
            self.assertEqual(status, 503, (key, body))
            if outcome == "not_counted":
                self.assertEqual(stored(key), 0, "%s: answered not_counted, but counted" % key)
            else:
                self.assertEqual(outcome, "unknown", body)
                self.assertIn(stored(key), (0, 1), key)
        return outcomes

    def test_dynamodb_that_answers_slowly(self):
        keys = ["slow-%03d" % i for i in range(300)]
        with FakeDynamoDb(latency=0.1, scheduled=lambda operation, body: True) as fake, \
                Server("--queue-timeout-ms", "1500",
                       store=fake.store_url("&max_in_flight=8"), env=DUMMY_CREDENTIALS) as s:
            self.assertEqual(s.request("POST", "/count/warm-up")[0], 200)  # the day's salt
            answers = count_at_once(s, keys)
            items = fake.stats()["items"]
            outcomes = self.check_outcomes(
                answers, lambda key: int(items.get(key, {}).get("count", 0)))
            metrics = s.request("GET", "/metrics")[2]
        print("\nDynamoDB, 100 ms a call, 8 at once: %r" % outcomes)
        self.assertGreater(outcomes.get("counted", 0), 0)
        self.assertGreater(outcomes.get("not_counted", 0), 0, "nothing was refused in time")
        refused = int(metrics.split("\nvc_queue_timeouts_total ")[1].split()[0])
        self.assertEqual(refused, outcomes["not_counted"])

    def test_redis_that_stalls(self):
        keys = ["stall-%03d" % i for i in range(100)]
        with RedisServer() as redis, \
                Server("--queue-timeout-ms", "1000", store=redis.url("?timeout_ms=3000")) as s:
            self.assertEqual(s.request("POST", "/count/warm-up")[0], 200)
            os.kill(redis.proc.pid, signal.SIGSTOP)
            resumed = threading.Timer(5, os.kill, (redis.proc.pid, signal.SIGCONT))
            resumed.start()
            try:
                # One hit first, until its batch is at the stopped Redis; then the others
                # queue behind it.
                first = {}
                held = threading.Thread(target=lambda: first.update(count_at_once(s, keys[:1])))
                held.start()
                deadline = time.monotonic() + 10
                while "\nvc_write_batch_hits_count 2\n" not in s.request("GET", "/metrics")[2]:
                    self.assertLess(time.monotonic(), deadline, "the first hit's batch never began")
                    time.sleep(0.01)
                answers = count_at_once(s, keys[1:])
                held.join()
                answers.update(first)
            finally:
                resumed.join()
                os.kill(redis.proc.pid, signal.SIGCONT)
            outcomes = self.check_outcomes(answers, s.count)
        print("\nRedis stopped for 5 s, a 3 s timeout: %r" % outcomes)
        self.assertGreater(outcomes.get("not_counted", 0), 0, "nothing was refused in time")


if __name__ == "__main__":
    unittest.main()
