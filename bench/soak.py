#!/usr/bin/env python3
"""Soak: a few million durable hits with the server's memory watched.

Starts `visitor-counter serve --sync full --threads 1` on SQLite (pinned to CPU 0), loads it
with wrk (pinned to CPU 1, -t1 -c64, all on the default counter)
for --duration seconds, samples the server's RSS once a second from /proc, then checks
that the counter rose by what wrk completed (plus at most the requests in flight when wrk
stopped). Prints hits, hits/s, and RSS at the start, at 10% of the run, at its peak and
at the end: a leak shows as growth after the warm-up.

usage: bench/soak.py [--duration 120] [--connections 64]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

from http_bench import BINARY, LOAD_CPU, Target, free_port, parse_wrk


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def sample_rss(pid, samples, stop):
    while not stop.wait(1.0):
        try:
            samples.append((time.monotonic(), rss_mib(pid)))
        except OSError:
            return


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=120)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit("build first: make build")
    with tempfile.TemporaryDirectory(prefix="vc-soak-") as workdir:
        port = free_port()
        base = "http://127.0.0.1:%d" % port
        server = Target("visitor-counter", [BINARY, "serve", "--listen", "127.0.0.1:%d" % port,
                                            "--store", "sqlite:" + os.path.join(workdir, "vc.db"),
                                            "--sync", "full", "--threads", "1"],
                        port, base + "/count", base + "/counters/visitors")
        with server:
            samples, stop = [(time.monotonic(), rss_mib(server.proc.pid))], threading.Event()
            sampler = threading.Thread(target=sample_rss, args=(server.proc.pid, samples, stop))
            sampler.start()
            out = subprocess.run(["taskset", "-c", LOAD_CPU, "wrk", "-t1",
                                  "-c%d" % args.connections, "-d%ds" % args.duration,
                                  "--latency", server.count_url],
                                 capture_output=True, text=True, check=True).stdout
            stop.set()
            sampler.join()
            result = parse_wrk(out)
            stored = server.read()
    start, peak, end = samples[0][1], max(r for _, r in samples), samples[-1][1]
    warm = samples[max(1, len(samples) // 10)][1]
    exact = result["completed"] <= stored <= result["completed"] + args.connections
    print("soak: %d s, %d connections, SQLite --sync full" % (args.duration, args.connections))
    print("  hits completed %d (%.0f/s), p50 %.2f ms, p99 %.2f ms, non-2xx %d %s" % (
        result["completed"], result["rps"], result["p50"], result["p99"], result["non2xx"],
        result["socket_errors"]))
    print("  stored %d: %s" % (stored, "exact" if exact else "NOT EXACT"))
    print("  RSS MiB: start %.1f, at 10%% %.1f, peak %.1f, end %.1f; growth after warm-up "
          "%.1f MiB (%.2fx)" % (start, warm, peak, end, end - warm, end / warm if warm else 0))
    return 0 if exact and result["non2xx"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
