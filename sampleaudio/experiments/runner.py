"""The experiment runner: train a list of named configurations into one folder each, reusing finished runs and
resuming broken-off ones, and return one table row per run."""

from __future__ import annotations

import os
import time

import pandas as pd

from sampleaudio.config import ExperimentConfig

__all__ = ["run_experiments"]


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
