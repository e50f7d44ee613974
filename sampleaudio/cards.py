"""A run folder and its files, without TensorFlow: the one place that names, writes and reads them.

A run folder (written by :func:`sampleaudio.train.train`)::

    config.json        the configuration (:class:`~sampleaudio.config.ExperimentConfig`), written first
    environment.json   versions, git commit, CPU settings
    state.json         the last committed epoch: stage, epoch, best-so-far, the checkpoint files it names
    history.csv        one row per committed epoch
    tensorboard/       TensorBoard logs
    checkpoints/       epoch-<n>.keras (model + optimizer), best-<n>.weights.h5 (the stage's best)
    best.keras         the finished model (what tag / embed / export / evaluate use)
    model_card.json    what the model needs and gives (labels, input, embeddings), written once at the end
    final_metrics.json the final scores; its presence means the run has finished

Old folders (configurations of earlier versions) read through :mod:`sampleaudio.migrate`.
"""

from __future__ import annotations

import csv
import json
import os

from sampleaudio.config import ExperimentConfig
from sampleaudio.errors import ParameterError
from sampleaudio.fileio import atomic_open, write_json_atomic

__all__ = ["RunDir", "write_json"]


def write_json(path: str, obj) -> None:
    """A run file (config, state, card, metrics), written atomically."""
    write_json_atomic(path, obj, indent=2, sort_keys=True)


class RunDir:
    """The files of one run folder (see the module docstring)."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    @property
    def checkpoints(self) -> str:
        return self.file("checkpoints")

    # ------------------------------------------------------------------------------------- configuration
    def read_config(self) -> ExperimentConfig | None:
        """The run's configuration (of any version), or ``None`` before it was written; a one-line error names a
        file that is not a run configuration."""
        path = self.file("config.json")
        if not os.path.exists(path):
            return None
        try:
            with open(path, encoding="utf-8") as f:
                raw = json.load(f)
        except (OSError, ValueError) as exc:
            raise ParameterError(f"'{path}' is not a readable run configuration ({exc})") from exc
        try:
            return ExperimentConfig.from_file_dict(raw)
        except ParameterError as exc:
            raise ParameterError(f"'{path}': {exc}") from exc

    def write_config(self, config: ExperimentConfig) -> None:
        os.makedirs(self.checkpoints, exist_ok=True)
        write_json(self.file("config.json"), config.to_dict())

    # ------------------------------------------------------------------------------------------ progress
    def read_state(self) -> dict | None:
        """The last committed epoch's state, if its checkpoint is there."""
        path = self.file("state.json")
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        ok = os.path.exists(os.path.join(self.checkpoints, state.get("checkpoint", "last.keras")))
        return state if ok else None

    def write_state(self, state: dict) -> None:
        write_json(self.file("state.json"), state)

    def append_history(self, row: dict) -> None:
        path = self.file("history.csv")
        new = not os.path.exists(path)
        with open(path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow(row)

    def rewind_history(self, global_epoch: int) -> None:
        """Drop ``history.csv`` rows of epochs at or after ``global_epoch`` (written, never committed)."""
        path = self.file("history.csv")
        if not os.path.exists(path):
            return
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        kept = [r for r in rows if int(r["global_epoch"]) < global_epoch]
        if len(kept) < len(rows):
            with atomic_open(path, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(kept)

    # ------------------------------------------------------------------------------------------- results
    def is_finished(self) -> bool:
        """Whether the run has written its final metrics (its model and card are written before them)."""
        return os.path.exists(self.file("final_metrics.json"))

    def final_metrics(self) -> dict:
        with open(self.file("final_metrics.json"), encoding="utf-8") as f:
            return json.load(f)
