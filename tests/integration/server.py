"""Starts the real visitor-counter binary for integration tests and talks HTTP to it.

The binary comes from $VC_BINARY (CTest sets it). Each Server runs in its own temporary
directory on a port the system picks, so tests never collide.
"""
import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading

BINARY = os.environ.get("VC_BINARY", "../../build/release/visitor-counter")
# The command that runs BINARY when it is built for another machine: "qemu-aarch64-static"
# for the arm64 Lambda bootstrap (test_lambda's arm64 run); empty runs it directly. Naming
# the emulator keeps the tests off binfmt_misc, which a CI machine or a chroot may lack.
EMULATOR = shlex.split(os.environ.get("VC_EMULATOR", ""))


def emulator_in(root):
    """The command prefix that runs a binary of another machine chrooted in `root`: [] without
    $VC_EMULATOR; else a copy of the emulator, which must be static (the root has no loader),
    put at the top of `root`, then the emulator's own arguments."""
    if not EMULATOR:
        return []
    path = shutil.which(EMULATOR[0])
    if path is None:
        raise AssertionError("%s is missing: run scripts/install-deps arm64" % EMULATOR[0])
    headers = subprocess.run(["readelf", "-l", "-d", path], capture_output=True, text=True,
                             check=True).stdout
    if "INTERP" in headers:
        raise AssertionError(path + " is not static: it cannot run in a chroot without a loader")
    name = os.path.basename(path)
    shutil.copy(path, os.path.join(root, name))
    return ["/" + name, *EMULATOR[1:]]


class Server:
    def __init__(self, *args, store=None, workdir=None, env=None):
        self.owns_workdir = workdir is None  # then __exit__ removes it
        self.workdir = workdir or tempfile.mkdtemp(prefix="vc-it-")
        self.db_path = os.path.join(self.workdir, "counter.db")
        self.args = ["serve", "--listen", "127.0.0.1:0",
                     "--store", store or "sqlite:" + self.db_path, *args]
        self.env = {**os.environ, **(env or {})}
        self.proc = None
        self.host = self.port = None

    def start(self):
        self.proc = subprocess.Popen([BINARY, *self.args], cwd=self.workdir, env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # printed once the socket listens
        self.banner = line
        if "listening on http://" not in line:
            self.proc.kill()
            raise RuntimeError("server did not start: %r %r" % (line, self.proc.stderr.read()))
        # Read stderr all along: a test that does not would let a chatty server (a store
        # failure logged per batch) fill the pipe and block in write(2), which looks like a
        # hang of the server (seen in test_redis's restart test).
        self._stderr = []
        self._stderr_reader = threading.Thread(
            target=lambda: self._stderr.extend(iter(self.proc.stderr.readline, "")), daemon=True)
        self._stderr_reader.start()
        address = line.split("listening on http://")[1].split()[0]
        host, port = address.rsplit(":", 1)
        self.host = host[1:-1] if host.startswith("[") else host  # "[::1]": IPv6, for sockets
        self.port = int(port)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if getattr(self, "_stderr_reader", None):
            self._stderr_reader.join(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Sends `sig` and returns (exit code, stdout rest, stderr)."""
        self.proc.send_signal(sig)
        self.proc.wait(timeout=timeout)
        out = self.proc.stdout.read()
        self._stderr_reader.join(timeout=timeout)
        return self.proc.returncode, out, "".join(self._stderr)

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.__exit__()

    def connection(self, timeout=10):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, headers=None, body=None):
        """One request on a fresh connection: (status, headers dict lower-cased, body str)."""
        conn = self.connection()
        try:
            return send(conn, method, path, headers, body)
        finally:
            conn.close()

    def raw(self, data, timeout=5):
        """Sends raw bytes; returns everything the server sends back before closing."""
        with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
            sock.sendall(data)
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)

    def count(self, key="visitors"):
        status, _, body = self.request("GET", "/counters/" + key)
        if status == 404:
            return 0
        assert status == 200, (status, body)
        return json.loads(body)["count"]


def send(conn, method, path, headers=None, body=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read().decode()
    names = [k.lower() for k, _ in response.getheaders()]
    # The server never sends a header twice (a repeated Cache-Control once did).
    assert len(names) == len(set(names)), ("a header sent twice", method, path, names)
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


class Clients:
    """`count` threads, each sending `hits` counting requests on its own kept-alive
    connection. join() returns every count answered; it raises if any answer was not 200."""

    def __init__(self, server, count, hits, method="GET", path="/count"):
        self.server, self.hits, self.method, self.path = server, hits, method, path
        self.values, self.errors = [], []
        self.threads = [threading.Thread(target=self._client) for _ in range(count)]

    def _client(self):
        conn = self.server.connection()
        try:
            for _ in range(self.hits):
                status, _, body = send(conn, self.method, self.path)
                if status != 200:
                    raise AssertionError("%d %s" % (status, body))
                self.values.append(json.loads(body)["count"])
        except Exception as e:  # reported by join()
            self.errors.append(e)
        finally:
            conn.close()

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def join(self):
        for t in self.threads:
            t.join()
        if self.errors:
            raise self.errors[0]
        return self.values

    def run(self):
        return self.start().join()
