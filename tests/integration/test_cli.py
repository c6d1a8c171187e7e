"""The operator's command line against the real binary: every command answers --help, the
reading commands never create a store, and --version names the version and the commit, also
for a build from a source tarball (cmake/version.cmake run on a `git archive`)."""
import os
import re
import subprocess
import tempfile
import unittest

from owner import run_cli

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        return re.search(r"project\(visitor_counter VERSION (\S+)", f.read()).group(1)


def git(*args, cwd=ROOT):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


class HelpTest(unittest.TestCase):
    def test_every_command_answers_help(self):
        for command in ["export", "import", "backup", "healthcheck"]:
            for flag in ["--help", "-h"]:
                code, out, err = run_cli(command, flag)
                self.assertEqual((code, err), (0, ""), command)
                self.assertTrue(out.startswith("usage: visitor-counter " + command), out)
                self.assertIn("exit status:", out)
        # Even after other arguments, and without doing anything else.
        code, out, _ = run_cli("export", "--store", "sqlite:/no/such/dir/x.db", "--help")
        self.assertEqual(code, 0)
        self.assertFalse(os.path.exists("/no/such/dir"))
        for words in [["--help"], ["serve", "--help"], ["lambda", "--help"]]:
            code, out, _ = run_cli(*words)
            self.assertEqual(code, 0, words)
            self.assertIn("redis://", out)
            self.assertIn("COMMAND --help", out)

    def test_help_says_the_origin_rules_gate_reads_too(self):
        _, out, _ = run_cli("--help")
        self.assertIn("refuse requests without Origin on /count, /counters, /history and /badge",
                      out)


class ReadingNeverCreatesTest(unittest.TestCase):
    def test_export_and_backup_of_a_missing_store_fail_and_create_nothing(self):
        with tempfile.TemporaryDirectory(prefix="vc-cli-") as folder:
            missing = os.path.join(folder, "no", "such", "dir", "x.db")
            code, out, err = run_cli("export", "--store", "sqlite:" + missing)
            self.assertEqual((code, out), (1, ""))
            self.assertIn("no database at " + missing, err)
            code, _, err = run_cli("export", "--store", "sqlite:" + os.path.join(folder, "x.db"),
                                   "--output", os.path.join(folder, "out.jsonl"))
            self.assertEqual(code, 1, err)
            code, _, err = run_cli("backup", "--store", "sqlite:" + missing, "--output",
                                   os.path.join(folder, "copy.db"))
            self.assertEqual(code, 1, err)
            self.assertEqual(os.listdir(folder), [])  # no folder, no database, no output
            # Writing commands still create theirs.
            code, _, err = run_cli("import", "--store", "sqlite:" + missing, stdin="key,count\na,1\n")
            self.assertEqual(code, 0, err)
            code, out, err = run_cli("export", "--store", "sqlite:" + missing)
            self.assertEqual(code, 0, err)
            self.assertIn('"key":"a"', out)


class VersionTest(unittest.TestCase):
    def test_version_names_the_project_version_and_a_commit(self):
        code, out, _ = run_cli("--version")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^visitor-counter %s \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)\n$"
                         % re.escape(project_version()))

    def version_file(self, source_dir, *defines):
        with tempfile.TemporaryDirectory(prefix="vc-version-") as out_dir:
            out = os.path.join(out_dir, "version.cpp")
            subprocess.run(["cmake", "-DSOURCE_DIR=" + source_dir, "-DVERSION=9.8.7",
                            "-DOUT=" + out, *defines, "-P",
                            os.path.join(ROOT, "cmake", "version.cmake")], check=True)
            with open(out) as f:
                text = f.read()
        return re.search(r'commit\(\) \{ return "([^"]*)"', text).group(1)

    def test_a_source_tarball_knows_its_commit(self):
        head = git("rev-parse", "--short=12", "HEAD")
        with tempfile.TemporaryDirectory(prefix="vc-archive-") as folder:
            # A tarball unpacked inside some other git checkout (a packaging repository)
            # must not take that checkout's commit for its own.
            git("init", "-q", folder, cwd=folder)
            tree = os.path.join(folder, "src")
            os.mkdir(tree)
            archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
            self.assertEqual(self.version_file(tree), head)
            self.assertEqual(self.version_file(tree, "-DCOMMIT=abc123"), "abc123")
            # Without the archive's record and outside git: unknown, never a wrong commit.
            with open(os.path.join(tree, "cmake", "commit.txt"), "w") as f:
                f.write("$Format:%H$\n")
            self.assertEqual(self.version_file(tree), "unknown")


if __name__ == "__main__":
    unittest.main()
