"""Checks of an :class:`~sampleaudio.config.ExperimentConfig` before anything is written or trained.

The CLI already refuses bad numbers where they enter (argparse types); this module gives Python API users the same
one-line :class:`~sampleaudio.errors.ParameterError` instead of a hang (``steps_per_epoch=-1``), a silent default
(``num_blocks=0``, ``segment=0``) or a failure hours later.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

from sampleaudio import model_registry
from sampleaudio.config import ExperimentConfig
from sampleaudio.errors import ParameterError

__all__ = ["check_config", "config_differences", "config_from_file_dict", "run_config_dict"]

# field -> (lowest, highest, lowest excluded, highest excluded, may be None, integer)
_RULES = {
    "data.segment": (1, None, False, False, True, True),
    "data.batch_size": (1, None, False, False, False, True),
    "data.shuffle_buffer": (1, None, False, False, False, True),
    "data.max_eval_segments": (1, None, False, False, True, True),
    "data.max_valid_segments": (1, None, False, False, True, True),
    "model.num_blocks": (1, None, False, False, True, True),
    "model.init_features": (1, None, False, False, False, True),
    "model.amplifying_ratio": (0, None, True, False, False, False),
    "model.dropout": (0, 1, False, True, False, False),
    "model.window": (1, None, False, False, False, True),
    "model.hop": (1, None, False, False, False, True),
    "model.bn_momentum": (0, 1, False, True, True, False),
    "train.lr": (0, None, True, False, False, False),
    "train.momentum": (0, 1, False, True, False, False),
    "train.lr_decay": (0, 1, True, False, False, False),
    "train.num_stages": (1, None, False, False, False, True),
    "train.patience": (1, None, False, False, False, True),
    "train.time_decay": (0, None, False, False, False, False),
    "train.max_epochs_per_stage": (1, None, False, False, False, True),
    "train.steps_per_epoch": (1, None, False, False, True, True),
    "train.seed": (0, None, False, False, False, True),
    "eval.threshold": (0, 1, False, False, True, False),
    "eval.batch_size": (1, None, False, False, False, True),
    "train.unseen_fraction": (0, 1, True, True, False, False),
    "train.split_seed": (0, None, False, False, False, True),
}


def check_config(config: ExperimentConfig) -> ExperimentConfig:
    """Raise :class:`ParameterError` naming the first field whose value is out of range, or a model field the
    architecture does not take (:func:`sampleaudio.model_registry.check_params`); return ``config``."""
    model_registry.check_params(config.model)
    for field, (low, high, low_open, high_open, optional, integer) in _RULES.items():
        section, name = field.split(".")
        value = getattr(getattr(config, section), name)
        if value is None and optional:
            continue
        kind = numbers.Integral if integer else numbers.Real
        ok = not isinstance(value, bool) and isinstance(value, kind) and math.isfinite(value)
        ok = ok and not (value < low or (low_open and value == low))
        ok = ok and (high is None or not (value > high or (high_open and value == high)))
        if not ok:
            span = f"{'(' if low_open else '['}{low}, {'inf)' if high is None else str(high) + (')' if high_open else ']')}"
            raise ParameterError(f"{field} must be {'an integer' if integer else 'a number'} in {span}"
                                 f"{' or None' if optional else ''}. Received: {value!r}")
    if config.eval.split not in ("train", "valid", "test"):
        raise ParameterError(f"eval.split must be train, valid or test. Received: {config.eval.split!r}")
    if getattr(config.train, "objective", "classification") == "coembedding":
        _check_coembedding(config)
    return config


def _check_coembedding(config: ExperimentConfig) -> None:
    """The co-embedding objective's own fields (Choi 2019), so a mistyped word-vector path fails before the run
    folder exists."""
    from sampleaudio.wordvectors import vector_dim

    if config.model.architecture != "choi2019_audio":
        raise ParameterError("train.objective coembedding trains Choi 2019's audio branch: model.architecture must "
                             f"be choi2019_audio. Received: {config.model.architecture!r}")
    least, authors = 127 * 512, 129 * 512  # 128 / 130 frames of the hop-512 front end (models stay downstream)
    if config.data.segment is None or config.data.segment < least:
        raise ParameterError(f"data.segment must be at least {least} samples (128 mel frames) for the co-embedding's "
                             f"audio branch; the authors' crop is {authors} (130 frames). "
                             f"Received: {config.data.segment!r}")
    if config.train.oov_tags not in ("error", "drop"):
        raise ParameterError(f"train.oov_tags must be error or drop. Received: {config.train.oov_tags!r}")
    try:
        vector_dim(config.train.word_vectors)
    except ParameterError as exc:
        raise ParameterError(f"train.word_vectors: {exc}") from exc


def config_differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Dotted names of the fields whose values differ between two nested config dicts."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += config_differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key} ({a!r} -> {b!r})")
    return out


def run_config_dict(config: ExperimentConfig) -> dict:
    """``config`` as a run's config.json records it: the model section names the architecture and only the
    parameters it takes (:func:`sampleaudio.model_registry.model_dict`)."""
    return {**config.to_dict(), "model": model_registry.model_dict(config.model)}


def config_from_file_dict(d) -> ExperimentConfig:
    """:meth:`ExperimentConfig.from_dict` with a one-line error for unknown keys or wrong shapes. A model section
    written as the flat union of every architecture's fields (before :func:`run_config_dict`) reads back with the
    fields its architecture does not take at their defaults."""
    if not isinstance(d, dict):
        raise ParameterError("config.json is not a JSON object")
    known = {f.name for f in dataclasses.fields(ExperimentConfig)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ParameterError(f"config.json has unknown field(s) {unknown}")
    try:
        config = ExperimentConfig.from_dict(d)
    except TypeError as exc:
        raise ParameterError(f"config.json does not describe a sampleaudio run ({exc})") from exc
    config.model = model_registry.normalized(config.model)
    return config
