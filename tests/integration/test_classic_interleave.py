"""The classic Python handler (classic/lambda_function.py, run with Debian's boto3) and our
server count on one table, 'visitor-counter', at the same time: 4 handler threads x 100
invocations interleaved with 8 HTTP clients x 100 hits give one exact, gap-free sequence
1..1200, and both read the same item. Our server also keeps its counting policy's items
in the table (the day's row, the visitor's mark, the day's salt) and `visitors` on the
counter item; the classic handler touches only `count`.

The handler runs under $VC_CLASSIC_PYTHON (default /usr/bin/python3, which has the
python3-boto3 package); if that interpreter or boto3 is missing, the test fails."""
import json
import os
import subprocess
import unittest

from dynalite import DUMMY_CREDENTIALS, REGION, Dynalite, check_policy_items
from server import Clients, Server

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "classic", "run_classic.py")
CLASSIC_PYTHON = os.environ.get("VC_CLASSIC_PYTHON", "/usr/bin/python3")
TABLE = "visitor-counter"  # the classic handler's hard-coded table
HANDLER_THREADS, HANDLER_CALLS = 4, 100
CLIENTS, HITS = 8, 100


class ClassicInterleaveTest(unittest.TestCase):
    def test_classic_handler_and_server_share_one_exact_counter(self):
        self.assertTrue(os.access(CLASSIC_PYTHON, os.X_OK),
                        "%s is missing: install python3-boto3" % CLASSIC_PYTHON)
        with Dynalite() as dynalite:
            dynalite.create_table(TABLE)
            with Server(store=dynalite.store_url(TABLE), env=DUMMY_CREDENTIALS) as s:
                classic = self.start_classic(dynalite.endpoint)
                try:
                    handler_counts, server_counts = self.run_both(s, classic)
                finally:
                    if classic.poll() is None:
                        classic.kill()
                        classic.wait()
                total = HANDLER_THREADS * HANDLER_CALLS + CLIENTS * HITS
                self.assertEqual(len(handler_counts), HANDLER_THREADS * HANDLER_CALLS)
                self.assertEqual(len(server_counts), CLIENTS * HITS)
                self.assertEqual(sorted(handler_counts + server_counts),
                                 list(range(1, total + 1)))
                self.assertEqual(s.count("visitors"), total)
                # They really ran at once: neither side's answers form one block.
                self.assertGreater(max(handler_counts) - min(handler_counts) + 1,
                                   len(handler_counts))
                self.assertGreater(max(server_counts) - min(server_counts) + 1,
                                   len(server_counts))
            # `count` has both sides' hits; `visitors` and the day's row only ours (all
            # from one visitor: one address, no User-Agent).
            self.assertEqual(dynalite.item(TABLE, "visitors"),
                             {"id": {"S": "visitors"}, "count": {"N": str(total)},
                              "visitors": {"N": "1"}})
            check_policy_items(self, dynalite.scan(TABLE), "visitors", views=CLIENTS * HITS,
                               visitors=1)

    def start_classic(self, endpoint):
        env = {**os.environ, **DUMMY_CREDENTIALS, "AWS_DEFAULT_REGION": REGION,
               "AWS_REGION": REGION, "PYTHONPATH": ""}
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE",
                     "AWS_SHARED_CREDENTIALS_FILE"):
            env.pop(name, None)
        proc = subprocess.Popen(
            [CLASSIC_PYTHON, RUNNER, endpoint, str(HANDLER_THREADS), str(HANDLER_CALLS)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env, cwd=os.path.dirname(RUNNER))
        line = proc.stdout.readline()
        if line.strip() != "ready":
            proc.kill()
            _, err = proc.communicate()
            self.fail("classic handler did not start (boto3 missing?): %r %s" % (line, err))
        return proc

    def run_both(self, server, classic):
        ours = Clients(server, CLIENTS, HITS)
        classic.stdin.write("go\n")
        classic.stdin.flush()
        ours.start()
        out, err = classic.communicate(timeout=300)
        values = ours.join()
        self.assertEqual(classic.returncode, 0, err)
        return json.loads(out), values


if __name__ == "__main__":
    unittest.main()
