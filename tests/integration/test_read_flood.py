"""Reads do not starve counting: with a store that answers every call in 50 ms, 150 clients
reading `/counters/KEY`, `/history/KEY` and `/healthz` in a loop do not hold up the hits of 40 others, who
all count (200) within the widget's patience, as the hits would if the reads queued ahead
of them on the thread that writes. The reads get their own bounded path: answered, or
refused at once with `503 overloaded` when their own bound is full."""
import json
import threading
import time
import unittest

from dynalite import DUMMY_CREDENTIALS
from fake_dynamodb import FakeDynamoDb
from server import Server, send

READERS, COUNTERS = 150, 40
PATIENCE = 4.0  # seconds, as the widget waits


class ReadFloodTest(unittest.TestCase):
    def test_a_read_flood_does_not_hold_up_hits(self):
        with FakeDynamoDb(latency=0.05, scheduled=lambda operation, body: True) as fake, \
                Server(store=fake.store_url(), env=DUMMY_CREDENTIALS) as s:
            self.assertEqual(s.request("POST", "/count/page")[0], 200)  # the salt; a counter
            stop = threading.Event()
            reads, read_errors, lock = {}, [], threading.Lock()
            together = threading.Barrier(READERS)  # the flood starts at once

            def reader(i):
                try:
                    conn = s.connection(timeout=30)
                    conn.connect()
                    path = {0: "/healthz", 1: "/history/page"}.get(i % 15, "/counters/page")
                    together.wait()
                    while not stop.is_set():
                        status = send(conn, "GET", path)[0]
                        with lock:
                            reads[status] = reads.get(status, 0) + 1
                except Exception as e:  # pragma: no cover - reported below
                    read_errors.append(repr(e))

            readers = [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
            for t in readers:
                t.start()
            deadline = time.monotonic() + 20
            while fake.stats()["operations"].get("GetItem", 0) < 30:  # the flood is on
                self.assertLess(time.monotonic(), deadline, "no reads: %r" % read_errors)
                time.sleep(0.05)
            hits, hit_errors = [], []

            def counter(i):
                try:
                    conn = s.connection(timeout=PATIENCE)
                    status, _, body = send(conn, "POST", "/count/hit-%d" % i)
                    hits.append((status, json.loads(body)))
                except Exception as e:
                    hit_errors.append(repr(e))

            counters = [threading.Thread(target=counter, args=(i,)) for i in range(COUNTERS)]
            for t in counters:
                t.start()
            for t in counters:
                t.join()
            stop.set()
            for t in readers:
                t.join()
            items = fake.stats()["items"]
        print("\nreads answered by status: %r" % reads)
        self.assertEqual(hit_errors, [], "hits without an answer within %.0f s" % PATIENCE)
        self.assertEqual([body for status, body in hits if status != 200], [])
        for i in range(COUNTERS):
            self.assertEqual(int(items["hit-%d" % i]["count"]), 1)
        self.assertEqual(read_errors, [])
        self.assertGreater(reads.get(200, 0), 0)
        self.assertEqual(set(reads) - {200, 503}, set())


if __name__ == "__main__":
    unittest.main()
