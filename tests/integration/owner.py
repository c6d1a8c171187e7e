"""Shared by the owner's tests (test_owner, test_transfer): the admin token, UTC dates, the
export format, and `visitor-counter export` / `import` runs of the real binary."""
import datetime
import json
import os
import subprocess

from server import BINARY

TOKEN = "it-admin-token-0123456789abcdef"
BEARER = {"Authorization": "Bearer " + TOKEN}
ADMIN_ENV = {"VC_ADMIN_TOKEN": TOKEN}
HEADER = '{"format":"visitor-counter","version":1}'


def day(offset=0):
    """The UTC date `offset` days from today, YYYY-MM-DD."""
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return (today + datetime.timedelta(days=offset)).isoformat()


def export_text(records):
    """An export file's text for `records`: [(key, views, visitors, [(date, v, u), ...])]."""
    lines = [HEADER]
    for key, views, visitors, days in records:
        lines.append(json.dumps({"key": key, "views": views, "visitors": visitors,
                                 "days": [list(d) for d in days]}, separators=(",", ":")))
    return "\n".join(lines) + "\n"


def run_cli(*args, stdin=None, env=None):
    """Runs `visitor-counter ARGS`: (exit code, stdout, stderr)."""
    done = subprocess.run([BINARY, *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)
    return done.returncode, done.stdout, done.stderr
