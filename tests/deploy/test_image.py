"""deploy/container: the container image `make image` builds, FROM scratch around the static
binary of the lambda preset. The test builds it with deploy/container/build-image (what
`make image` runs) into a podman storage of its own (vfs, in $VC_IMAGE_TEST_DIR or a
temporary folder, so the machine's podman state is neither used nor changed), checks its
configuration (`podman image inspect`) and its files (`podman image mount`), then runs its
entrypoint, with the image's environment and user, chrooted in a copy of the mounted root:
hits counted over HTTP on 127.0.0.1, the SQLite file in /data, the count kept across a
restart. The copy stands for a fresh volume, which podman and docker fill from the image
(ownership included), so /data is tested as the image ships it; the stored image is never
written to. No container is run: `podman run` needs an OCI runtime, cgroups and rlimits
that a CI machine may not allow (on this project's VM Debian 12's crun refuses the hybrid
cgroup setup, and the default open-files limit is above the VM's); chroot needs root only.

The binary comes from $VC_STATIC_BINARY (`make test` builds it with `make package` first).
For the arm64 image (`make image-arm64`), $VC_EMULATOR names the static qemu-user that runs
its entrypoint: a copy of it is put into the copied root and the chroot runs it with the
image's entrypoint as its arguments, so no binfmt_misc is needed.
Needs root, podman (scripts/install-deps test installs it) and a mounted /sys; without any
of them it fails, saying which.
"""
import glob
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../integration"))
from server import EMULATOR, emulator_in  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "../.."))
BUILD_IMAGE = os.path.join(REPO, "deploy/container/build-image")
BINARY = os.path.abspath(os.environ.get("VC_STATIC_BINARY",
                                        os.path.join(REPO, "build/lambda/visitor-counter")))
# The image's platform is the binary's: readelf's name of each machine.
MACHINES = {"amd64": "Advanced Micro Devices X86-64", "arm64": "AArch64"}
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
TAG = "localhost/visitor-counter:image-test"
USER = 10001
# Everything the image holds, and nothing else.
FILES = {"visitor-counter", "etc", "etc/passwd", "etc/group", "etc/ssl", "etc/ssl/certs",
         "etc/ssl/certs/ca-certificates.crt", "tmp", "data"}


def toml_string(text):
    return json.dumps(text)  # a JSON string of a path is a TOML basic string


def certificates(pem):
    """The PEM certificates in `pem`, as a set of their base64 bodies."""
    return {b"".join(block.split()) for block in
            re.findall(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S)}


def mounts_under(folder):
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [p for p in points if p == folder or p.startswith(folder + "/")]


class Server:
    """The image's entrypoint, chrooted in `root` as the image's user, on 127.0.0.1:0."""

    def __init__(self, test, root, log):
        self.test = test
        config = test.config["Config"]
        env = dict(item.split("=", 1) for item in config["Env"])
        env["VC_LISTEN"] = "127.0.0.1:0"  # the image says 0.0.0.0:8080; a free loopback port here
        self.root = root
        self.userspec = config["User"]
        self.log = log
        self.stderr = open(log, "a")
        self.proc = subprocess.Popen(
            [shutil.which("chroot"), "--userspec=" + self.userspec, root, *test.emulator,
             *config["Entrypoint"]],
            env=env, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            line = self.lines.get(timeout=20)
        except queue.Empty:
            line = ""
        found = re.search(r"listening on http://(127\.0\.0\.1:\d+)", line)
        if not found:
            self.kill()
            test.fail("the entrypoint did not start: %r %s" % (line, self.errors()))
        self.url = "http://" + found.group(1)
        # What a health check run in the container sees: the image's VC_LISTEN there, the
        # address actually bound here.
        self.health_env = dict(env, VC_LISTEN=found.group(1))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)

    def errors(self):
        with open(self.log) as f:
            return f.read()

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as answer:
            return answer.status, json.loads(answer.read())

    def run_in_image(self, command):
        """A command of the image (the health check) as the running server would see it."""
        return subprocess.run([shutil.which("chroot"), "--userspec=" + self.userspec, self.root,
                               *self.test.emulator, *command], env=self.health_env,
                              capture_output=True, text=True, timeout=30)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
            self.test.fail("the server did not stop on SIGTERM within 20 s")
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=20)
        self.reader.join(timeout=10)  # at the end of the output once the process is gone
        self.proc.stdout.close()
        self.stderr.close()


class ImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError("test_image needs root (podman image mount, chroot); CI runs "
                                 "as root")
        for tool in ("podman", "chroot", "readelf"):
            if shutil.which(tool) is None:
                raise AssertionError("%s is missing (not on PATH): run scripts/install-deps test "
                                     "(make test does), which installs podman" % tool)
        if not os.path.isdir("/sys/kernel"):
            raise AssertionError("/sys is not mounted, and podman stops without it (in a chroot: "
                                 "mount -t sysfs -o ro sysfs ROOT/sys, as scripts/test-fresh does)")
        if not os.access(BINARY, os.X_OK):
            raise AssertionError("VC_STATIC_BINARY=%r is not an executable: run `make package` "
                                 "(or `make test`, which runs it)" % BINARY)
        headers = subprocess.run(["readelf", "-h", BINARY], capture_output=True, text=True,
                                 check=True, timeout=30).stdout
        cls.arch = next(arch for arch, machine in MACHINES.items()
                        if re.search(r"Machine:\s+%s\n" % machine, headers))
        fixed = os.environ.get("VC_IMAGE_TEST_DIR")
        if fixed:  # a folder of the build tree, emptied first: a killed run leaves nothing behind
            cls.work = os.path.abspath(fixed)
            cls.remove_work()
            os.makedirs(cls.work)
        else:
            cls.work = tempfile.mkdtemp(prefix="vc-image-test-")
        cls.podman_env = cls.private_podman()
        cls.addClassCleanup(cls.clean_up)

        built = cls.podman_run_script([BUILD_IMAGE, BINARY, TAG], timeout=180)
        if built.returncode != 0:
            raise AssertionError("build-image failed:\n%s%s" % (built.stdout, built.stderr))
        cls.config = json.loads(cls.podman("image", "inspect", TAG).stdout)[0]
        cls.mounted = cls.podman("image", "mount", TAG).stdout.strip()
        if not os.path.isdir(cls.mounted):
            raise AssertionError("podman image mount gave %r" % cls.mounted)
        cls.root = os.path.join(cls.work, "root")
        subprocess.run(["cp", "-a", cls.mounted, cls.root], check=True, timeout=60)
        cls.emulator = emulator_in(cls.root)

    @classmethod
    def private_podman(cls):
        """Environment naming configuration files of the test's own: storage (vfs: no
        mounts, any file system) and engine (cgroupfs and a file for events: no systemd)."""
        storage = os.path.join(cls.work, "storage.conf")
        with open(storage, "w") as f:
            f.write("[storage]\ndriver = \"vfs\"\ngraphroot = %s\nrunroot = %s\n" % (
                toml_string(os.path.join(cls.work, "storage")),
                toml_string(os.path.join(cls.work, "run"))))
        engine = os.path.join(cls.work, "containers.conf")
        with open(engine, "w") as f:
            f.write("[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
                    "events_logfile_path = %s\ntmp_dir = %s\n[network]\nnetwork_config_dir = %s\n"
                    % (toml_string(os.path.join(cls.work, "events.log")),
                       toml_string(os.path.join(cls.work, "tmp")),
                       toml_string(os.path.join(cls.work, "networks"))))
        return dict(os.environ, CONTAINERS_CONF=engine, CONTAINERS_STORAGE_CONF=storage)

    @classmethod
    def podman_run_script(cls, command, timeout=60):
        return subprocess.run(command, env=cls.podman_env, capture_output=True, text=True,
                              timeout=timeout)

    @classmethod
    def podman(cls, *args, check=True):
        done = cls.podman_run_script(["podman", *args])
        if check and done.returncode != 0:
            raise AssertionError("podman %s failed: %s" % (" ".join(args), done.stderr))
        return done

    @classmethod
    def clean_up(cls):
        problems = []
        for args in [("image", "unmount", TAG), ("rmi", "--force", TAG)]:
            try:
                done = cls.podman(*args, check=False)
                if done.returncode != 0 and "image not known" not in done.stderr:
                    problems.append("podman %s: %s" % (" ".join(args), done.stderr.strip()))
            except subprocess.TimeoutExpired:
                problems.append("podman %s timed out" % " ".join(args))
        cls.remove_work()
        if problems:
            raise AssertionError("; ".join(problems))

    @classmethod
    def remove_work(cls):
        if not os.path.exists(cls.work):
            return
        left = mounts_under(cls.work)
        if left:  # never delete through a mount point
            raise AssertionError("still mounted, not removed: %s" % left)
        shutil.rmtree(cls.work)

    def test_its_configuration(self):
        config = self.config["Config"]
        uid, _, gid = config["User"].partition(":")
        self.assertEqual((uid, gid), (str(USER), str(USER)))  # numeric, not root
        self.assertEqual(config["Entrypoint"], ["/visitor-counter", "serve"])
        self.assertIn("/data", config["Volumes"])
        self.assertEqual(list(config["ExposedPorts"]), ["8080/tcp"])
        env = dict(item.split("=", 1) for item in config["Env"])
        self.assertEqual(env["VC_LISTEN"], "0.0.0.0:8080")
        self.assertEqual(env["VC_STORE"], "sqlite:/data/counter.db")
        self.assertEqual((self.config["Os"], self.config["Architecture"]), ("linux", self.arch))
        version = subprocess.run([*EMULATOR, BINARY, "--version"], capture_output=True,
                                 text=True, timeout=10).stdout.split()[1]
        self.assertEqual(config["Labels"]["org.opencontainers.image.version"], version)
        # The docker format keeps a HEALTHCHECK (OCI drops it); the binary is the check.
        health = self.config.get("Healthcheck")
        self.assertIsNotNone(health, "the Containerfile's HEALTHCHECK is not in the image")
        self.assertEqual(health["Test"], ["CMD", "/visitor-counter", "healthcheck"])

    def test_its_files(self):
        found = set()
        for folder, dirs, files in os.walk(self.mounted):
            for name in dirs + files:
                found.add(os.path.relpath(os.path.join(folder, name), self.mounted))
        self.assertEqual(found, FILES)
        binary = os.path.join(self.mounted, "visitor-counter")
        headers = subprocess.run(["readelf", "-h", "-l", "-d", binary], capture_output=True,
                                 text=True, check=True, timeout=30).stdout
        self.assertRegex(headers, r"Machine:\s+%s\n" % MACHINES[self.arch])
        self.assertNotIn("INTERP", headers)  # fully static: nothing to load from FROM scratch
        self.assertNotIn("(NEEDED)", headers)
        self.assertEqual(os.stat(binary).st_mode & 0o7777, 0o755)
        with open(os.path.join(self.mounted, "etc/passwd")) as f:
            self.assertIn("visitor-counter:x:%d:%d:" % (USER, USER), f.read())
        with open(os.path.join(self.mounted, "etc/group")) as f:
            self.assertIn("visitor-counter:x:%d:" % USER, f.read())
        # Where src/util/ca_bundle.cpp looks: the Mozilla list of Debian's ca-certificates,
        # without the CAs the build machine added for itself (/usr/local/share).
        with open(os.path.join(self.mounted, CA_BUNDLE[1:]), "rb") as f:
            shipped = certificates(f.read())
        mozilla = set()
        for name in glob.glob("/usr/share/ca-certificates/mozilla/*.crt"):
            with open(name, "rb") as f:
                mozilla |= certificates(f.read())
        self.assertGreater(len(mozilla), 100)
        self.assertEqual(shipped, mozilla)
        data = os.stat(os.path.join(self.mounted, "data"))
        self.assertEqual((data.st_uid, data.st_gid), (USER, USER))
        self.assertTrue(data.st_mode & 0o200)
        self.assertEqual(os.stat(os.path.join(self.mounted, "tmp")).st_mode & 0o7777, 0o1777)

    def test_the_entrypoint_counts_into_data_as_the_user(self):
        log = os.path.join(self.work, "server.log")
        health = self.config.get("Healthcheck")
        server = Server(self, self.root, log)
        try:
            with open("/proc/%d/status" % server.proc.pid) as f:
                status = f.read()
            self.assertRegex(status, r"\nUid:\s+%d\s+%d\s+%d\s+%d\n" % ((USER,) * 4))
            self.assertRegex(status, r"\nGid:\s+%d\s+%d\s+%d\s+%d\n" % ((USER,) * 4))
            self.assertRegex(status, r"\nGroups:\s*(%d\s*)?\n" % USER)  # none of root's
            for expected in (1, 2, 3):
                self.assertEqual(server.get("/count/image-test"), (200, {"count": expected}))
            status, body = server.get("/counters/image-test")
            self.assertEqual((status, body["views"]), (200, 3))
            self.assertEqual(server.get("/healthz"), (200, {"status": "ok"}))
            checked = server.run_in_image(health["Test"][1:])
            self.assertEqual(checked.returncode, 0, checked.stderr)
            self.assertEqual(server.stop(), 0, server.errors())
        finally:
            server.kill()
        checked = server.run_in_image(health["Test"][1:])
        self.assertNotEqual(checked.returncode, 0, "healthy with no server running")

        database = os.path.join(self.root, "data/counter.db")
        self.assertTrue(os.path.isfile(database), os.listdir(os.path.join(self.root, "data")))
        self.assertEqual(os.stat(database).st_uid, USER)
        with open(database, "rb") as f:
            self.assertEqual(f.read(16), b"SQLite format 3\0")

        again = Server(self, self.root, log)  # the same volume: the count goes on
        try:
            self.assertEqual(again.get("/count/image-test"), (200, {"count": 4}))
            self.assertEqual(again.stop(), 0, again.errors())
        finally:
            again.kill()


if __name__ == "__main__":
    unittest.main()
