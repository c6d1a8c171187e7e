#!/usr/bin/python3
"""The classic Python handler run as a Lambda custom runtime would run it, for the
cold-start comparison: import boto3 and the handler (the cold part), then loop
next -> lambda_handler -> response on the Runtime API, like AWS's Python runtime.

Environment: AWS_LAMBDA_RUNTIME_API, CLASSIC_HANDLER_DIR (tests/integration/classic: the
unchanged handler and local_handler.py, which binds it to DYNAMODB_ENDPOINT).
"""
import json
import os
import sys
import urllib.request

sys.path.insert(0, os.environ["CLASSIC_HANDLER_DIR"])
from local_handler import load_handler  # noqa: E402  (imports boto3: part of the cold start)

lambda_function = load_handler(os.environ["DYNAMODB_ENDPOINT"])

API = "http://%s/2018-06-01/runtime" % os.environ["AWS_LAMBDA_RUNTIME_API"]

while True:
    with urllib.request.urlopen(API + "/invocation/next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    result = lambda_function.lambda_handler(event, None)
    post = urllib.request.Request(API + "/invocation/%s/response" % request_id,
                                  data=json.dumps(result).encode(), method="POST")
    urllib.request.urlopen(post).read()
