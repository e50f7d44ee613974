"""The pieces of the papers' training schedule that the trainer asks for at each stage: the optimizer and its
learning rate, the compiled loss, the precision and the distribution strategy (Kim, Lee, Nam, IEEE JSTSP 2019,
Sec. IV-B; the authors' ``train.py``).

Stage ``k`` trains at ``lr * lr_decay ** k`` with a fresh optimizer: SGD with Nesterov momentum (or Adam), the
original's per-step inverse time decay within a stage (``SGD(decay=1e-6)``), or for short fixed budgets a warm-up
then cosine decay to 0 at the stage's last possible step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os

import keras
import tensorflow as tf

from sampleaudio import cpu
from sampleaudio.config import ExperimentConfig, TrainConfig
from sampleaudio.errors import ParameterError

__all__ = ["optimizer", "compile_stage", "resolve_precision", "precision", "strategy_for", "role", "POLICIES"]

#: ``TrainConfig.mixed_precision`` -> Keras policy
POLICIES = {"off": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}


def optimizer(cfg: TrainConfig, stage: int, stage_steps: int) -> keras.optimizers.Optimizer:
    """A fresh optimizer for ``stage`` (``stage_steps``: the stage's last possible step, for the cosine decay)."""
    lr = cfg.lr * cfg.lr_decay ** stage
    if cfg.lr_schedule == "cosine":
        warmup = min(int(cfg.warmup_steps), stage_steps - 1)
        lr = keras.optimizers.schedules.CosineDecay(0.0 if warmup else lr, decay_steps=stage_steps - warmup,
                                                    warmup_target=lr if warmup else None, warmup_steps=warmup)
    elif cfg.time_decay:
        lr = keras.optimizers.schedules.InverseTimeDecay(lr, decay_steps=1, decay_rate=cfg.time_decay)
    opt = (keras.optimizers.SGD(lr, momentum=cfg.momentum, nesterov=True) if cfg.optimizer == "sgd"
           else keras.optimizers.Adam(lr))
    if cfg.mixed_precision == "float16":
        opt = keras.optimizers.LossScaleOptimizer(opt)
    return opt


def compile_stage(model: keras.Model, config: ExperimentConfig, stage: int, steps: int, loss) -> None:
    """Compile ``model`` for ``stage`` with ``loss`` (XLA on a GPU when ``jit_compile`` is ``auto``)."""
    jit = config.train.jit_compile
    jit = bool(tf.config.list_physical_devices("GPU")) if jit == "auto" else jit == "on"
    model.compile(optimizer=optimizer(config.train, stage, steps * config.train.max_epochs_per_stage), loss=loss,
                  jit_compile=jit)


def resolve_precision(config: ExperimentConfig, resumed: str | None = None) -> ExperimentConfig:
    """``mixed_precision="auto"`` -> ``resumed`` (the precision of the run being resumed), else the measured
    winner for this model here (:func:`sampleaudio.cpu.auto_mixed_precision`)."""
    if config.train.mixed_precision != "auto":
        return config
    from sampleaudio.families import architecture

    width = getattr(config.model, "init_features", 128)
    chosen = resumed if resumed not in (None, "auto") else cpu.auto_mixed_precision(
        width, measured=architecture(config.model.architecture).cpu_bfloat16,
        gpu=bool(tf.config.list_physical_devices("GPU")))
    return dataclasses.replace(config, train=dataclasses.replace(config.train, mixed_precision=chosen))


@contextlib.contextmanager
def precision(mixed_precision: str):
    """Keras' global dtype policy for ``mixed_precision`` while the block runs (restored after)."""
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(POLICIES[mixed_precision])
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def strategy_for(name: str) -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy of ``TrainConfig.distribute``; a multi-worker strategy reads ``TF_CONFIG``
    and must be made before TensorFlow runs any op in this process. ``Model.fit`` cannot run under it
    (keras-team/keras#20585), so those runs use :class:`sampleaudio.distributed.CustomLoop`."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name != "none":
        raise ParameterError(f"distribute must be none, mirrored or multiworker. Received: {name!r}")
    return tf.distribute.get_strategy()


def role() -> tuple[bool, int]:
    """``(chief, worker index)`` of this process in its ``TF_CONFIG`` cluster (a lone process is the chief)."""
    cfg = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = cfg.get("task", {})
    kind, index = task.get("type", "chief"), int(task.get("index", 0))
    chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cfg.get("cluster", {}))
    return chief, index
