"""A finished run's model, in the precision it is used in, and the environment a run records.

The files of a run folder are :class:`sampleaudio.cards.RunDir`'s; this module adds what needs TensorFlow: loading
``best.keras`` (in float32, whatever it trained in), the precision rewrite, and the versions recorded beside every
result. Evaluation, export, inference and the reports load runs here; none of them imports the trainer.
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
from sampleaudio.cards import RunDir
from sampleaudio.config import ExperimentConfig
from sampleaudio.errors import ParameterError
from sampleaudio.segments import InputSpec
from sampleaudio.stores import Task

__all__ = ["in_float32", "in_precision", "environment", "read_model_card", "load_best", "load_run", "named_input"]


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
                    "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads()
                    or os.environ.get("TF_NUM_INTRAOP_THREADS", "TensorFlow's default"),
                    "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads()
                    or os.environ.get("TF_NUM_INTEROP_THREADS", "TensorFlow's default"),
                    "cpus": len(cpu.usable_cpus())}}


def _refuse_diverged(run_dir: str) -> None:
    """Raise the one-line error of a run whose training diverged (its ``diverged.json``), if it did."""
    diverged = RunDir(run_dir).diverged()
    if diverged is not None:
        raise ParameterError(f"'{run_dir}' has no model: its training diverged at stage {diverged['stage']}, "
                             f"epoch {diverged['epoch']} (loss {diverged['loss']}); train again with a lower --lr "
                             "(or another configuration) in a new run folder")


def read_model_card(run_dir: str) -> dict:
    """A finished run's ``model_card.json``, the input-path fields a card written before them lacks filled in with
    what they then meant (:meth:`sampleaudio.segments.InputSpec.card_defaults`: 22,050 Hz, consecutive segments,
    mean pooling). Every entry point (evaluate, tag, embed, export, the chunked evaluation) reads cards here."""
    path = os.path.join(run_dir, "model_card.json")
    if not os.path.exists(path):
        _refuse_diverged(run_dir)
    try:
        with open(path, encoding="utf-8") as f:
            card = json.load(f)
    except (OSError, ValueError) as exc:
        raise ParameterError(f"'{path}' is missing or not a model card ({exc})") from exc
    if not isinstance(card, dict):
        raise ParameterError(f"'{path}' is not a model card (a JSON object)")
    try:
        return InputSpec.complete(card)
    except (ParameterError, TypeError) as exc:
        raise ParameterError(f"'{path}': {exc}") from exc


def load_best(run_dir: str) -> keras.Model:
    """The best model of a finished run, in float32 (what tag, embed, export and evaluate compute with)."""
    path = os.path.join(run_dir, "best.keras")
    if not os.path.exists(path):
        _refuse_diverged(run_dir)
        raise ParameterError(f"'{run_dir}' has no best.keras: the run has not finished (resume it with "
                             "`sampleaudio train` and the same arguments)")
    try:
        model = keras.saving.load_model(path)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ParameterError(f"'{path}' cannot be loaded as a Keras model ({exc})") from exc
    return in_float32(model)


def load_run(run_dir: str) -> tuple[keras.Model, ExperimentConfig, Task]:
    """The best model of a finished run (:func:`load_best`), its configuration and task."""
    model = load_best(run_dir)
    config = RunDir(run_dir).read_config()
    if config is None:
        raise ParameterError(f"'{run_dir}' has no config.json: not a sampleaudio run folder")
    card = read_model_card(run_dir)
    try:
        task = Task.from_dict(card["task"])
    except (TypeError, KeyError) as exc:
        raise ParameterError(f"'{os.path.join(run_dir, 'model_card.json')}' is not a model card with a task "
                             f"({exc})") from exc
    return model, config, task


def _policy(name: str) -> dict:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}


def _float32_policies(node):
    if isinstance(node, list):
        return [_float32_policies(v) for v in node]
    if not isinstance(node, dict):
        return node
    if node.get("class_name") == "DTypePolicy" and str(node.get("config", {}).get("name", "")).startswith("mixed_"):
        return {**node, "config": {**node["config"], "name": "float32"}}
    return {k: _float32_policies(v) for k, v in node.items()}


def in_precision(model: keras.Model, precision: str = "float32") -> keras.Model:
    """``model`` computing in ``float32`` throughout, or in ``bfloat16`` (Keras' ``mixed_bfloat16``: float32
    weights, bfloat16 arithmetic; the layers that give the model's outputs stay float32), with the same weights
    and names. A model already in the asked precision is returned as is.

    A run trained under a mixed-precision policy (``mixed_precision="auto"`` picks bfloat16 on a CPU with
    bfloat16 dot products and float16 on a GPU) saves its layers with that policy; evaluation, tagging and the
    exported SavedModel run in float32 (:func:`load_run`), so that an export computes the same on any machine (a
    float16 or bfloat16 graph is slow or emulated on CPUs without those instructions). ``bfloat16`` is the
    tagger's faster option on CPUs that have those instructions (``sampleaudio tag --precision bfloat16``).
    """
    if precision not in ("float32", "bfloat16"):
        raise ParameterError(f"precision must be 'float32' or 'bfloat16'. Received: {precision!r}")
    config = model.get_config()
    if precision == "float32":
        if all(not layer.dtype_policy.name.startswith("mixed_") for layer in model.layers):
            return model
        config = _float32_policies(config)
    else:
        if "layers" not in config or "output_layers" not in config:
            raise ParameterError(f"bfloat16 needs a functional model; '{model.name}' is {type(model).__name__}")
        entries = config["output_layers"]  # one output: [name, node, tensor]; several: a list of those
        outputs = {entries[0]} if entries and isinstance(entries[0], str) else {entry[0] for entry in entries}
        for layer in config["layers"]:
            if layer.get("class_name") != "InputLayer":
                layer["config"]["dtype"] = _policy("float32" if layer["config"]["name"] in outputs
                                                   else "mixed_bfloat16")
    rebuilt = model.__class__.from_config(config)
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def in_float32(model: keras.Model) -> keras.Model:
    """``model`` computing in float32 throughout (:func:`in_precision`)."""
    return in_precision(model, "float32")


def named_input(model: keras.Model, name: str):
    """The input of ``model`` named ``name`` (a model of several inputs: ``waveform``, ``image``)."""
    for tensor in model.inputs:
        if getattr(tensor, "name", "").split(":")[0] == name:
            return tensor
    raise ParameterError(f"model '{model.name}' has no input named '{name}' (its inputs: "
                         f"{', '.join(t.name for t in model.inputs)})")
