"""Exactness under concurrency: 16 clients x 500 hits raise the counter by exactly 8000,
and the 8000 answers are the numbers 1..8000, each once."""
import re
import unittest

from server import Clients, Server

CLIENTS, HITS = 16, 500


class ConcurrencyTest(unittest.TestCase):
    def test_sixteen_clients_count_exactly(self):
        with Server() as s:
            values = sorted(Clients(s, CLIENTS, HITS).run())
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
            loads = [Clients(s, 2, 100, "POST", "/count/page-%d" % key) for key in range(4)]
            for load in loads:
                load.start()
            for load in loads:
                load.join()
            for key in range(4):
                self.assertEqual(s.count("page-%d" % key), 200)


if __name__ == "__main__":
    unittest.main()
