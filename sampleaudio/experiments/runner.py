"""The experiment runner: train a list of named configurations into one folder each, reusing finished runs and
resuming broken-off ones, and return one table row per run.

Runs whose configuration fixes their TensorFlow threads (``TrainConfig.threads``, e.g. one in the Kim 2019 demo
profile) train in worker processes, as many at once as the CPUs allow, each worker pinned to its own cores. The Kim
2019 demo's 36 float32 runs so took 26 % less wall time on 2 cores than one after the other on two threads
(docs/performance.md), and a run's numbers do not depend on how many train at once. Runs that leave the threads
to TensorFlow (the paper profiles, a GPU) train one after the other in this process.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import time

import pandas as pd

from sampleaudio.config import ExperimentConfig
from sampleaudio.cpu import usable_cpus

__all__ = ["run_experiments"]


def run_experiments(configs: list[tuple[dict, ExperimentConfig]], root: str, *, verbose: int = 0,
                    workers: int | None = None) -> pd.DataFrame:
    """Train every ``(keys, config)`` into ``root/<config.name>`` (finished runs are reused, broken-off ones
    resumed) and return one row per run, in the order given: the keys, the test metrics and the run directory.

    ``workers``: how many runs with fixed threads train at once (default: the usable CPUs divided by the runs'
    threads). A failed run stops the rest: the runs already training finish (and are reused next time), the ones
    not started are not.
    """
    from sampleaudio.cards import RunDir

    results: dict[int, tuple[dict, float]] = {}
    pooled: dict[int, list[int]] = {}  # threads -> indices of the runs to train in worker processes
    for i, (_, config) in enumerate(configs):
        run_dir = os.path.join(root, config.name)
        reused = RunDir(run_dir).is_finished()
        if config.train.threads and not reused:
            pooled.setdefault(config.train.threads, []).append(i)
            continue
        print(f"[{i + 1}/{len(configs)}] {config.name}: {'reused' if reused else 'training'}", flush=True)
        results[i] = _train_one(config, run_dir, verbose)
    for threads, indices in pooled.items():
        _train_in_workers([(i, configs[i][1]) for i in indices], root, threads, workers, verbose, len(configs),
                          results)
    rows = []
    for i, (keys, config) in enumerate(configs):
        metrics, seconds = results[i]
        rows.append({**keys, **{k: v for k, v in metrics.items() if not isinstance(v, str)},
                     "seconds": round(seconds, 1), "run_dir": os.path.join(root, config.name)})
    return pd.DataFrame(rows)


def _train_in_workers(jobs: list[tuple[int, ExperimentConfig]], root: str, threads: int, workers: int | None,
                      verbose: int, total: int, results: dict) -> None:
    """Train ``jobs`` in a pool of spawned processes, each pinned to ``threads`` CPUs of its own where there are
    enough (a spawned process starts without this one's TensorFlow, so each sets its own thread pools)."""
    cpus = usable_cpus()
    workers = min(len(jobs), workers or max(1, len(cpus) // threads))
    context = multiprocessing.get_context("spawn")
    slots = context.Queue()
    for k in range(workers):  # disjoint CPU sets while they last; beyond that the OS schedules
        slots.put(cpus[k * threads:(k + 1) * threads] if (k + 1) * threads <= len(cpus) else [])
    pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_pin, initargs=(slots,))
    try:
        print(f"training {len(jobs)} run(s), {workers} at a time, {threads} thread(s) each", flush=True)
        futures = {pool.submit(_train_one, config, os.path.join(root, config.name), verbose): (i, config.name)
                   for i, config in jobs}
        for n, done in enumerate(concurrent.futures.as_completed(futures), 1):
            i, name = futures[done]
            results[i] = done.result()
            print(f"[{n}/{len(jobs)}] {name}: trained in {results[i][1]:.0f} s (run {i + 1} of {total})", flush=True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _pin(slots) -> None:
    """Worker start: quiet if the parent is, then take a CPU set and stay on it (TensorFlow then sizes its own
    pools, tf.data's too, to it)."""
    from sampleaudio.logs import inherit_quiet

    inherit_quiet()
    cpus = slots.get()
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus)


def _train_one(config: ExperimentConfig, run_dir: str, verbose: int) -> tuple[dict, float]:
    """One run (in this process or a worker): its final metrics and wall seconds."""
    import keras

    from sampleaudio.train import train

    started = time.time()
    metrics = train(config, run_dir, verbose=verbose)
    keras.backend.clear_session()  # each run's graphs and layer names are its own; frees them for the next
    return metrics, time.time() - started
