"""Loads the classic handler (lambda_function.py, unchanged) pointed at a local DynamoDB.

Debian 12's botocore (1.29) ignores AWS_ENDPOINT_URL*, so boto3.resource is wrapped to
pass `endpoint_url` before the handler module is imported (it builds its table at
import). Used by run_classic.py (tests) and bench/classic_bootstrap.py (cold starts).
"""
import importlib
import os
import sys

import boto3


def load_handler(endpoint):
    """The lambda_function module, its boto3 resource bound to `endpoint`."""
    original = boto3.resource

    def local_resource(*args, **kwargs):
        kwargs.setdefault("endpoint_url", endpoint)
        return original(*args, **kwargs)

    boto3.resource = local_resource
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    return importlib.import_module("lambda_function")
