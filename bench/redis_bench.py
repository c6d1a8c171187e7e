#!/usr/bin/env python3
"""Counting on Redis vs on SQLite, and a fleet of two servers on one Redis (issue 11's
benchmark), with Redis's own INCR speed as the anchor, measured in one run.

Servers and redis-server share CPU 0; the load generators run on CPU 1:
  - visitor-counter serve --store sqlite:... --sync full --threads 1,
  - visitor-counter serve --store redis://... --threads 1 (redis-server with appendonly yes
    and appendfsync always: each acknowledged hit is on disk, like SQLite's --sync full),
  - two such serve processes on the same Redis, loaded by two wrk processes at once,
  - redis-benchmark -t incr (one INCR per request, then 16 pipelined) on the same Redis.
Each wrk run is -t1 -c64 (-c32 each for the pair) for --duration seconds; the counter must
rise by what wrk completed, plus at most the requests in flight.

usage: bench/redis_bench.py [--duration 10]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from http_bench import BINARY, LOAD_CPU, SERVER_CPU, Target, free_port, read_count, wrk


def start_redis(workdir):
    port = free_port()
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, "redis-server", "--port", str(port),
                             "--bind", "127.0.0.1", "--dir", workdir, "--save", "",
                             "--appendonly", "yes", "--appendfsync", "always"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                              text=True)
        if ping.stdout.strip() == "PONG":
            return proc, port
        time.sleep(0.05)
    sys.exit("redis-server did not start")


def serve(port, store):
    return Target("serve", [BINARY, "serve", "--listen", "127.0.0.1:%d" % port, "--store", store,
                            "--sync", "full", "--threads", "1"], port,
                  "http://127.0.0.1:%d/count" % port, "http://127.0.0.1:%d/counters/visitors" % port)


def measured(targets, connections, duration):
    """wrk on every target at once (connections split between them): summed req/s, the
    worst p99, and whether the shared counter rose by what all of them completed."""
    before = targets[0].read() or 0
    results = [None] * len(targets)

    def one(i):
        results[i] = wrk(targets[i].count_url, connections // len(targets), duration)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rose = (targets[0].read() or 0) - before
    completed = sum(r["completed"] for r in results)
    exact = (completed <= rose <= completed + connections
             and all(r["non2xx"] == 0 for r in results))
    return {"rps": sum(r["rps"] for r in results), "p99": max(r["p99"] for r in results),
            "p50": max(r["p50"] for r in results), "rose": rose, "completed": completed,
            "exact": exact}


def redis_benchmark(port, pipeline):
    out = subprocess.run(["taskset", "-c", LOAD_CPU, "redis-benchmark", "-p", str(port), "-t",
                          "incr", "-n", "1000000" if pipeline > 1 else "200000", "-c", "64",
                          "-P", str(pipeline), "-q"], capture_output=True, text=True,
                         check=True).stdout
    return float(re.search(r"([\d.]+) requests per second", out).group(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="vc-redis-bench-")
    redis, redis_port = start_redis(workdir)
    rows = []
    try:
        with serve(free_port(), "sqlite:" + os.path.join(workdir, "vc.db")) as s:
            rows.append(("serve on SQLite (--sync full)", measured([s], 64, args.duration)))
        with serve(free_port(), "redis://127.0.0.1:%d?prefix=one:" % redis_port) as s:
            rows.append(("serve on Redis", measured([s], 64, args.duration)))
        with serve(free_port(), "redis://127.0.0.1:%d?prefix=two:" % redis_port) as a, \
                serve(free_port(), "redis://127.0.0.1:%d?prefix=two:" % redis_port) as b:
            rows.append(("two serve on one Redis", measured([a, b], 64, args.duration)))
        incr = redis_benchmark(redis_port, 1)
        incr_pipelined = redis_benchmark(redis_port, 16)
    finally:
        redis.terminate()
        redis.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    print("wrk -t1 -c64 -d%ds (two wrk at -c32 for the pair), servers and redis-server on CPU %s,"
          " load on CPU %s, %s; Redis: appendonly yes, appendfsync always" % (
              args.duration, SERVER_CPU, LOAD_CPU, time.strftime("%Y-%m-%d")))
    print("| setup | req/s | p50 ms | p99 ms | count check |")
    print("| --- | --- | --- | --- | --- |")
    for name, r in rows:
        print("| %s | %.0f | %.2f | %.2f | rose %d for %d completed: %s |" % (
            name, r["rps"], r["p50"], r["p99"], r["rose"], r["completed"],
            "ok" if r["exact"] else "MISMATCH"))
    print("| redis-benchmark INCR, -c64 | %.0f | | | |" % incr)
    print("| redis-benchmark INCR, -c64 -P16 | %.0f | | | |" % incr_pipelined)
    sqlite, one, two = (r["rps"] for _, r in rows)
    print("Redis / SQLite = %.2f, two servers / one = %.2f, serve on Redis / INCR = %.2f" % (
        one / sqlite, two / one, one / incr))
    return 0 if all(r["exact"] for _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
