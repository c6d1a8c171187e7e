"""A real redis-server for the tests: its own temporary folder and free port on 127.0.0.1,
append-only file on with `appendfsync always` (every acknowledged write on disk), stopped by
its PID. restart() keeps the folder, so the data comes back from the AOF."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from dynalite import free_port


class RedisServer:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vc-redis-")
        self.port = free_port()
        self.proc = None

    def url(self, extra=""):
        """The visitor-counter --store URL for this server."""
        return "redis://127.0.0.1:%d%s" % (self.port, extra)

    def start(self, timeout=10):
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is missing: scripts/install-deps test installs it")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.command("PING") == "PONG":
                    return self
            except RuntimeError:  # LOADING: still reading its append-only file
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start; log: %s" % self.log())

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)

    def restart(self):
        self.stop()
        return self.start()

    def close(self):
        self.stop(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def log(self):
        try:
            with open(os.path.join(self.dir, "redis.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def command(self, *args):
        """One command over RESP: the reply as str, int, list or None (an error raises)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                parts = ["*%d\r\n" % len(args)]
                for arg in args:
                    data = arg if isinstance(arg, bytes) else str(arg).encode()
                    parts.append("$%d\r\n" % len(data))
                    parts.append(data.decode("latin-1") + "\r\n")
                sock.sendall("".join(parts).encode("latin-1"))
                return _read(sock.makefile("rb"))
        except OSError:
            return None


def _read(stream):
    line = stream.readline().rstrip(b"\r\n").decode("latin-1")
    kind, rest = line[:1], line[1:]
    if kind == "+":
        return rest
    if kind == "-":
        raise RuntimeError("redis: " + rest)
    if kind == ":":
        return int(rest)
    if kind == "$":
        if int(rest) < 0:
            return None
        data = stream.read(int(rest) + 2)[:-2]
        return data.decode("latin-1")
    if kind == "*":
        return None if int(rest) < 0 else [_read(stream) for _ in range(int(rest))]
    raise RuntimeError("redis: unexpected reply %r" % line)
