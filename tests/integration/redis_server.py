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


def make_certificates(folder, names):
    """A test CA (ca.crt) and a server certificate it signed (server.crt, server.key) for
    `names` ("DNS:localhost", "IP:127.0.0.1"), made with the openssl CLI in `folder`."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)
    # The extensions a strict verifier (Python 3.13's default, VERIFY_X509_STRICT) wants.
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.crt", "-days", "2", "-subj", "/CN=visitor-counter test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-addext", "subjectKeyIdentifier=hash")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
            "server.csr", "-subj", "/CN=redis test server")
    with open(os.path.join(folder, "san.ext"), "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid,issuer\n" % ",".join(names))
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext")


class RedisServer:
    """`tls_names`: serve TLS only, with a certificate for those names (see make_certificates);
    the CA is then at `ca_file`."""

    def __init__(self, tls_names=None):
        self.dir = tempfile.mkdtemp(prefix="vc-redis-")
        self.port = free_port()
        self.proc = None
        self.tls = tls_names is not None
        self.ca_file = os.path.join(self.dir, "ca.crt")
        if self.tls:
            make_certificates(self.dir, tls_names)

    def url(self, extra="", host="127.0.0.1"):
        """The visitor-counter --store URL for this server."""
        return "%s://%s:%d%s" % ("rediss" if self.tls else "redis", host, self.port, extra)

    def start(self, timeout=10):
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is missing: scripts/install-deps test installs it")
        listen = ["--port", str(self.port)]
        if self.tls:
            listen = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file",
                      "server.crt", "--tls-key-file", "server.key", "--tls-ca-cert-file",
                      "ca.crt", "--tls-auth-clients", "no"]
        self.proc = subprocess.Popen(
            ["redis-server", *listen, "--bind", "127.0.0.1", "--dir", self.dir,
             "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.ping():
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

    def ping(self):
        if not self.tls:
            return self.command("PING") == "PONG"
        done = subprocess.run(["redis-cli", "--tls", "--cacert", self.ca_file, "-p",
                               str(self.port), "ping"], capture_output=True, text=True)
        return done.stdout.strip() == "PONG"

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
