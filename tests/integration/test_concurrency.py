"""Exactness under concurrency: 16 clients x 500 hits raise the counter by exactly 8000,
and the 8000 answers are the numbers 1..8000, each once."""
import json
import re
import threading
import unittest

from server import Server, send

CLIENTS, HITS = 16, 500


class ConcurrencyTest(unittest.TestCase):
    def test_sixteen_clients_count_exactly(self):
        with Server() as s:
            results = [[] for _ in range(CLIENTS)]

            def client(out):
                conn = s.connection()
                for _ in range(HITS):
                    status, _, body = send(conn, "GET", "/count")
                    assert status == 200, body
                    out.append(json.loads(body)["count"])
                conn.close()

            threads = [threading.Thread(target=client, args=(r,)) for r in results]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            values = sorted(v for r in results for v in r)
            self.assertEqual(values, list(range(1, CLIENTS * HITS + 1)))
            self.assertEqual(s.count(), CLIENTS * HITS)
            metrics = s.request("GET", "/metrics")[2]
            batches = int(re.search(r"^vc_write_batch_hits_count (\d+)$", metrics, re.M).group(1))
            hits = int(re.search(r"^vc_hits_total (\d+)$", metrics, re.M).group(1))
            self.assertEqual(hits, CLIENTS * HITS)
            # Group commit: concurrent hits share commits.
            self.assertLess(batches, CLIENTS * HITS)

    def test_many_keys_at_once(self):
        with Server() as s:
            def client(i):
                conn = s.connection()
                for _ in range(100):
                    send(conn, "POST", "/count/page-%d" % (i % 4))
                conn.close()
            threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for key in range(4):
                self.assertEqual(s.count("page-%d" % key), 200)


if __name__ == "__main__":
    unittest.main()
