"""The AWS credential chain against local fakes on 127.0.0.1, pointed to by the documented
override variables: the shared files (a named profile, the config file), EC2 instance
metadata (IMDSv2 only: a token first), ECS container credentials with their authorization
token, and web identity through STS. A fake DynamoDB records which access key signed each
request, so the tests see temporary credentials refreshed before they expire, and a
refresh that keeps failing end in 503 once they have expired."""
import datetime
import http.server
import json
import os
import tempfile
import threading
import time
import unittest
import urllib.parse

from fake_dynamodb import FakeDynamoDb
from server import Server

NO_KEYS = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
           "AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true"}


def expiring(seconds):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Metadata:
    """IMDSv2, ECS and STS on one local port. Each fetch hands out the next key id
    (AKIDTEST1, AKIDTEST2, ...) valid for `lifetime` seconds; `failing` makes every fetch
    after the first answer 500."""

    def __init__(self, lifetime=600):
        self.lifetime, self.failing, self.served, self.seen = lifetime, False, 0, []
        metadata = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body, content_type="application/json"):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def credentials(self):
                metadata.served += 1
                if metadata.failing and metadata.served > 1:
                    return None
                return {"AccessKeyId": "AKIDTEST%d" % metadata.served,
                        "SecretAccessKey": "secret%d" % metadata.served,
                        "Token": "token%d" % metadata.served,
                        "Expiration": expiring(metadata.lifetime)}

            def do_PUT(self):
                metadata.seen.append(("PUT", self.path, dict(self.headers)))
                if self.path == "/latest/api/token" and \
                        self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    return self.answer(200, "imds-session-token", "text/plain")
                self.answer(400, "")

            def do_GET(self):
                metadata.seen.append(("GET", self.path, dict(self.headers)))
                if self.path.startswith("/latest/meta-data/"):
                    if self.headers.get("X-aws-ec2-metadata-token") != "imds-session-token":
                        return self.answer(401, "")  # IMDSv1 is refused, as on a hardened host
                    if self.path.endswith("/security-credentials/"):
                        return self.answer(200, "counter-role", "text/plain")
                    if self.path == "/latest/meta-data/placement/region":
                        return self.answer(200, "ap-south-1", "text/plain")
                if self.path in ("/latest/meta-data/iam/security-credentials/counter-role",
                                 "/ecs/credentials"):
                    if self.path == "/ecs/credentials" and \
                            self.headers.get("Authorization") != "ecs-auth-token":
                        return self.answer(401, "")
                    creds = self.credentials()
                    return self.answer(500, "") if creds is None else \
                        self.answer(200, json.dumps(creds))
                self.answer(404, "")

            def do_POST(self):
                form = urllib.parse.parse_qs(self.rfile.read(
                    int(self.headers["Content-Length"])).decode())
                metadata.seen.append(("POST", self.path, form))
                creds = self.credentials()
                if creds is None or form.get("Action") != ["AssumeRoleWithWebIdentity"] or \
                        form.get("WebIdentityToken") != ["the-oidc-token"]:
                    return self.answer(400, "<Error/>", "text/xml")
                xml = ("<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
                       "<Credentials><AccessKeyId>%s</AccessKeyId>"
                       "<SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken>"
                       "<Expiration>%s</Expiration></Credentials>"
                       "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
                       % (creds["AccessKeyId"], creds["SecretAccessKey"], creds["Token"],
                          creds["Expiration"]))
                self.answer(200, xml, "text/xml")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class CredentialChainTest(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.TemporaryDirectory()
        self.dynamodb = FakeDynamoDb().__enter__()

    def tearDown(self):
        self.dynamodb.__exit__()
        self.home.cleanup()

    def server(self, env):
        return Server(store=self.dynamodb.store_url(),
                      env={**NO_KEYS, "HOME": self.home.name, **env})

    def counts_with(self, s, key_id):
        status, _, body = s.request("GET", "/count/signed")
        self.assertEqual(status, 200, body)
        self.assertIn(key_id, self.dynamodb.stats()["key_ids"])

    def wait_for_key(self, key_id, timeout=30):
        deadline = time.monotonic() + timeout
        while key_id not in self.dynamodb.stats()["key_ids"]:
            self.assertLess(time.monotonic(), deadline, "no request signed with " + key_id)
            time.sleep(0.2)

    def test_a_named_profile_from_the_shared_files(self):
        credentials = os.path.join(self.home.name, "creds")
        config = os.path.join(self.home.name, "config")
        with open(credentials, "w") as f:
            f.write("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n"
                    "[site]\naws_access_key_id = AKIDSITE\naws_secret_access_key = s2\n")
        with open(config, "w") as f:
            f.write("[profile configured]\naws_access_key_id = AKIDCONFIG\n"
                    "aws_secret_access_key = s3\n")
        env = {"AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": config}
        with self.server({**env, "AWS_PROFILE": "site"}) as s:
            self.counts_with(s, "AKIDSITE")
        with self.server({**env, "AWS_PROFILE": "configured"}) as s:
            self.counts_with(s, "AKIDCONFIG")
        with self.assertRaisesRegex(RuntimeError, "AWS_PROFILE missing has no keys"):
            self.server({**env, "AWS_PROFILE": "missing"}).start()
        os.makedirs(os.path.join(self.home.name, ".aws"))
        with open(os.path.join(self.home.name, ".aws/credentials"), "w") as f:
            f.write("[default]\naws_access_key_id = AKIDHOME\naws_secret_access_key = s4\n")
        with self.server({}) as s:  # ~/.aws/credentials, profile default
            self.counts_with(s, "AKIDHOME")

    def test_a_profile_with_a_credential_process(self):
        config = os.path.join(self.home.name, "config")
        calls = os.path.join(self.home.name, "calls")
        # Each run prints the next access key, valid for 20 s: refreshed at half its life.
        script = os.path.join(self.home.name, "process")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho run >> %s\nn=$(wc -l < %s)\n"
                    "printf '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC%%s\", "
                    "\"SecretAccessKey\": \"s\", \"SessionToken\": \"t\", "
                    "\"Expiration\": \"%%s\"}' \"$n\" "
                    "\"$(date -u -d '+20 seconds' +%%Y-%%m-%%dT%%H:%%M:%%SZ)\"\n" % (calls, calls))
        os.chmod(script, 0o755)
        with open(config, "w") as f:
            f.write("[profile tool]\ncredential_process = %s --flag\n"
                    "[profile keyless]\ncredential_process = %s\n"
                    "[profile broken]\ncredential_process = false\n"
                    "[profile long]\ncredential_process = printf "
                    "'{\"Version\":1,\"AccessKeyId\":\"AKIDLONG\",\"SecretAccessKey\":\"s\"}'\n"
                    % (script, "/bin/echo {}"))
        env = {"AWS_CONFIG_FILE": config}
        with self.server({**env, "AWS_PROFILE": "tool"}) as s:
            self.counts_with(s, "AKIDPROC1")
            deadline = time.monotonic() + 30
            while "AKIDPROC2" not in self.dynamodb.stats()["key_ids"]:
                self.assertLess(time.monotonic(), deadline, "the process was not run again")
                s.request("GET", "/count/signed")
                time.sleep(0.5)
        with self.server({**env, "AWS_PROFILE": "long"}) as s:  # no Expiration: kept
            self.counts_with(s, "AKIDLONG")
        with self.assertRaisesRegex(RuntimeError, "credential_process of profile broken: exited"):
            self.server({**env, "AWS_PROFILE": "broken"}).start()
        with self.assertRaisesRegex(RuntimeError, "keyless: printed no JSON"):
            self.server({**env, "AWS_PROFILE": "keyless"}).start()

    def test_instance_metadata_v2_and_a_refresh_before_expiry(self):
        metadata = Metadata(lifetime=20)  # refreshed at half their life: after about 10 s
        try:
            with self.server({"AWS_EC2_METADATA_DISABLED": "",
                              "AWS_EC2_METADATA_SERVICE_ENDPOINT": metadata.url}) as s:
                self.counts_with(s, "AKIDTEST1")
                self.wait_for_key_by_counting(s, "AKIDTEST2")
            token_first = [m for m, path, _ in metadata.seen][:1]
            self.assertEqual(token_first, ["PUT"])  # IMDSv2: the token before anything else
        finally:
            metadata.close()

    def wait_for_key_by_counting(self, s, key_id, timeout=30):
        deadline = time.monotonic() + timeout
        while key_id not in self.dynamodb.stats()["key_ids"]:
            self.assertLess(time.monotonic(), deadline, "no request signed with " + key_id)
            self.assertEqual(s.request("GET", "/count/signed")[0], 200)
            time.sleep(0.5)

    def test_ecs_container_credentials_with_their_token(self):
        metadata = Metadata()
        try:
            with self.server({"AWS_CONTAINER_CREDENTIALS_FULL_URI": metadata.url + "/ecs/credentials",
                              "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ecs-auth-token"}) as s:
                self.counts_with(s, "AKIDTEST1")
            with self.assertRaisesRegex(RuntimeError, "ECS credentials"):
                self.server({"AWS_CONTAINER_CREDENTIALS_FULL_URI":
                             metadata.url + "/ecs/credentials",
                             "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong"}).start()
        finally:
            metadata.close()

    def test_web_identity_through_sts(self):
        metadata = Metadata()
        token_file = os.path.join(self.home.name, "token")
        with open(token_file, "w") as f:
            f.write("the-oidc-token\n")
        try:
            with self.server({"AWS_WEB_IDENTITY_TOKEN_FILE": token_file,
                              "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/counter",
                              "AWS_ENDPOINT_URL_STS": metadata.url}) as s:
                self.counts_with(s, "AKIDTEST1")
            [(_, _, form)] = [seen for seen in metadata.seen if seen[0] == "POST"]
            self.assertEqual(form["RoleArn"], ["arn:aws:iam::123456789012:role/counter"])
            self.assertEqual(form["RoleSessionName"], ["visitor-counter"])
        finally:
            metadata.close()

    def test_the_region_from_the_profile_then_the_instance(self):
        url = "dynamodb://%s?endpoint=http://127.0.0.1:%d" % ("visitor-counter",
                                                               self.dynamodb.port)
        config = os.path.join(self.home.name, "config")
        with open(config, "w") as f:
            f.write("[default]\nregion = eu-west-3\naws_access_key_id = AKIDREGION\n"
                    "aws_secret_access_key = s\n")
        with Server(store=url, env={**NO_KEYS, "HOME": self.home.name,
                                    "AWS_CONFIG_FILE": config, "AWS_REGION": "",
                                    "AWS_DEFAULT_REGION": ""}) as s:
            self.counts_with(s, "AKIDREGION")
            self.assertIn("eu-west-3", self.dynamodb.stats()["scopes"][-1])
        metadata = Metadata()
        try:
            with Server(store=url, env={**NO_KEYS, "HOME": self.home.name, "AWS_REGION": "",
                                        "AWS_DEFAULT_REGION": "", "AWS_CONFIG_FILE": "/none",
                                        "AWS_EC2_METADATA_DISABLED": "",
                                        "AWS_EC2_METADATA_SERVICE_ENDPOINT": metadata.url}) as s:
                self.counts_with(s, "AKIDTEST1")
                self.assertIn("ap-south-1", self.dynamodb.stats()["scopes"][-1])
        finally:
            metadata.close()

    def test_expired_credentials_that_cannot_be_refreshed_give_503(self):
        metadata = Metadata(lifetime=4)
        metadata.failing = True  # only the first fetch succeeds
        try:
            with self.server({"AWS_EC2_METADATA_DISABLED": "",
                              "AWS_EC2_METADATA_SERVICE_ENDPOINT": metadata.url}) as s:
                self.counts_with(s, "AKIDTEST1")
                deadline = time.monotonic() + 20
                while True:
                    status, _, body = s.request("GET", "/count/signed")
                    if status == 503:
                        break
                    self.assertLess(time.monotonic(), deadline, "still counting after expiry")
                    time.sleep(0.3)
                self.assertEqual(json.loads(body)["outcome"], "not_counted")
                self.assertEqual(s.request("GET", "/healthz")[0], 503)
        finally:
            metadata.close()


if __name__ == "__main__":
    unittest.main()
