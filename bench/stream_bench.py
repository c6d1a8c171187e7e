#!/usr/bin/env python3
"""What live streams cost (issue 21): the CPU a `serve` process spends keeping N idle
streams on N different counters live (one read of every watched counter a second, plus
heartbeats), on SQLite and on Redis (one GET per counter per second through the reader
connection, counted in Redis's own INFO commandstats), against the same process with no
stream open (CPU in % of one core, from /proc's tick counts: 10 ms resolution); the median
time from a stream's request to its first event, streams opened one after another; and how soon a lone hit (300 ms after the last) shows on a stream: on the same
process (SQLite), and on another process of a Redis fleet.

usage: bench/stream_bench.py [--streams 1000] [--seconds 10] [--hits 20]
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from http_bench import BINARY, free_port, stop, wait_listening
from redis_bench import start_redis

TICKS = os.sysconf("SC_CLK_TCK")


def serve(store, workdir):
    port = free_port()
    proc = subprocess.Popen([BINARY, "serve", "--listen", "127.0.0.1:%d" % port, "--store", store,
                             "--threads", "1", "--max-streams", "100000"], cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port, proc)
    return proc, port


def cpu_seconds(proc):
    with open("/proc/%d/stat" % proc.pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def open_stream(port, key):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET /stream/%s HTTP/1.1\r\nHost: b\r\n\r\n" % key.encode())
    data = b""
    while b"data:" not in data:
        data += sock.recv(4096)
    return sock


def wait_for(sock, text):
    data = b""
    while text not in data:
        data += sock.recv(4096)


def post(port, key, agent):
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /count/%s HTTP/1.1\r\nHost: b\r\nUser-Agent: %s\r\n"
                     b"Connection: close\r\n\r\n" % (key.encode(), agent.encode()))
        while sock.recv(4096):
            pass


def redis_calls(port):
    info = subprocess.run(["redis-cli", "-p", str(port), "info", "commandstats"],
                          capture_output=True, text=True).stdout
    return sum(int(n) for n in re.findall(r"calls=(\d+)", info))


def idle_cost(proc, port, streams, seconds, redis_port=None):
    socks, opened = [], []
    for i in range(streams):
        started = time.monotonic()
        socks.append(open_stream(port, "k%d" % i))
        opened.append(time.monotonic() - started)
    time.sleep(1)  # let the opening reads settle
    cpu, calls, started = cpu_seconds(proc), redis_port and redis_calls(redis_port), time.time()
    time.sleep(seconds)
    elapsed = time.time() - started
    used = (cpu_seconds(proc) - cpu) / elapsed
    rate = redis_port and (redis_calls(redis_port) - calls - 1) / elapsed
    for sock in socks:
        sock.close()
    first = statistics.median(opened) * 1000 if opened else 0
    return used, rate, first


def latency(watch_port, count_port, hits):
    sock = open_stream(watch_port, "lat")
    waits = []
    for n in range(1, hits + 1):
        time.sleep(0.3)  # a lone hit, as on a page: bursts are coalesced on purpose
        started = time.monotonic()
        post(count_port, "lat", "Mozilla/5.0 bench %d" % n)
        wait_for(sock, b'"views":%d,' % n)
        waits.append(time.monotonic() - started)
    sock.close()
    return statistics.median(waits) * 1000, max(waits) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--hits", type=int, default=20)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="vc-stream-bench-", dir=os.path.join(os.path.dirname(BINARY)))
    redis, redis_port = start_redis(workdir)
    rows = []
    try:
        for name, store in [("sqlite", "sqlite:" + os.path.join(workdir, "c.db")),
                            ("redis", "redis://127.0.0.1:%d" % redis_port)]:
            proc, port = serve(store, workdir)
            try:
                redis_port_or_none = redis_port if name == "redis" else None
                base, base_calls, _ = idle_cost(proc, port, 0, args.seconds, redis_port_or_none)
                live, live_calls, first = idle_cost(proc, port, args.streams, args.seconds,
                                                    redis_port_or_none)
                if name == "redis":
                    other, other_port = serve(store, workdir)
                    try:
                        median, worst = latency(port, other_port, args.hits)
                    finally:
                        stop(other)
                else:
                    median, worst = latency(port, port, args.hits)
                rows.append((name, base, live, base_calls, live_calls, first, median, worst))
            finally:
                stop(proc)
    finally:
        stop(redis)
    print("streams: %d idle, on %d counters; %g s measured; %d hits for latency"
          % (args.streams, args.streams, args.seconds, args.hits))
    print("%-7s %14s %16s %8s %13s %13s %15s %16s" % (
        "store", "CPU, 0 streams", "CPU, N streams", "added", "Redis cmd/s 0", "Redis cmd/s N",
        "1st event ms", "hit→event ms"))
    for name, base, live, base_calls, live_calls, first, median, worst in rows:
        print("%-7s %13.2f%% %15.2f%% %7.2f%% %13s %13s %15.1f %9.0f (max %.0f)" % (
            name, base * 100, live * 100, (live - base) * 100,
            "-" if base_calls is None else "%.0f" % base_calls,
            "-" if live_calls is None else "%.0f" % live_calls, first, median, worst))


if __name__ == "__main__":
    sys.exit(main())
