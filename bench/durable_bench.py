#!/usr/bin/env python3
"""Durable counting against its anchors, in one run (issue 20's table).

On this machine, unpinned as a user runs them (the load generator shares the cores), one at
a time, each loaded by wrk -t1 for a warm-up and then --duration seconds:
  - nginx answering a static {"count":1} (plain HTTP: the ceiling),
  - visitor-counter --store memory: (counting without a disk),
  - visitor-counter on SQLite, --sync normal (committed, not synced: a power cut may lose
    the last hits) and --sync full (every acknowledged hit synced: the default),
  - the recommended profile (--count-unit visitors --ignore-bots, --sync full) loaded from
    1,000 User-Agents (bench/visitors.lua),
and Redis's INCR with appendfsync always (the same durability, no HTTP) under
redis-benchmark, plus bench/fsync_floor.c: one fdatasync on the same disk. Counting servers
get POST /count/bench; each counter must rise by what wrk completed (plus at most the
requests in flight). For each server it also prints the CPU time the server spent per hit
and, with --sync full, the group commit: syncs per second, hits per sync, the mean sync and
the share of the time a sync was running (the store's /metrics). Every round runs every
row; the table gives each figure's median over the rounds, since one run on a small VM
varies by ±20%.

usage: bench/durable_bench.py [--duration 5] [--warmup 2] [--connections 64,256] [--rounds 3]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from http_bench import (BINARY, ROOT, free_port, parse_wrk, read_count, stop, wait_listening,
                        write_nginx_conf)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(stat_path):
    """User plus system CPU time so far of the process or thread whose stat file this is."""
    with open(stat_path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def syncer_seconds(pid):
    """CPU time so far of the server's syncer thread (named vc-syncer), 0 without one."""
    folder = "/proc/%d/task" % pid
    for tid in os.listdir(folder):
        with open(os.path.join(folder, tid, "comm")) as f:
            if f.read().strip() == "vc-syncer":
                return cpu_seconds(os.path.join(folder, tid, "stat"))
    return 0.0


def metric(url, name):
    text = subprocess.run(["curl", "-s", url], capture_output=True, text=True).stdout
    m = re.search(r"^%s ([\d.e+-]+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else 0.0


def wrk(url, connections, duration, script):
    out = subprocess.run(["wrk", "-t1", "-c%d" % connections, "-d%ds" % duration, "--latency",
                          "-s", script, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


class Server:
    """One server under test, started unpinned; `counts` says whether it counts."""

    def __init__(self, name, command, port, path="/count/bench", script=None, counts=True):
        self.name, self.command, self.port, self.counts = name, command, port, counts
        self.base = "http://127.0.0.1:%d" % port
        self.url = self.base + path
        self.script = script

    def __enter__(self):
        self.proc = subprocess.Popen(self.command, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_listening(self.port, self.proc)
        return self

    def __exit__(self, *exc):
        stop(self.proc)

    def snapshot(self):
        """What the server has done so far: its count, CPU time and syncs."""
        if not self.counts:
            return None
        metrics = self.base + "/metrics"
        return {"count": read_count(self.base + "/counters/" + self.url.rsplit("/", 1)[1]),
                "cpu": cpu_seconds("/proc/%d/stat" % self.proc.pid),
                "syncer_cpu": syncer_seconds(self.proc.pid),
                "syncs": metric(metrics, "vc_store_sync_seconds_count"),
                "sync_seconds": metric(metrics, "vc_store_sync_seconds_sum"),
                "synced_hits": metric(metrics, "vc_store_sync_hits_sum")}


def servers(workdir, scripts):
    nginx_port = free_port()
    nginx_conf = write_nginx_conf(workdir, nginx_port)

    def ours(name, *flags, script=scripts["post"], path="/count/bench"):
        port = free_port()
        db = os.path.join(workdir, "%d.db" % port)
        return Server(name, [BINARY, "serve", "--listen", "127.0.0.1:%d" % port,
                             *[f.replace("DB", db) for f in flags]], port, path, script)

    return [
        Server("nginx, static {\"count\":1}", ["nginx", "-c", nginx_conf, "-p", workdir],
               nginx_port, script=scripts["post"], counts=False),
        ours("ours, --store memory:", "--store", "memory:"),
        ours("ours, SQLite --sync normal", "--store", "sqlite:DB", "--sync", "normal"),
        ours("ours, SQLite --sync full", "--store", "sqlite:DB", "--sync", "full"),
        ours("ours, visitors profile, full", "--store", "sqlite:DB", "--sync", "full",
             "--count-unit", "visitors", "--ignore-bots", script=scripts["visitors"],
             path="/count/visitors"),
    ]


def measure(server, connections, args):
    with server:
        wrk(server.url, connections, args.warmup, server.script)
        before = server.snapshot()
        r = wrk(server.url, connections, args.duration, server.script)
        after = server.snapshot()
    if before is None:
        return r
    rose = after["count"] - before["count"]
    r["exact"] = r["completed"] <= rose <= r["completed"] + connections and r["non2xx"] == 0
    r["check"] = "rose %d for %d completed: %s" % (rose, r["completed"],
                                                   "ok" if r["exact"] else "MISMATCH")
    r["cpu_us"] = (after["cpu"] - before["cpu"]) * 1e6 / max(1, r["completed"])
    r["syncer_us"] = (after["syncer_cpu"] - before["syncer_cpu"]) * 1e6 / max(1, r["completed"])
    syncs = after["syncs"] - before["syncs"]
    if syncs > 0:
        r["syncs_per_s"] = syncs / args.duration
        r["hits_per_sync"] = (after["synced_hits"] - before["synced_hits"]) / syncs
        r["sync_ms"] = (after["sync_seconds"] - before["sync_seconds"]) * 1e3 / syncs
        r["sync_busy"] = (after["sync_seconds"] - before["sync_seconds"]) / args.duration
    return r


def redis(workdir, connections, args):
    port = free_port()
    folder = tempfile.mkdtemp(dir=workdir)
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--dir", folder, "--save", "", "--appendonly", "yes",
                             "--appendfsync", "always"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        # About --duration seconds at the rate Redis reaches here (tens of thousands).
        out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", str(connections),
                              "-n", str(50000 * args.duration), "-t", "incr", "--csv"],
                             capture_output=True, text=True, check=True).stdout
    finally:
        proc.terminate()
        proc.wait()
    row = next(line for line in out.splitlines() if line.startswith('"INCR"'))
    values = [float(v.strip('"')) for v in row.split(",")[1:]]
    return {"rps": values[0], "p50": values[3], "p99": values[5], "check": "redis-benchmark"}


def fsync_floor(workdir):
    program = os.path.join(workdir, "fsync_floor")
    subprocess.run(["cc", "-O2", "-o", program, os.path.join(ROOT, "bench/fsync_floor.c")],
                   check=True)
    return subprocess.run([program, workdir], capture_output=True, text=True,
                          check=True).stdout.strip().splitlines()


def median_row(runs):
    row = {}
    for field in runs[0]:
        values = [r[field] for r in runs if field in r]
        if isinstance(values[0], (int, float)) and not isinstance(values[0], bool):
            row[field] = statistics.median(values)
        else:
            row[field] = values[-1]
    if "exact" in row:
        row["exact"] = all(r["exact"] for r in runs)
        row["check"] = "ok in all %d rounds" % len(runs) if row["exact"] else "MISMATCH: " + " / ".join(
            r["check"] for r in runs)
    return row


def report(rows, floor, args):
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    print("durable_bench %s, commit %s, %d CPUs: wrk -t1 -d%ds after a %d s warm-up, unpinned;"
          " median of %d rounds" % (time.strftime("%Y-%m-%d"), commit, os.cpu_count(),
                                    args.duration, args.warmup, args.rounds))
    print("%-31s %5s %7s %7s %6s %6s %6s %6s %7s %6s %7s %5s  %s" % (
        "what", "conns", "req/s", "x nginx", "p50 ms", "p99 ms", "CPU us", "syncer", "syncs/s",
        "hits/sync", "sync ms", "busy", "count check"))
    ok = True
    for connections in args.connection_counts:
        nginx = rows[("nginx, static {\"count\":1}", connections)]["rps"]
        for (name, c), r in rows.items():
            if c != connections:
                continue
            ok = ok and r.get("exact", True)
            cpu = "%6.1f" % r["cpu_us"] if "cpu_us" in r else ""
            sync = ("%6.1f %7.0f %9.1f %7.3f %4.0f%%" % (
                r["syncer_us"], r["syncs_per_s"], r["hits_per_sync"], r["sync_ms"],
                r["sync_busy"] * 100) if "syncs_per_s" in r else "")
            print("%-31s %5d %7.0f %7.2f %6.2f %6.2f %6s %-38s  %s" % (
                name, connections, r["rps"], r["rps"] / nginx, r["p50"], r["p99"], cpu, sync,
                r.get("check", "static")))
    print("CPU us: the server's CPU time per hit (all threads), syncer: its syncer thread's part;"
          " syncs/s, hits/sync, sync ms: syncs per second, hits each made durable, mean time of"
          " one; busy: the share of the time a sync was running")
    for line in floor:
        print("floor: " + line)
    for connections in args.connection_counts:
        rps = {name: r["rps"] for (name, c), r in rows.items() if c == connections}
        full = rps["ours, SQLite --sync full"]
        print("c%d: full / normal = %.2f (goal >= 0.90), full / Redis appendfsync always = %.2f "
              "(goal >= 1.20), visitors / views = %.2f (goal >= 0.80), full / nginx = %.2f" % (
                  connections, full / rps["ours, SQLite --sync normal"],
                  full / rps["Redis INCR, appendfsync always"],
                  rps["ours, visitors profile, full"] / full, full / rps["nginx, static {\"count\":1}"]))
    print("every counter rose by what wrk completed, plus at most the requests in flight"
          if ok else "COUNT MISMATCH")
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", default="64,256")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    args.connection_counts = [int(c) for c in args.connections.split(",")]
    os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
    # On the project's disk, where `make run` keeps its database, not in a tmpfs.
    workdir = tempfile.mkdtemp(prefix="durable-bench-", dir=os.path.join(ROOT, "build"))
    post = os.path.join(workdir, "post.lua")
    with open(post, "w") as f:
        f.write('wrk.method = "POST"\n')
    scripts = {"post": post, "visitors": os.path.join(ROOT, "bench/visitors.lua")}
    try:
        floor = fsync_floor(workdir)
        runs = {}
        for _ in range(args.rounds):
            for connections in args.connection_counts:
                for server in servers(workdir, scripts):
                    runs.setdefault((server.name, connections), []).append(
                        measure(server, connections, args))
                runs.setdefault(("Redis INCR, appendfsync always", connections), []).append(
                    redis(workdir, connections, args))
        rows = {key: median_row(values) for key, values in runs.items()}
        ok = report(rows, floor, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
