#!/usr/bin/env python3
"""export and import on SQLite at scale: COUNTERS counters (default 100,000) with DAYS days
of history each (default 365), imported into a fresh SQLite file and exported again, timed,
with the second export checked byte for byte against the input. The anchor, measured in the
same run on the same rows: the sqlite3 CLI importing the day rows as CSV (`.import`) into a
plain table and writing them out again as CSV.

    bench/transfer_bench.py [--binary build/release/visitor-counter] [--counters N] [--days D]

Prints each step's time, rows per second and the ratios; needs a few GB in $TMPDIR.
"""
import argparse
import datetime
import os
import subprocess
import tempfile
import time


def generate(path, counters, days):
    """Writes an export file: counters k000000..., each with `days` days ending yesterday."""
    start = datetime.date.today() - datetime.timedelta(days=days)
    dates = [(start + datetime.timedelta(days=i)).isoformat() for i in range(days)]
    with open(path, "w") as out, open(path + ".csv", "w") as csv:
        out.write('{"format":"visitor-counter","version":1}\n')
        for c in range(counters):
            key = "site/page-%06d" % c
            parts, views, visitors = [], 0, 0
            for i, date in enumerate(dates):
                v, u = (c + i) % 50, (c + i) % 20
                views += v
                visitors += u
                parts.append('["%s",%d,%d]' % (date, v, u))
                csv.write("%s,%s,%d,%d\n" % (key, date, v, u))
            out.write('{"key":"%s","views":%d,"visitors":%d,"days":[%s]}\n'
                      % (key, views, visitors, ",".join(parts)))


def timed(command, **kwargs):
    started = time.monotonic()
    subprocess.run(command, check=True, **kwargs)
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.environ.get("VC_BINARY",
                                                           "build/release/visitor-counter"))
    parser.add_argument("--counters", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    rows = args.counters * args.days
    with tempfile.TemporaryDirectory(prefix="vc-transfer-bench-") as tmp:
        source = os.path.join(tmp, "in.jsonl")
        print("generating %d counters x %d days (%d day rows)..." % (args.counters, args.days, rows),
              flush=True)
        generate(source, args.counters, args.days)
        size = os.path.getsize(source)
        db = os.path.join(tmp, "counter.db")
        again = os.path.join(tmp, "out.jsonl")
        t_import = timed([binary, "import", "--store", "sqlite:" + db, "--input", source])
        t_export = timed([binary, "export", "--store", "sqlite:" + db, "--output", again])
        same = subprocess.run(["cmp", "-s", source, again]).returncode == 0
        anchor_db = os.path.join(tmp, "anchor.db")
        t_anchor_in = timed(["sqlite3", anchor_db], input=(
            "CREATE TABLE days (key TEXT, day TEXT, views INTEGER, visitors INTEGER,"
            " PRIMARY KEY (key, day)) WITHOUT ROWID;\n.mode csv\n.import %s.csv days\n"
            % source).encode())
        with open(os.path.join(tmp, "anchor.csv"), "wb") as out:
            t_anchor_out = timed(["sqlite3", "-csv", anchor_db,
                                  "SELECT * FROM days ORDER BY key, day"], stdout=out)
        print("file: %.0f MB, second export identical: %s" % (size / 1e6, same))
        print("| step | seconds | day rows/s | anchor (sqlite3 CLI, CSV) | ratio |")
        print("| --- | --- | --- | --- | --- |")
        for name, ours, anchor in [("import", t_import, t_anchor_in),
                                   ("export", t_export, t_anchor_out)]:
            print("| %s | %.1f | %.0f | %.1f s | %.2fx |" % (name, ours, rows / ours, anchor,
                                                            anchor / ours))
        if not same:
            raise SystemExit("the second export differs from the input")


if __name__ == "__main__":
    main()
