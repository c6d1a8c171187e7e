"""docs/openapi.yaml linted with Spectral (@stoplight/spectral-cli, pinned in package.json and
package-lock.json here, installed by `npm ci` when node_modules does not match the lock) and
the rules of spectral.yaml: no error and no warning. A broken copy of the document must fail
the same lint, so the linter is known to be looking."""
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DOCUMENT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "docs", "openapi.yaml")
RULESET = os.path.join(HERE, "spectral.yaml")
SPECTRAL = os.path.join(HERE, "node_modules", "@stoplight", "spectral-cli", "dist", "index.js")


def run(args, timeout=300):
    return subprocess.run(args, cwd=HERE, capture_output=True, text=True, timeout=timeout)


def installed_matches_lock():
    """True if node_modules holds exactly the versions package-lock.json pins."""
    with open(os.path.join(HERE, "package-lock.json")) as f:
        lock = json.load(f)
    for where, entry in lock["packages"].items():
        if not where or entry.get("optional"):
            continue
        manifest = os.path.join(HERE, where, "package.json")
        if not os.path.isfile(manifest):
            return False
        with open(manifest) as f:
            if json.load(f).get("version") != entry.get("version"):
                return False
    return True


@functools.lru_cache(maxsize=None)
def node():
    """The node binary, with Spectral installed from package-lock.json."""
    path = shutil.which("node")
    if path is None:
        raise AssertionError("node not found: install Node.js 18 or later (Debian package nodejs)")
    version = run([path, "--version"]).stdout.strip()
    found = re.fullmatch(r"v(\d+)\..*", version)
    if not found or int(found.group(1)) < 18:
        raise AssertionError("node %r is too old: Spectral needs Node.js 18 or later" % version)
    if not installed_matches_lock():
        npm = shutil.which("npm")
        if npm is None:
            raise AssertionError("npm not found: install it (Debian package npm)")
        # --ignore-scripts: nothing here needs an install script, and one dependency's
        # (@scarf/scarf) would only report the install to its authors.
        done = run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], timeout=600)
        if done.returncode != 0:
            raise AssertionError("npm ci in %s failed:\n%s\n%s" % (HERE, done.stdout, done.stderr))
        if not installed_matches_lock():
            raise AssertionError("npm ci in %s did not install package-lock.json's versions" % HERE)
    return path


def lint(document, form="text", *options):
    return run([node(), SPECTRAL, "lint", "--ruleset", RULESET, "--fail-severity", "warn",
                "--format", form, *options, document])


class LintTest(unittest.TestCase):
    def test_the_document_has_no_error_or_warning(self):
        with tempfile.TemporaryDirectory() as folder:
            report = os.path.join(folder, "results.json")
            done = lint(DOCUMENT, "json", "--output", report)
            self.assertTrue(os.path.exists(report), done.stdout + done.stderr)
            with open(report) as f:
                results = json.load(f)
        # Every result, hints and infos included: none is left.
        self.assertEqual(results, [], json.dumps(results, indent=1))
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)

    def test_a_broken_document_fails(self):
        with open(DOCUMENT) as f:
            text = f.read()
        # Two operations with one id, and a status code that is not one.
        broken = text.replace("operationId: countHead", "operationId: count", 1)
        broken = broken.replace("'429':", "'4299':", 1)
        self.assertNotEqual(broken, text)
        with tempfile.TemporaryDirectory() as folder:
            copy = os.path.join(folder, "openapi.yaml")
            with open(copy, "w") as f:
                f.write(broken)
            done = lint(copy)
        self.assertNotEqual(done.returncode, 0, done.stdout)
        self.assertIn("operation-operationId-unique", done.stdout)
        self.assertIn("error", done.stdout)


if __name__ == "__main__":
    unittest.main()
