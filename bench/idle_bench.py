#!/usr/bin/env python3
"""Memory per idle keep-alive connection (issue 12), against nginx in the same run.

Starts nginx (one worker, answering a static {"count":1}) and then
`visitor-counter serve --store memory: --threads 1`, opens --connections keep-alive
connections to each, sends one request on every connection and reads its answer, and leaves
them all open and idle. The figure is the growth of the serving process's resident memory
(VmRSS of the nginx worker, of our server) divided by the connections, after 200 warm-up
connections so that both start from a served state. Both processes get enough open files.

usage: bench/idle_bench.py [--connections 10000]
"""
import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from http_bench import BINARY, free_port, wait_listening

WARM_UP = 200


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    sys.exit("no VmRSS for %d" % pid)


def settled_rss_kib(pid):
    """RSS once it stops moving: the server may still be finishing the last answers."""
    last = rss_kib(pid)
    for _ in range(50):
        time.sleep(0.1)
        now = rss_kib(pid)
        if now == last:
            return now
        last = now
    return last


def served_connection(port, path):
    """A connection that has been answered once and stays open."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path.encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("the server closed a connection")
        data += chunk
    return s


def measure(pid, port, connections):
    """KiB per connection that pid grew by while `connections` idle connections were open."""
    warm = [served_connection(port, "/count") for _ in range(WARM_UP)]
    before = settled_rss_kib(pid)
    idle = [served_connection(port, "/count") for _ in range(connections)]
    after = settled_rss_kib(pid)
    for s in warm + idle:
        s.close()
    return before, after, (after - before) / connections


def nginx_worker(master):
    for _ in range(100):
        children = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True,
                                  text=True).stdout.split()
        if children:
            return int(children[0])
        time.sleep(0.05)
    sys.exit("nginx started no worker")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=10000)
    args = parser.parse_args()
    files = args.connections + WARM_UP + 500
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < files:
        sys.exit("needs %d open files, the hard limit is %d" % (files, hard))
    resource.setrlimit(resource.RLIMIT_NOFILE, (files, hard))  # inherited by the servers
    workdir = tempfile.mkdtemp(prefix="vc-idle-")
    results = {}
    try:
        port = free_port()
        conf = os.path.join(workdir, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""daemon off; worker_processes 1; pid %s/nginx.pid; error_log stderr crit;
worker_rlimit_nofile %d;
events { worker_connections %d; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 600s;
  server { listen 127.0.0.1:%d;
    location = /count { default_type application/json; return 200 '{"count":1}'; } } }
""" % (workdir, files, files, port))
        nginx = subprocess.Popen(["nginx", "-c", conf, "-p", workdir],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_listening(port, nginx)
            results["nginx (1 worker)"] = measure(nginx_worker(nginx), port, args.connections)
        finally:
            stop(nginx)

        port = free_port()
        ours = subprocess.Popen([BINARY, "serve", "--listen", "127.0.0.1:%d" % port,
                                 "--store", "memory:", "--threads", "1",
                                 "--max-connections", str(args.connections + WARM_UP + 100),
                                 "--read-timeout-ms", "600000"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_listening(port, ours)
            results["visitor-counter"] = measure(ours.pid, port, args.connections)
        finally:
            stop(ours)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print("%d idle keep-alive connections, each answered once, %s" % (
        args.connections, time.strftime("%Y-%m-%d")))
    print("%-20s %12s %12s %14s" % ("server", "RSS before", "RSS after", "KiB/connection"))
    for name, (before, after, per) in results.items():
        print("%-20s %9d KiB %9d KiB %14.2f" % (name, before, after, per))
    ratio = results["visitor-counter"][2] / results["nginx (1 worker)"][2]
    print("memory per idle connection: visitor-counter / nginx = %.2f" % ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
