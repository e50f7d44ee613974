"""Helpers of the reproduction scripts: run a grid of experiments (reusing finished runs), format tables.

Published numbers come only from ``reproductions/published_results.csv`` (copied, with their sources, from the
project's reference files); they are shown beside our numbers only for runs on the real datasets.
"""

from __future__ import annotations

import json
import os
import time

import pandas as pd

from sampleaudio.config import ExperimentConfig

__all__ = ["profile_arguments", "run_experiments", "markdown_table", "published_results", "write_results"]

_PUBLISHED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "reproductions",
                          "published_results.csv")


def profile_arguments(parser) -> None:
    """The options every reproduction script shares: profile, data root, output folder, seed."""
    from sampleaudio.experiments import PROFILES

    parser.add_argument("--profile", default="demo", choices=list(PROFILES),
                        help="demo: synthetic benchmark on CPU; smoke: tiny; paper: real data, full protocol")
    parser.add_argument("--data-root", default=None,
                        help="paper: folder of converted stores (mtat/, speech-commands/, dcase2017/); "
                             "demo/smoke: where synthetic proxies are cached (default ~/.cache/sampleaudio)")
    parser.add_argument("--out", default="results", help="runs and tables are written under OUT/<script>/")
    parser.add_argument("--seed", type=int, default=0)


def run_experiments(configs: list[tuple[dict, ExperimentConfig]], root: str, *, verbose: int = 0) -> pd.DataFrame:
    """Train every ``(keys, config)`` into ``root/<config.name>`` (finished runs are reused, broken-off ones
    resumed) and return one row per run: the keys, the test metrics and the run directory."""
    import keras

    from sampleaudio.train import train

    rows = []
    for i, (keys, config) in enumerate(configs, 1):
        run_dir = os.path.join(root, config.name)
        started = time.time()
        reused = os.path.exists(os.path.join(run_dir, "final_metrics.json"))
        print(f"[{i}/{len(configs)}] {config.name}: {'reused' if reused else 'training'}", flush=True)
        metrics = train(config, run_dir, verbose=verbose)
        keras.backend.clear_session()  # each run's graphs and layer names are its own; frees them for the next
        rows.append({**keys, **{k: v for k, v in metrics.items() if not isinstance(v, str)},
                     "seconds": round(time.time() - started, 1), "run_dir": run_dir})
    return pd.DataFrame(rows)


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
    """Published numbers with their sources."""
    return pd.read_csv(_PUBLISHED)


def write_results(out_dir: str, stem: str, table: pd.DataFrame, header: list[str], runs: pd.DataFrame) -> str:
    """Write ``stem.md`` (header + table), ``stem.csv`` (the table) and ``stem_runs.csv`` (every metric)."""
    from sampleaudio.train import environment

    os.makedirs(out_dir, exist_ok=True)
    text = "\n".join(header) + "\n\n" + markdown_table(table) + "\n"
    with open(os.path.join(out_dir, f"{stem}.md"), "w") as f:
        f.write(text)
    table.to_csv(os.path.join(out_dir, f"{stem}.csv"), index=False)
    runs.to_csv(os.path.join(out_dir, f"{stem}_runs.csv"), index=False)
    with open(os.path.join(out_dir, f"{stem}_environment.json"), "w") as f:
        json.dump(environment(), f, indent=2)
    return text
