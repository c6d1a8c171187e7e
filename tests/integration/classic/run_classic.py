"""Runs the classic handler (lambda_function.py, the project's seed, unchanged) against a
local DynamoDB endpoint, from several threads, for test_classic_interleave.

Usage: run_classic.py ENDPOINT THREADS CALLS. Needs boto3 (Debian: python3-boto3). Debian
12's botocore (1.29) ignores AWS_ENDPOINT_URL*, so boto3.resource is wrapped to pass
`endpoint_url` before the handler is imported. Credentials and region come from the usual
AWS_* variables. Prints "ready" once the handler is loaded, waits for a line on stdin,
runs THREADS x CALLS invocations at once, then prints one JSON list of every count the
handler returned; a failed invocation makes the exit code non-zero.
"""
import json
import sys
import threading

import boto3

endpoint, threads, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
_resource = boto3.resource


def _local_resource(*args, **kwargs):
    kwargs.setdefault("endpoint_url", endpoint)
    return _resource(*args, **kwargs)


boto3.resource = _local_resource
import lambda_function  # noqa: E402  (must come after the patch)

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
