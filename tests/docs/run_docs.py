#!/usr/bin/env python3
"""Runs the examples of the docs and checks what they print.

Every fenced block whose info string is `console`, in README.md and docs/*.md (or the files
given on the command line), is run; other blocks (```sh, ```json, ...) are only shown.

In a `console` block, a line starting with `$ ` is a command (a line ending in `\\`
continues it); the lines after it, up to the next command, are what it prints, stdout and
stderr together. They are compared ignoring trailing whitespace and trailing blank lines; a
line that is just `...` matches any number of lines, and `...` inside a line matches any
text. A command that exits non-zero fails unless its output ends with a line `[exit N]`.

Each file runs in its own empty folder, as a newcomer's clone would be before `make run`: the
commands run there with bash, in order, across the file's blocks, with `visitor-counter` on
PATH and `build/release/visitor-counter` working too. Just before the first command that
addresses `127.0.0.1:8080` or `localhost:8080`, one server is started for the file as
`make run` starts it (the Makefile's recommended profile, store sqlite:var/counter.db), on a
free port that replaces 8080 in the commands and is shown as 8080 in their output. A file
adds flags to that server with an HTML comment before its first block:
`<!-- docs-test: serve --admin-token-file var/admin-token -->`.

Usage: VC_BINARY=build/release/visitor-counter tests/docs/run_docs.py [FILE.md ...]
Exit status 0 when every example printed what its file shows."""
import functools
import glob
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.abspath(os.environ.get("VC_BINARY", os.path.join(ROOT, "build/release/visitor-counter")))
ADDRESS = re.compile(r"\b(127\.0\.0\.1|localhost):8080\b")
SERVE_FLAGS = re.compile(r"<!--\s*docs-test:\s*serve\s+(.*?)\s*-->", re.S)
COMMAND_SECONDS = 60


def make_run_profile():
    """The variables `make run` sets, read from the Makefile so the two cannot drift."""
    with open(os.path.join(ROOT, "Makefile")) as f:
        text = f.read()
    profile = dict(re.findall(r"^(VC_[A-Z_]+) \?= (.*)$", text, re.M))
    profile["VC_ALLOW_ORIGINS"] = re.search(r"^ORIGINS \?= (.*)$", text, re.M).group(1)
    return profile


class Example:
    def __init__(self, path, line, command, expected):
        self.path, self.line, self.command, self.expected = path, line, command, expected

    def where(self):
        return "%s:%d" % (os.path.relpath(self.path, ROOT), self.line)


def examples(path):
    """The file's console examples, in order, and the flags its server gets."""
    with open(path) as f:
        lines = f.read().split("\n")
    found, block, command, start = [], None, None, 0
    for number, line in enumerate(lines, 1):
        fence = re.match(r"^\s*```(\S*)", line)
        if fence and block is None:
            block = fence.group(1)
            command = None
            continue
        if fence and block is not None:
            block = None
            continue
        if block != "console":
            continue
        if command is not None and command[-1].endswith("\\"):
            command.append(line)
        elif line.startswith("$ "):
            command = [line[2:]]
            found.append(Example(path, number, command, []))
        elif found and command is not None:
            found[-1].expected.append(line)
    for example in found:
        example.command = "\n".join(example.command)
    with open(path) as f:
        flags = SERVE_FLAGS.search(f.read())
    return found, shlex.split(flags.group(1)) if flags else []


def matches(expected, actual):
    """Whether `actual` lines match `expected` lines, with `...` as described above."""
    if not expected:
        return not actual
    head = expected[0]
    if head == "...":
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    if not actual:
        return False
    pattern = ".*".join(re.escape(part) for part in head.split("..."))
    return re.fullmatch(pattern, actual[0]) is not None and matches(expected[1:], actual[1:])


def trimmed(lines):
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sandbox:
    """A file's folder, its PATH and, once needed, its server."""

    def __init__(self, folder, serve_flags):
        self.folder, self.serve_flags = folder, serve_flags
        self.server, self.port, self.log = None, None, None
        os.makedirs(os.path.join(folder, "build", "release"))
        os.makedirs(os.path.join(folder, ".bin"))
        for link in (os.path.join(folder, "build", "release", "visitor-counter"),
                     os.path.join(folder, ".bin", "visitor-counter")):
            os.symlink(BINARY, link)
        self.env = {**os.environ, "PATH": os.path.join(folder, ".bin") + ":" + os.environ["PATH"],
                    "HOME": folder}
        for name in list(self.env):
            if name.startswith("VC_"):
                del self.env[name]

    def start_server(self):
        self.port = free_port()
        self.log = open(os.path.join(self.folder, ".server.log"), "w+")
        env = {**self.env, **make_run_profile()}
        self.server = subprocess.Popen(
            [BINARY, "serve", "--listen", "127.0.0.1:%d" % self.port, "--store",
             "sqlite:var/counter.db", *self.serve_flags],
            cwd=self.folder, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError("the server exited: " + self.server_log())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the server did not listen within 30 s")

    def server_log(self):
        self.log.seek(0)
        return self.log.read()

    def run(self, example):
        command = example.command
        if ADDRESS.search(command):
            if self.server is None:
                self.start_server()
            command = ADDRESS.sub(lambda m: "%s:%d" % (m.group(1), self.port), command)
        done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=self.folder,
                              env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=COMMAND_SECONDS)
        output = done.stdout
        if self.port is not None:
            output = output.replace(":%d" % self.port, ":8080")
        actual = trimmed(output.split("\n"))
        if done.returncode != 0:
            actual.append("[exit %d]" % done.returncode)
        return actual

    def stop(self):
        if self.server is None:
            return None
        self.server.terminate()
        code = self.server.wait(timeout=30)
        self.log.close()
        return code


def run_file(path):
    """Runs one file's examples; returns the failures' descriptions."""
    found, serve_flags = examples(path)
    failures = []
    with tempfile.TemporaryDirectory(prefix="vc-docs-") as folder:
        sandbox = Sandbox(folder, serve_flags)
        try:
            for example in found:
                expected = trimmed(example.expected)
                try:
                    actual = sandbox.run(example)
                except subprocess.TimeoutExpired:
                    actual = ["[no answer within %d s]" % COMMAND_SECONDS]
                if not matches(expected, actual):
                    failures.append("%s: $ %s\n  the docs show:\n%s\n  it printed:\n%s" % (
                        example.where(), example.command,
                        "\n".join("    " + line for line in expected),
                        "\n".join("    " + line for line in actual)))
        finally:
            code = sandbox.stop()
            if code not in (None, 0):
                failures.append("%s: the server exited %d" % (path, code))
    print("%-28s %2d examples, %d failed" % (os.path.relpath(path, ROOT), len(found),
                                              len(failures)))
    return failures


def slug(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", re.sub(r"<[^>]+>", "", heading))
    text = re.sub(r"[^\w\- ]", "", text.replace("`", "").strip().lower())
    return text.replace(" ", "-")


def outside_fences(path):
    """(line number, line) of the file's lines that are not in a fenced block."""
    fenced = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if re.match(r"^\s*```", line):
                fenced = not fenced
            elif not fenced:
                yield number, line


@functools.lru_cache(maxsize=None)
def anchors(path):
    """The #anchors of a page's headings (read once per page)."""
    found, seen = set(), {}
    for _, line in outside_fences(path):
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            name = slug(heading.group(1))
            found.add(name if name not in seen else "%s-%d" % (name, seen[name]))
            seen[name] = seen.get(name, 0) + 1
    return found


def broken_links(paths):
    """Every relative link of `paths` whose file or #anchor does not exist."""
    broken = []
    for path in paths:
        for number, line in outside_fences(path):
            for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(r"`[^`]*`", "", line)):
                if re.match(r"^[a-z]+:", target):
                    continue  # http:, https:, mailto:
                name, _, anchor = target.partition("#")
                dest = os.path.normpath(os.path.join(os.path.dirname(path), name)) if name else path
                if not os.path.exists(dest) or (anchor and dest.endswith(".md")
                                                and anchor not in anchors(dest)):
                    broken.append("%s:%d: %s" % (os.path.relpath(path, ROOT), number, target))
    return broken


def main(paths):
    paths = paths or [os.path.join(ROOT, "README.md")] + sorted(
        glob.glob(os.path.join(ROOT, "docs", "*.md")))
    failures = []
    for path in paths:
        failures += run_file(os.path.abspath(path))
    for failure in failures:
        print("\n" + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
