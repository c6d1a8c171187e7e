"""Runs the classic handler (lambda_function.py, the project's seed, unchanged) against a
local DynamoDB endpoint, from several threads, for test_classic_interleave.

Usage: run_classic.py ENDPOINT THREADS CALLS. Needs boto3 (Debian: python3-boto3); the
endpoint is bound by local_handler.py. Credentials and region come from the usual AWS_*
variables. Prints "ready" once the handler is loaded, waits for a line on stdin,
runs THREADS x CALLS invocations at once, then prints one JSON list of every count the
handler returned; a failed invocation makes the exit code non-zero.
"""
import json
import sys
import threading

from local_handler import load_handler

endpoint, threads, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lambda_function = load_handler(endpoint)

print("ready", flush=True)
sys.stdin.readline()

counts, errors = [], []


def invoke():
    for _ in range(calls):
        try:
            answer = lambda_function.lambda_handler({}, None)
            assert answer["statusCode"] == 200, answer
            counts.append(json.loads(answer["body"])["count"])
        except Exception as e:  # reported below, the test fails
            errors.append(repr(e))


workers = [threading.Thread(target=invoke) for _ in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(json.dumps(counts), flush=True)
if errors:
    print("\n".join(errors[:5]), file=sys.stderr)
    sys.exit(1)
