#!/usr/bin/env python3
"""Durable counting vs. plain HTTP, measured in one run (issue 2's benchmark).

Starts, one at a time and each pinned to CPU 0:
  - nginx answering a static {"count":1} from memory (the ceiling: plain HTTP),
  - a Node.js + better-sqlite3 counter (UPDATE ... RETURNING, WAL, synchronous=FULL),
  - visitor-counter serve --store sqlite:... --sync full --threads 1 (the classic bare
    defaults: every request a view),
  - the same with --count-unit visitors --ignore-bots, loaded by bench/visitors.lua from
    1,000 different User-Agents (a visitor mark, the crawler check, the visitor total and
    the day row on every hit),
loads each with wrk pinned to CPU 1 (-t1, -c64 and -c256, 10 s), checks that each
counter's views rose by exactly what wrk completed, and prints req/s, p50/p99 and the
ratios.

usage: bench/http_bench.py [--duration 10] [--connections 64,256]
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.environ.get("VC_BINARY", os.path.join(ROOT, "build/release/visitor-counter"))
NODE_DIR = os.path.join(ROOT, "bench/node-counter")
SERVER_CPU, LOAD_CPU = "0", "1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("server exited early with %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("server did not listen on %d" % port)


def write_nginx_conf(workdir, port):
    """An nginx.conf in `workdir`: one worker on 127.0.0.1:`port` answering every path with a
    static {"count":1} (the ceiling: plain HTTP); returns its path."""
    path = os.path.join(workdir, "nginx.conf")
    with open(path, "w") as f:
        f.write("""daemon off; worker_processes 1; pid %s/nginx.pid; error_log stderr crit;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:%d;
    location / { default_type application/json; return 200 '{"count":1}'; } } }
""" % (workdir, port))
    return path


def stop(proc):
    """Stops a server as systemd would: SIGTERM, then SIGKILL after 10 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def read_count(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.loads(r.read())
            return body.get("views", body["count"])
    except urllib.error.HTTPError as e:
        if e.code == 404:  # never counted yet
            return 0
        raise


def parse_wrk(text):
    def latency_ms(label):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % label, text, re.M)
        if not m:
            sys.exit("cannot read wrk's output:\n" + text)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    completed = int(re.search(r"(\d+) requests in", text).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    return {"completed": completed, "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
            "p50": latency_ms("50"), "p99": latency_ms("99"),
            "non2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else ""}


def wrk(url, connections, duration, script=None):
    extra = ["-s", script] if script else []
    out = subprocess.run(["taskset", "-c", LOAD_CPU, "wrk", "-t1", "-c%d" % connections, *extra,
                          "-d%ds" % duration, "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


class Target:
    """A server under test: start() returns the counting URL; read() its count or None."""

    def __init__(self, name, command, port, count_url, read_url=None, cwd=None, script=None):
        self.name, self.command, self.port = name, command, port
        self.count_url, self.read_url, self.cwd = count_url, read_url, cwd
        self.script = script  # a wrk Lua script shaping the requests

    def __enter__(self):
        self.proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, *self.command], cwd=self.cwd,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.port, self.proc)
        return self

    def __exit__(self, *exc):
        stop(self.proc)

    def read(self):
        return read_count(self.read_url) if self.read_url else None


def targets(workdir):
    nginx_port, node_port, vc_port, visitors_port = free_port(), free_port(), free_port(), free_port()
    nginx_conf = write_nginx_conf(workdir, nginx_port)
    base = "http://127.0.0.1:%d"
    return [
        Target("nginx static", ["nginx", "-c", nginx_conf, "-p", workdir], nginx_port,
               base % nginx_port + "/count"),
        Target("node + better-sqlite3", ["node", "server.js", str(node_port),
                                         os.path.join(workdir, "node.db")], node_port,
               base % node_port + "/count", base % node_port + "/read", cwd=NODE_DIR),
        Target("visitor-counter", [BINARY, "serve", "--listen", "127.0.0.1:%d" % vc_port,
                                   "--store", "sqlite:" + os.path.join(workdir, "vc.db"),
                                   "--sync", "full", "--threads", "1"], vc_port,
               base % vc_port + "/count", base % vc_port + "/counters/visitors"),
        Target("visitor-counter visitors",
               [BINARY, "serve", "--listen", "127.0.0.1:%d" % visitors_port,
                "--store", "sqlite:" + os.path.join(workdir, "visitors.db"), "--sync", "full",
                "--threads", "1", "--count-unit", "visitors", "--ignore-bots"], visitors_port,
               base % visitors_port + "/count", base % visitors_port + "/counters/visitors",
               script=os.path.join(ROOT, "bench/visitors.lua")),
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", default="64,256")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(NODE_DIR, "node_modules")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)
    workdir = tempfile.mkdtemp(prefix="vc-bench-")
    results, ok = {}, True
    for connections in [int(c) for c in args.connections.split(",")]:
        for target in targets(workdir):
            with target:
                before = target.read()
                r = wrk(target.count_url, connections, args.duration, target.script)
                after = target.read()
            if before is not None:
                # wrk stops with up to `connections` requests sent but not yet read back:
                # those count on the server but not in wrk's total.
                r["rose"] = after - before
                r["exact"] = (r["completed"] <= r["rose"] <= r["completed"] + connections
                              and r["non2xx"] == 0)
                ok = ok and r["exact"]
            results[(target.name, connections)] = r
    report(results, args, ok)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


def report(results, args, ok):
    print("wrk -t1 -d%ds --latency, servers on CPU %s, wrk on CPU %s, %s" % (
        args.duration, SERVER_CPU, LOAD_CPU, time.strftime("%Y-%m-%d")))
    print("%-24s %5s %10s %9s %9s  %s" % ("server", "conns", "req/s", "p50 ms", "p99 ms", "count check"))
    for (name, connections), r in results.items():
        check = "static" if "rose" not in r else "rose %d for %d completed (+%d in flight): %s" % (
            r["rose"], r["completed"], r["rose"] - r["completed"], "ok" if r["exact"] else "MISMATCH")
        print("%-24s %5d %10.0f %9.2f %9.2f  %s" % (name, connections, r["rps"], r["p50"], r["p99"], check))
    for connections in sorted({c for _, c in results}):
        nginx = results[("nginx static", connections)]["rps"]
        ours = results[("visitor-counter", connections)]["rps"]
        node = results[("node + better-sqlite3", connections)]["rps"]
        visitors = results[("visitor-counter visitors", connections)]["rps"]
        print("c%d: visitor-counter / nginx static = %.2f, visitor-counter / node = %.1fx, "
              "visitors / views = %.2f" % (connections, ours / nginx, ours / node, visitors / ours))
    print("every counter rose by what wrk completed, plus at most the requests in flight"
          if ok else "COUNT MISMATCH")


if __name__ == "__main__":
    sys.exit(main())
