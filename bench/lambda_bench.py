#!/usr/bin/env python3
"""The serverless path, measured in one run (issue 3's benchmark).

1. Init (what AWS reports as "Init Duration"): wall time from process start to the first
   GET .../invocation/next at a local fake Lambda Runtime API, for our packaged `bootstrap`,
   the classic Python handler (Debian python3 + boto3, bench/classic_bootstrap.py) and the
   floor: bench/runtime_floor.c, a static C program that only connects and sends that GET.
   Cold start: from process start to the first response posted, ours and the classic
   handler's, both against one dynalite table. RUNS fresh processes each, medians, ratios.
2. Warm invocations per second of each (one process, WARM events back to back).
3. `serve --store dynamodb://...` under wrk -c64 against dynalite, compared with
   dynalite's own UpdateItem ceiling (wrk posting UpdateItem straight to it).
4. Warm hits of new visitors (a new source address each) against a stand-in for DynamoDB
   that delays every call by LATENCY_MS (tests/integration/fake_dynamodb.py, a thread per
   connection), as DynamoDB's round trip does in a region: ours with the counter and the
   day row side by side (the default), ours with them in a row (max_in_flight=1), and the
   classic handler's one UpdateItem. dynalite answers one request at a time, so it cannot
   show what requests in flight together save. ROUNDS alternating rounds, medians.
5. Cold first answers with every DynamoDB call delayed LATENCY_MS (the same stand-in): ours
   in the full profile (the day's salt fetched at init, then the visitor's mark, then the
   counter beside the day row), ours in the classic profile (one UpdateItem) and the
   classic handler. Twice: with the event waiting when the process starts (an on-demand
   cold start: exec -> first /response), and with the event handed over GAP_MS after the
   process first asked for one (an environment initialised ahead of its first event, as
   provisioned concurrency and Lambda's proactive initialisation do: hand-over -> first
   /response), where the salt fetched at init is no longer on the hit's path.

usage: bench/lambda_bench.py [--runs 15] [--warm 2000] [--duration 10] [--latency-ms 4]
                             [--rounds 3] [--gap-ms 100] [--compare-bootstrap PATH]
--compare-bootstrap adds another build's bootstrap (say, one from before a change) to part
5, in the full profile, and a part 6: init and cold start against dynalite, the two
bootstraps alternating, 5 x 5 fresh processes each.
Needs: make package (dist/visitor-counter-lambda.zip), make build, wrk, python3-boto3, gcc.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from dynalite import Dynalite  # noqa: E402
from fake_dynamodb import FakeDynamoDb  # noqa: E402
from fake_runtime_api import FakeRuntimeApi, http_event  # noqa: E402

TABLE = "visitor-counter"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_REGION": "us-east-1",
               "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
               "AWS_DEFAULT_REGION": "us-east-1"}


def unpack_bootstrap():
    folder = tempfile.mkdtemp(prefix="vc-bootstrap-")
    with zipfile.ZipFile(os.path.join(ROOT, "dist", "visitor-counter-lambda.zip")) as z:
        z.extractall(folder)
    path = os.path.join(folder, "bootstrap")
    os.chmod(path, 0o755)
    return path


def start(command, env, api):
    return subprocess.Popen(command, env={**env, "AWS_LAMBDA_RUNTIME_API": api.address},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cold_start(command, env, runs, answer=True):
    """(init, first answer) seconds from exec, one fresh process per run: to the first GET
    /next, and to the first /response (None when `answer` is false: the floor answers none)."""
    inits, answers = [], []
    for _ in range(runs):
        with FakeRuntimeApi() as api:
            api.enqueue(http_event("GET", "/count"))
            began = time.monotonic()
            proc = start(command, env, api)
            if answer:
                answered = api.wait_for_first_response(timeout=60)
                assert api.posts[0].kind == "response" and api.posts[0].json()["statusCode"] == 200
                answers.append(answered - began)
            api.wait_until(lambda: api.first_next_time is not None, timeout=60, what="GET next")
            proc.kill()
            proc.wait()
            inits.append(api.first_next_time - began)
    return inits, answers


def build_floor(folder):
    path = os.path.join(folder, "runtime_floor")
    subprocess.run(["gcc", "-O2", "-static", "-o", path,
                    os.path.join(ROOT, "bench", "runtime_floor.c")], check=True)
    return path


def warm_rate(command, env, count):
    """Invocations per second of one warm process answering `count` queued events."""
    with FakeRuntimeApi() as api:
        proc = start(command, env, api)
        api.invoke(http_event("GET", "/count"), timeout=60)
        ids = [api.enqueue(http_event("GET", "/count")) for _ in range(count)]
        began = time.monotonic()
        api.wait_until(lambda: len(api.posts) >= count + 1, timeout=600, what="warm answers")
        took = time.monotonic() - began
        proc.kill()
        proc.wait()
        assert all(p.kind == "response" for p in api.posts), "an invocation failed"
        assert len(ids) == count
        return count / took


def new_visitor(i):
    """A GET /count from source address number `i`: a new visitor for each `i`."""
    event = http_event("GET", "/count")
    event["requestContext"]["http"]["sourceIp"] = "198.51.%d.%d" % (i // 250 % 250, i % 250 + 1)
    return event


def warm_hit_ms(command, env, count):
    """Mean milliseconds per warm invocation of one process answering `count`
    queued hits of new visitors (after one hit that warms it)."""
    with FakeRuntimeApi() as api:
        proc = start(command, env, api)
        api.invoke(new_visitor(count), timeout=60)
        for i in range(count):
            api.enqueue(new_visitor(i))
        began = time.monotonic()
        api.wait_until(lambda: len(api.posts) >= count + 1, timeout=600, what="warm answers")
        took = time.monotonic() - began
        proc.kill()
        proc.wait()
        assert all(p.kind == "response" and p.json()["statusCode"] == 200 for p in api.posts)
        return took / count * 1000


def with_latency(ours, classic, classic_env, latency_ms, rounds):
    """{name: [ms per warm hit of a new visitor, one per round]} against fake_dynamodb with
    every call delayed by `latency_ms`."""
    times = {"ours, side by side": [], "ours, in a row": [], "classic": []}
    with FakeDynamoDb(latency=latency_ms / 1000, scheduled=lambda operation, body: True) as fake:
        endpoint = fake.store_url().split("endpoint=")[1].split("&")[0]
        runs = {"ours, side by side": (ours, {**CREDENTIALS, "VC_STORE": fake.store_url()}),
                "ours, in a row": (ours, {**CREDENTIALS,
                                          "VC_STORE": fake.store_url("&max_in_flight=1")}),
                "classic": (classic, {**classic_env, "DYNAMODB_ENDPOINT": endpoint})}
        for _ in range(rounds):
            for name, (command, env) in runs.items():
                times[name].append(warm_hit_ms(command, env, 100))
    return times


def cold_answer(command, env, gap):
    """Seconds to the first /response of one fresh process: from exec when `gap` is None (the
    event waits from the start), else from handing the event over `gap` seconds after the
    process first asked for one."""
    with FakeRuntimeApi() as api:
        if gap is None:
            api.enqueue(http_event("GET", "/count"))
        began = time.monotonic()
        proc = start(command, env, api)
        if gap is not None:
            api.wait_until(lambda: api.first_next_time is not None, timeout=60, what="GET next")
            time.sleep(gap)  # the environment sits initialised, waiting for an event
            began = time.monotonic()
            api.enqueue(http_event("GET", "/count"))
        answered = api.wait_for_first_response(timeout=60)
        assert api.posts[0].kind == "response" and api.posts[0].json()["statusCode"] == 200
        proc.kill()
        proc.wait()
        return answered - began


def cold_with_latency(ours, classic, classic_env, latency_ms, gap_ms, runs, other=None):
    """{(name, mode): [seconds, one per fresh process]} against fake_dynamodb with every call
    delayed by `latency_ms`; mode "waiting" or "handed over". `other`: a second bootstrap's
    command, run in the full profile as "other bootstrap, full"."""
    times = {}
    with FakeDynamoDb(latency=latency_ms / 1000, scheduled=lambda operation, body: True) as fake:
        endpoint = fake.store_url().split("endpoint=")[1].split("&")[0]
        full = {**CREDENTIALS, "VC_STORE": fake.store_url(), "VC_COUNT_UNIT": "visitors",
                "VC_IGNORE_BOTS": "true", "VC_REPEAT_WINDOW": "10", "VC_MAX_COUNTERS": "0"}
        runs_of = {"ours, full profile": (ours, full),
                   "ours, classic profile": (ours, {**full, "VC_PROFILE": "classic",
                                                    "VC_COUNT_UNIT": "views",
                                                    "VC_REPEAT_WINDOW": "0"}),
                   "classic Python + boto3": (classic, {**classic_env,
                                                        "DYNAMODB_ENDPOINT": endpoint})}
        if other:
            runs_of["other bootstrap, full"] = (other, full)
        for mode, gap in (("waiting", None), ("handed over", gap_ms / 1000)):
            for _ in range(runs):
                for name, (command, env) in runs_of.items():
                    times.setdefault((name, mode), []).append(cold_answer(command, env, gap))
    return times


def wrk(url, duration, script=None):
    command = ["wrk", "-t1", "-c64", "-d%ds" % duration] + (["-s", script] if script else [])
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rate = float(out.split("Requests/sec:")[1].split()[0])
    completed = int(out.split(" requests in ")[0].split()[-1])
    assert "Non-2xx" not in out, out
    return rate, completed


def serve_against_dynalite(dynalite, duration):
    env = {**os.environ, **CREDENTIALS}
    proc = subprocess.Popen([os.path.join(ROOT, "build", "release", "visitor-counter"), "serve",
                             "--listen", "127.0.0.1:0", "--store", dynalite.store_url(TABLE)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = proc.stdout.readline().split("listening on ")[1].split()[0]
    before = read_item(dynalite, "bench-serve")
    rate, completed = wrk(url + "/count/bench-serve", duration)
    rose = read_item(dynalite, "bench-serve") - before
    proc.terminate()
    proc.wait()
    assert completed <= rose <= completed + 64, (completed, rose)
    return rate, completed, rose


def read_item(dynalite, key):
    item = dynalite.item(TABLE, key)
    return int(item["count"]["N"]) if item else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warm", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gap-ms", type=float, default=100)
    parser.add_argument("--compare-bootstrap")
    args = parser.parse_args()
    with Dynalite() as dynalite:
        dynalite.create_table(TABLE)
        ours_env = {**CREDENTIALS, "VC_STORE": dynalite.store_url(TABLE)}
        classic_env = {**os.environ, **CREDENTIALS, "DYNAMODB_ENDPOINT": dynalite.endpoint,
                       "CLASSIC_HANDLER_DIR": os.path.join(ROOT, "tests/integration/classic")}
        ours = [unpack_bootstrap()]
        classic = ["/usr/bin/python3", os.path.join(ROOT, "bench", "classic_bootstrap.py")]
        floor = [build_floor(os.path.dirname(ours[0]))]
        init_floor, _ = cold_start(floor, ours_env, args.runs, answer=False)
        init_ours, cold_ours = cold_start(ours, ours_env, args.runs)
        init_classic, cold_classic = cold_start(classic, classic_env, args.runs)
        if args.compare_bootstrap:
            versus = {"this bootstrap": ([], []), "other bootstrap": ([], [])}
            for _ in range(5):
                for name, command in (("this bootstrap", ours),
                                      ("other bootstrap", [args.compare_bootstrap])):
                    env = {**ours_env, "VC_COUNT_UNIT": "visitors"}
                    inits, answers = cold_start(command, env, 5)
                    versus[name][0].extend(inits)
                    versus[name][1].extend(answers)
        warm_ours = warm_rate(ours, ours_env, args.warm)
        warm_classic = warm_rate(classic, classic_env, max(100, args.warm // 10))
        serve_rate, completed, rose = serve_against_dynalite(dynalite, args.duration)
        ceiling, _ = wrk(dynalite.endpoint + "/", args.duration,
                         os.path.join(ROOT, "bench", "dynalite_update.lua"))
    latency = with_latency(ours, classic, classic_env, args.latency_ms, args.rounds)
    other = [os.path.abspath(args.compare_bootstrap)] if args.compare_bootstrap else None
    cold_slow = cold_with_latency(ours, classic, classic_env, args.latency_ms, args.gap_ms,
                                  args.runs, other)
    ms = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    print("init, median of %d fresh processes (exec -> first GET /next):" % args.runs)
    for name, times in [("bootstrap (C++, static)", init_ours), ("classic Python + boto3", init_classic),
                        ("floor: static C, GET only", init_floor)]:
        print("  %-28s %8.2f ms  (min %.2f, max %.2f)" % (name, ms(times), min(times) * 1000,
                                                         max(times) * 1000))
    print("  classic / bootstrap          %8.1fx; bootstrap - floor = %.2f ms" % (
        ms(init_classic) / ms(init_ours), ms(init_ours) - ms(init_floor)))
    print("cold start, median of %d fresh processes (exec -> first /response):" % args.runs)
    print("  bootstrap (C++, static)      %8.1f ms  (min %.1f, max %.1f)" % (
        ms(cold_ours), min(cold_ours) * 1000, max(cold_ours) * 1000))
    print("  classic Python + boto3       %8.1f ms  (min %.1f, max %.1f)" % (
        ms(cold_classic), min(cold_classic) * 1000, max(cold_classic) * 1000))
    print("  ratio                        %8.1fx faster" % (ms(cold_classic) / ms(cold_ours)))
    print("warm invocations per second (one process, events back to back):")
    print("  bootstrap %.0f/s, classic %.0f/s, ratio %.1fx" % (
        warm_ours, warm_classic, warm_ours / warm_classic))
    print("serve --store dynamodb against dynalite, wrk -t1 -c64 -d%ds:" % args.duration)
    print("  serve: %.0f hits/s (item rose %d for %d completed)" % (serve_rate, rose, completed))
    print("  dynalite UpdateItem ceiling: %.0f/s; serve / ceiling = %.1fx" % (
        ceiling, serve_rate / ceiling))
    print("warm hit of a new visitor, every DynamoDB call delayed %.0f ms, median of %d rounds:"
          % (args.latency_ms, args.rounds))
    for name, times in latency.items():
        print("  %-20s %6.2f ms  (%s)" % (name, statistics.median(times),
                                         ", ".join("%.2f" % t for t in times)))
    print("  side by side saves %.2f ms a hit against in a row" % (
        statistics.median(latency["ours, in a row"]) -
        statistics.median(latency["ours, side by side"])))
    print("cold first answer, every DynamoDB call delayed %.0f ms, median of %d fresh processes:"
          % (args.latency_ms, args.runs))
    for mode, what in (("waiting", "event waiting at exec: exec -> first /response"),
                       ("handed over", "event handed over %.0f ms after init: hand-over -> "
                        "first /response" % args.gap_ms)):
        print("  %s" % what)
        for name in ("ours, full profile", "ours, classic profile", "classic Python + boto3",
                     "other bootstrap, full"):
            if (name, mode) not in cold_slow:
                continue
            xs = cold_slow[(name, mode)]
            print("    %-24s %7.1f ms  (min %.1f, max %.1f)" % (name, ms(xs), min(xs) * 1000,
                                                             max(xs) * 1000))
    if args.compare_bootstrap:
        print("against dynalite, alternating, 25 fresh processes each, medians:")
        for name, (inits, answers) in versus.items():
            print("  %-16s init %5.2f ms, cold start %5.1f ms" % (name, ms(inits), ms(answers)))


if __name__ == "__main__":
    main()
