"""Run folders: everything that reads or writes a training run, in one place.

A run folder (written by :func:`sampleaudio.train.train`) holds ``config.json``, ``environment.json`` (versions
and git commit), ``history.csv``, ``state.json`` and ``checkpoints/`` while it trains, and ``best.keras``,
``model_card.json`` (what the input path needs: segment, mean/std, sample rate, labels, embedding layer) and
``final_metrics.json`` once it has finished. Evaluation, export, inference and the reports read runs through this
module; none of them imports the trainer.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess

import keras
import numpy as np
import tensorflow as tf

import sampleaudio.models  # noqa: F401  (registers the custom layers and initialisers for load_model)
from sampleaudio import cpu
from sampleaudio._version import __version__
from sampleaudio.checks import config_from_file_dict
from sampleaudio.config import ExperimentConfig
from sampleaudio.errors import ParameterError
from sampleaudio.fileio import write_json_atomic
from sampleaudio.tasks import Task

__all__ = ["environment", "write_json", "read_run_config", "read_model_card", "load_run", "run_is_finished",
           "standardization"]


def environment() -> dict:
    """Versions and git commit recorded next to every result."""
    import sklearn

    try:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        commit = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip() or "unknown"
        dirty = bool(subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "unknown", False
    return {"sampleaudio": __version__, "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__, "scikit-learn": sklearn.__version__, "python": platform.python_version(),
            "platform": platform.platform(), "git_commit": commit, "git_dirty": dirty,
            "devices": [d.device_type for d in tf.config.list_physical_devices()],
            "cpu": {"flags": cpu.describe(), "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "TensorFlow's default"),
                    "intra_op_threads": os.environ.get("TF_NUM_INTRAOP_THREADS", "TensorFlow's default"),
                    "inter_op_threads": os.environ.get("TF_NUM_INTEROP_THREADS", "TensorFlow's default")}}


def write_json(path: str, obj) -> None:
    """A run file (config, state, card, metrics), written atomically."""
    write_json_atomic(path, obj, indent=2, sort_keys=True)


def read_run_config(path: str) -> ExperimentConfig:
    """The :class:`ExperimentConfig` of a run's ``config.json``, with a one-line error naming the file."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as exc:
        raise ParameterError(f"'{path}' is not a readable run configuration ({exc})") from exc
    try:
        return config_from_file_dict(raw)
    except ParameterError as exc:
        raise ParameterError(f"'{path}': {exc}") from exc


def read_model_card(run_dir: str) -> dict:
    """A finished run's ``model_card.json``."""
    path = os.path.join(run_dir, "model_card.json")
    try:
        with open(path, encoding="utf-8") as f:
            card = json.load(f)
    except (OSError, ValueError) as exc:
        raise ParameterError(f"'{path}' is missing or not a model card ({exc})") from exc
    if not isinstance(card, dict):
        raise ParameterError(f"'{path}' is not a model card (a JSON object)")
    return card


def run_is_finished(run_dir: str) -> bool:
    """Whether the run has written its final metrics (its model and card are written before them)."""
    return os.path.exists(os.path.join(run_dir, "final_metrics.json"))


def load_run(run_dir: str) -> tuple[keras.Model, ExperimentConfig, Task]:
    """The best model of a finished run, its configuration and task."""
    path = os.path.join(run_dir, "best.keras")
    if not os.path.exists(path):
        raise ParameterError(f"'{run_dir}' has no best.keras: the run has not finished (resume it with "
                             "`sampleaudio train` and the same arguments)")
    config = read_run_config(os.path.join(run_dir, "config.json"))
    card = read_model_card(run_dir)
    try:
        task = Task.from_dict(card["task"])
    except (TypeError, KeyError) as exc:
        raise ParameterError(f"'{os.path.join(run_dir, 'model_card.json')}' is not a model card with a task "
                             f"({exc})") from exc
    try:
        model = keras.saving.load_model(path)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ParameterError(f"'{path}' cannot be loaded as a Keras model ({exc})") from exc
    return model, config, task


def standardization(config: ExperimentConfig, task: Task) -> tuple[float | None, float | None]:
    """The input's ``(mean, std)`` a run was trained with: ``(None, None)`` means the store's training
    statistics (recorded in the model card at the end of training); ``paper`` the original's constants;
    ``none`` the raw waveform (the SMC 2017 code)."""
    if config.data.standardize == "paper":
        if task.paper_mean is None or task.paper_std is None:
            raise ParameterError(f"standardize 'paper': dataset '{task.name}' has no published mean/std")
        return task.paper_mean, task.paper_std
    if config.data.standardize == "none":
        return 0.0, 1.0
    if config.data.standardize != "manifest":
        raise ParameterError(f"standardize must be 'manifest', 'paper' or 'none'. "
                             f"Received: {config.data.standardize!r}")
    return None, None
