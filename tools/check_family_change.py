"""Check that a change adding a model family touches only what a family owns (the acceptance test of the
"families own their facts" architecture).

    python tools/check_family_change.py NAME [--base main]

Allowed, for family ``NAME``:

- anything under ``sampleaudio/families/NAME/`` (its model, parameters, objective, presets, front ends);
- new files: converters (``data_prep/*.py``, ``data_prep/synthetic/*.py``), tests (``tests/``), its experiments
  (``sampleaudio/experiments/*.py``), reproduction scripts (``reproductions/*.py``), its docs page and pictures
  (``docs/papers/*.md``, ``docs/img/*``);
- one added line in ``sampleaudio/families/__init__.py`` (its name in ``FAMILY_MODULES``);
- added lines (nothing removed) in the documentation's shared lists: README.md, CHANGELOG.md, CITATION.cff,
  docs/papers.bib, and in ``sampleaudio/data/published_results.csv`` (its published numbers, with sources).

Anything else is printed and the exit code is 1.
"""

from __future__ import annotations

import argparse
import fnmatch
import subprocess
import sys

NEW_FILE_PATTERNS = ("data_prep/*.py", "data_prep/synthetic/*.py", "tests/*", "sampleaudio/experiments/*.py",
                     "reproductions/*.py", "docs/papers/*.md", "docs/img/*")
APPEND_ONLY = ("README.md", "CHANGELOG.md", "CITATION.cff", "docs/papers.bib", "sampleaudio/data/published_results.csv")
REGISTRY = "sampleaudio/families/__init__.py"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


def _counts(base: str, path: str) -> tuple[int, int]:
    added, removed, _ = _git("diff", "--numstat", f"{base}...HEAD", "--", path).split("\t", 2)
    return int(added), int(removed)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("name", help="the family's folder name under sampleaudio/families/")
    p.add_argument("--base", default="main", help="the commit the change starts from")
    args = p.parse_args(argv)
    own = f"sampleaudio/families/{args.name}/"
    wrong, docs = [], []
    for line in _git("diff", "--name-status", f"{args.base}...HEAD").splitlines():
        status, path = line.split("\t")[0], line.split("\t")[-1]
        if path.startswith(own):
            continue
        if status.startswith("A") and any(fnmatch.fnmatch(path, pat) for pat in NEW_FILE_PATTERNS):
            continue
        if path == REGISTRY and _counts(args.base, path) == (1, 0):
            continue
        if path in APPEND_ONLY and status.startswith("M") and _counts(args.base, path)[1] == 0:
            docs.append(path)
            continue
        wrong.append(f"{status}\t{path}")
    if docs:
        print("lines added to shared documentation lists: " + ", ".join(docs))
    if wrong:
        print(f"outside family '{args.name}' (see tools/check_family_change.py):\n" + "\n".join(wrong))
        return 1
    print(f"family '{args.name}' touches only its own files and one registration line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
