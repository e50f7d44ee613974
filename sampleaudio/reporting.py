"""Helpers of the reproduction scripts: tables of runs (markdown, CSV, mean ± std, sign agreement across seeds)
and the published numbers beside them. The runner, :func:`sampleaudio.experiments.run_experiments`, is
re-exported here for the scripts.

Published numbers come only from ``sampleaudio/data/published_results.csv`` (copied, with their sources, from the
project's reference files); they are shown beside our numbers only for runs on the real datasets.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence

import pandas as pd

from sampleaudio.cli_types import non_negative_int, positive_int
from sampleaudio.experiments import run_experiments  # noqa: F401  (re-exported: the scripts import it here)

__all__ = ["run_script", "profile_arguments", "run_experiments", "markdown_table", "published_results", "write_results",
           "mean_std", "sign_agreement"]

#: package data, so a wheel install has it too
PUBLISHED_RESULTS = "sampleaudio/data/published_results.csv"


def run_script(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Run a reproduction script's ``main(argv)`` and return its exit code, for ``sys.exit(run_script(main))``.

    An expected error (bad input, a missing optional extra, a path the user named:
    :func:`sampleaudio.errors.expected_error_line`) is printed as one line, ``<script>: error: ...``, with exit code
    1; ``--verbose`` among the arguments shows its traceback instead. Anything else (a bug) keeps its traceback.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = os.path.basename(sys.argv[0]) or "script"
    try:
        return int(main(argv) or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from sampleaudio.errors import expected_error_line

        line = expected_error_line(exc)
        if line is None or "--verbose" in argv:
            raise
        print(f"{prog}: error: {line}", file=sys.stderr)
        return 1


def profile_arguments(parser) -> None:
    """The options every reproduction script shares: profile, data root, output folder, seed, --verbose."""
    from sampleaudio.experiments import PROFILES
    from sampleaudio.logs import add_verbose_argument

    add_verbose_argument(parser)

    parser.add_argument("--profile", default="demo", choices=list(PROFILES),
                        help="demo: synthetic benchmark on CPU; smoke: tiny; paper: real data, full protocol")
    parser.add_argument("--data-root", default=None,
                        help="paper: folder of converted stores (mtat/, speech-commands/, dcase2017/); "
                             "demo/smoke: where synthetic proxies are cached (default ~/.cache/sampleaudio)")
    parser.add_argument("--out", default="results", help="runs and tables are written under OUT/<script>/")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the first run of every cell")
    parser.add_argument("--seeds", type=positive_int, default=1,
                        help="runs per cell (seeds SEED, SEED+1, ...); cells then show mean ± std")


def mean_std(values, fmt: str = ".4f") -> float | str:
    """One cell of a table: the value itself for one run, ``"mean ± std"`` (sample std) for several."""
    import numpy as np

    values = [float(v) for v in values if v == v]
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return f"{np.mean(values):{fmt}} ± {np.std(values, ddof=1):{fmt}}"


def sign_agreement(runs: pd.DataFrame, metric: str, groups: list[str], compare: str, seeds: tuple[int, int]
                   ) -> tuple[int, int]:
    """How many pairwise comparisons keep their sign between two seeds.

    Within each group of ``groups`` (e.g. task and multi-level), every pair of values of ``compare`` (e.g.
    the block) is compared by ``metric`` under both seeds; a comparison is kept when the difference has the
    same non-zero sign under both. Returns ``(kept, total)``.
    """
    from itertools import combinations

    kept = total = 0
    for _, group in runs.groupby(groups):
        by_seed = {s: dict(zip(g[compare], g[metric])) for s, g in group.groupby("seed")}
        if not all(s in by_seed for s in seeds):
            continue
        a, b = by_seed[seeds[0]], by_seed[seeds[1]]
        for x, y in combinations(sorted(set(a) & set(b), key=str), 2):
            total += 1
            da, db = a[x] - a[y], b[x] - b[y]
            kept += int(da * db > 0)
    return kept, total


def markdown_table(df: pd.DataFrame, floatfmt: str = ".4f") -> str:
    """A GitHub Markdown table of ``df`` (no extra dependency)."""
    def cell(v):
        if isinstance(v, float):
            return "—" if v != v else format(v, floatfmt)
        return str(v)

    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def published_results() -> pd.DataFrame:
    """Published numbers with their sources (:data:`PUBLISHED_RESULTS`, installed with the package)."""
    from importlib.resources import files

    with files("sampleaudio").joinpath("data", "published_results.csv").open("r", encoding="utf-8") as f:
        return pd.read_csv(f)


def write_results(out_dir: str, stem: str, table: pd.DataFrame, header: list[str], runs: pd.DataFrame) -> str:
    """Write ``stem.md`` (header + table), ``stem.csv`` (the table) and ``stem_runs.csv`` (every metric)."""
    from sampleaudio.runs import environment

    os.makedirs(out_dir, exist_ok=True)
    text = "\n".join(header) + "\n\n" + markdown_table(table) + "\n"
    with open(os.path.join(out_dir, f"{stem}.md"), "w") as f:
        f.write(text)
    table.to_csv(os.path.join(out_dir, f"{stem}.csv"), index=False)
    runs.to_csv(os.path.join(out_dir, f"{stem}_runs.csv"), index=False)
    with open(os.path.join(out_dir, f"{stem}_environment.json"), "w") as f:
        json.dump(environment(), f, indent=2)
    return text
