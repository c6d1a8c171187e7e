"""The packaged Lambda zip, as provided.al2023 would run it: one file, `bootstrap`, a
static executable for the function's architecture with no interpreter and no needed
libraries, under 5 MiB zipped (deploy/package.sh says why 5).
Unzipped into an otherwise empty folder and run chrooted there (so nothing of this
machine's system can be loaded, not even /dev/urandom for the day's salt), it serves events
from the fake Runtime API against dynalite, with the counting policy's items beside the
counter.

The zip comes from $VC_LAMBDA_ZIP (`make test` builds it with `make package` first), built
for $VC_LAMBDA_ARCH (x86_64 unless set). With $VC_EMULATOR set (qemu-aarch64-static for the
arm64 zip), the chroot runs a copy of that static emulator, put beside `bootstrap` for the
run, with `bootstrap` as its argument: nothing depends on binfmt_misc.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import zipfile

from dynalite import Dynalite, check_policy_items
from fake_runtime_api import FakeRuntimeApi, http_event
from server import emulator_in

ZIP = os.environ.get("VC_LAMBDA_ZIP", "")
ARCH = os.environ.get("VC_LAMBDA_ARCH", "x86_64")
# What `readelf -h` calls each architecture the template's Architecture parameter allows.
MACHINE = {"x86_64": "Advanced Micro Devices X86-64", "arm64": "AArch64"}[ARCH]


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(ZIP):
            raise AssertionError("VC_LAMBDA_ZIP=%r is not a file: run `make package` (or "
                                 "`make test`, which runs it)" % ZIP)
        cls.root = tempfile.mkdtemp(prefix="vc-lambda-root-")
        with zipfile.ZipFile(ZIP) as z:
            cls.names = z.namelist()
            z.extractall(cls.root)
        cls.bootstrap = os.path.join(cls.root, "bootstrap")
        os.chmod(cls.bootstrap, 0o755)

    def test_the_zip_holds_one_small_static_executable(self):
        self.assertEqual(self.names, ["bootstrap"])
        self.assertLess(os.path.getsize(ZIP), 5 * 1024 * 1024)
        headers = subprocess.run(["readelf", "-h", "-l", "-d", self.bootstrap],
                                 capture_output=True, text=True, check=True).stdout
        self.assertRegex(headers, r"Machine:\s+" + re.escape(MACHINE) + "\n")
        self.assertIn("EXEC (Executable file)", headers)
        self.assertNotIn("INTERP", headers)
        self.assertNotIn("(NEEDED)", headers)
        self.assertEqual(os.listdir(self.root), ["bootstrap"])

    def test_it_serves_events_chrooted_in_an_empty_folder(self):
        self.assertEqual(os.geteuid(), 0, "chroot needs root (CI runs as root)")
        with Dynalite() as dynalite, FakeRuntimeApi() as api:
            dynalite.create_table("visitor-counter")
            env = {"AWS_LAMBDA_RUNTIME_API": api.address, "AWS_REGION": "us-east-1",
                   "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-key-value",
                   "AWS_SESSION_TOKEN": "session-token-value", "TABLE_NAME": "visitor-counter",
                   "VC_STORE": dynalite.store_url("visitor-counter"),
                   "VC_ALLOW_ORIGINS": "https://site.example"}
            emulator = emulator_in(self.root)
            proc = subprocess.Popen([shutil.which("chroot"), self.root, *emulator, "/bootstrap"],
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                answers = [api.invoke(http_event("GET", "/count"), timeout=30) for _ in range(3)]
                counts = [json.loads(a.json()["body"])["count"] for a in answers]
                self.assertEqual(counts, [1, 2, 3])
                refused = api.invoke(http_event("GET", "/count",
                                                headers={"origin": "https://evil.example"}))
                self.assertEqual(refused.json()["statusCode"], 403)
                read = api.invoke(http_event("GET", "/counters/visitors"))
                # The events share one source address and User-Agent: one visitor.
                self.assertEqual(json.loads(read.json()["body"]),
                                 {"key": "visitors", "count": 3, "views": 3, "visitors": 1})
                self.assertEqual(dynalite.item("visitor-counter", "visitors"),
                                 {"id": {"S": "visitors"}, "count": {"N": "3"},
                                  "visitors": {"N": "1"}})
                check_policy_items(self, dynalite.scan("visitor-counter"), "visitors", views=3,
                                   visitors=1)
            finally:
                proc.kill()
                out, err = proc.communicate()
                if emulator:  # the root holds `bootstrap` alone again
                    os.remove(os.path.join(self.root, emulator[0].lstrip("/")))
            logged = (out + err).decode()
            self.assertIn('"route":"/count"', logged)
            for secret in ("secret-key-value", "session-token-value", "evil.example"):
                self.assertNotIn(secret, logged)


if __name__ == "__main__":
    unittest.main()
