#!/usr/bin/python3
"""The classic Python handler run as a Lambda custom runtime would run it, for the
cold-start comparison: import boto3 and the handler (the cold part), then loop
next -> lambda_handler -> response on the Runtime API, like AWS's Python runtime.

Environment: AWS_LAMBDA_RUNTIME_API, CLASSIC_HANDLER_DIR (folder of lambda_function.py),
DYNAMODB_ENDPOINT (dynalite's URL: Debian 12's botocore 1.29 predates
AWS_ENDPOINT_URL_DYNAMODB, so the endpoint is passed to boto3.resource here; the
handler itself is unchanged).
"""
import json
import os
import sys
import urllib.request

import boto3

_resource = boto3.resource
boto3.resource = lambda name, *a, **kw: _resource(
    name, *a, endpoint_url=os.environ["DYNAMODB_ENDPOINT"], **kw)
sys.path.insert(0, os.environ["CLASSIC_HANDLER_DIR"])
import lambda_function  # noqa: E402  (after the endpoint patch, as a cold start would)

API = "http://%s/2018-06-01/runtime" % os.environ["AWS_LAMBDA_RUNTIME_API"]

while True:
    with urllib.request.urlopen(API + "/invocation/next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    result = lambda_function.lambda_handler(event, None)
    post = urllib.request.Request(API + "/invocation/%s/response" % request_id,
                                  data=json.dumps(result).encode(), method="POST")
    urllib.request.urlopen(post).read()
