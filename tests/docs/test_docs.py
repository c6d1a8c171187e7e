"""The docs (run_docs.py): every relative link and anchor resolves, the README stays short,
the matcher's rules hold, a file whose example is wrong is caught, and every `console`
example of README.md and docs/*.md prints what the docs show."""
import os
import re
import subprocess
import tempfile
import unittest

import run_docs


def pages():
    return [os.path.join(run_docs.ROOT, "README.md")] + sorted(
        os.path.join(run_docs.ROOT, "docs", name)
        for name in os.listdir(os.path.join(run_docs.ROOT, "docs")) if name.endswith(".md"))


class PagesTest(unittest.TestCase):
    def test_every_relative_link_and_anchor_resolves(self):
        self.assertEqual(run_docs.broken_links(pages()), [])

    def test_a_broken_link_is_found(self):
        with tempfile.TemporaryDirectory() as folder:
            page = os.path.join(folder, "page.md")
            with open(page, "w") as f:
                f.write("# A `title`, here\n[ok](#a-title-here) [gone](#nope) [file](none.md)\n"
                        "```\n[in a fence](#ignored)\n```\n")
            self.assertEqual([b.rsplit(": ", 1)[1] for b in run_docs.broken_links([page])],
                             ["#nope", "none.md"])

    def test_every_flag_and_variable_of_help_is_in_the_configuration_page(self):
        out = subprocess.run([run_docs.BINARY, "--help"], capture_output=True, text=True,
                             check=True).stdout
        settings = re.findall(r"^  (--[a-z-]+)(?: VALUE)?  \[(VC_[A-Z_]+)\]$", out, re.M)
        self.assertGreater(len(settings), 20)
        with open(os.path.join(run_docs.ROOT, "docs", "configuration.md")) as f:
            page = f.read()
        for flag, variable in settings:
            self.assertIn("`%s" % flag, page)
            self.assertIn("`%s`" % variable, page)

    def test_the_readme_stays_a_front_door(self):
        with open(os.path.join(run_docs.ROOT, "README.md")) as f:
            self.assertLessEqual(len(f.read().splitlines()), 250)


class MatcherTest(unittest.TestCase):
    def test_lines_and_ellipses(self):
        self.assertTrue(run_docs.matches(["a", "b"], ["a", "b"]))
        self.assertFalse(run_docs.matches(["a"], ["a", "b"]))
        self.assertTrue(run_docs.matches(["...", "b"], ["a", "x", "b"]))
        self.assertTrue(run_docs.matches(["a", "...", "b"], ["a", "b"]))
        self.assertTrue(run_docs.matches(['{"count":...}'], ['{"count":12}']))
        self.assertFalse(run_docs.matches(['{"count":1}'], ['{"count":12}']))
        self.assertFalse(run_docs.matches(["a.c"], ["abc"]))  # only ... is special


class RunnerTest(unittest.TestCase):
    def test_a_wrong_example_fails_and_a_right_one_passes(self):
        with tempfile.TemporaryDirectory() as folder:
            page = os.path.join(folder, "page.md")
            with open(page, "w") as f:
                f.write("```console\n$ echo one\none\n$ false\n[exit 1]\n"
                        "$ echo a \\\n  b\na b\n```\n"
                        "```sh\n$ this is not run\n```\n"
                        "```console\n$ echo two\nthree\n```\n")
            failures = run_docs.run_file(page)
        self.assertEqual(len(failures), 1, failures)
        self.assertIn("page.md:14: $ echo two", failures[0])

    def test_every_example_in_the_docs(self):
        paths = pages()
        total, failures = 0, []
        for path in paths:
            total += len(run_docs.examples(path)[0])
            failures += run_docs.run_file(path)
        self.assertGreater(total, 20)  # the docs do show runnable examples
        self.assertEqual(failures, [], "\n\n".join(failures))


if __name__ == "__main__":
    unittest.main()
