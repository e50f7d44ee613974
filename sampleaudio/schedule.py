"""The papers' training schedules, each a declared plan of stages, and the pieces the trainer asks for at each
stage: the optimizer and its learning rate, the compiled loss, the precision and the distribution strategy.

A schedule (:data:`SCHEDULES`, chosen by ``TrainConfig.schedule``) turns a :class:`~sampleaudio.config.TrainConfig`
into a tuple of :class:`Stage` s; the trainer (:mod:`sampleaudio.train`) runs them in order and knows nothing
else about the schedule. A stage says which optimizer at which rate, for how many epochs, whether it starts from
the best weights so far, whether its optimizer is fresh or the previous one with its state (momentum, step count)
kept, when it ends early, whether "best" is the stage's or the run's, and whether a plateau rule
(:class:`Plateau`) cuts its rate in place.

- ``staged`` (Kim, Lee, Nam, IEEE JSTSP 2019, Sec. IV-B; ``tae-jun/sampleaudio`` ``train.py``): stage ``k`` at
  ``lr * lr_decay ** k``, each with a fresh optimizer and the previous stage's best weights, ending after
  ``patience`` epochs without improvement; each stage keeps its own best.
- ``plateau`` (the schedule behind Park et al.'s released Siamese model, ISMIR 2018: its stored optimizer is
  ``SGD(lr = 0.1 * 0.2 ** 8)`` after 521,318 iterations, i.e. ``ReduceLROnPlateau(factor=0.2)`` cut the rate of
  one optimizer eight times and nothing restarted it): one stage, one optimizer, the rate cut in place by
  :class:`Plateau`, no reloads, the run's best weights kept.
- ``adam_then_sgd`` (Won et al., SMC 2020, ``training/solver.py``): Adam, then from the best weights a fresh SGD
  (Nesterov 0.9), whose rate drops twice (each time from the best weights, the SGD's momentum kept), no early
  stopping, the run's best weights kept.

Within a stage the rate follows the original's per-step inverse time decay (Keras 2 ``SGD(decay=1e-6)``:
``lr / (1 + decay * step)``, the step counted from the stage's fresh optimizer), or for short fixed budgets a
warm-up then cosine decay to 0 at the stage's last step. ``weight_decay`` is PyTorch's: ``weight_decay * w``
added to every trainable weight's gradient before the optimizer's update (coupled L2; Keras' own
``weight_decay`` is decoupled, AdamW's: :mod:`sampleaudio.layers.optimizers`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Callable

import keras
import tensorflow as tf

from sampleaudio import config as _config
from sampleaudio import cpu
from sampleaudio.config import ExperimentConfig, TrainConfig
from sampleaudio.errors import ParameterError
from sampleaudio.layers.optimizers import AdamWithL2, SGDWithL2

__all__ = ["Plateau", "Stage", "SCHEDULES", "plan", "describe", "optimizer", "compile_stage", "resolve_precision",
           "precision", "strategy_for", "role", "POLICIES"]

#: ``TrainConfig.mixed_precision`` -> Keras policy
POLICIES = {"off": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}


@dataclasses.dataclass(frozen=True)
class Plateau:
    """Keras 2.0/2.1 ``ReduceLROnPlateau`` (the version Park 2018 trained with): an epoch improves when the
    validation loss is below the best so far by more than ``min_delta`` (Keras' ``epsilon``, 1e-4); otherwise, if
    ``wait >= patience`` the rate becomes ``max(lr * factor, min_lr)`` (when it is still above ``min_lr``) and
    ``wait`` restarts at 0, and then ``wait`` counts the epoch. The check comes before the count, so ``patience=1``
    cuts at the second flat epoch in a row and then at every further flat one."""

    factor: float
    patience: int
    min_lr: float = 0.0
    min_delta: float = 1e-4

    def step(self, lr: float, best: float | None, wait: int, val_loss: float) -> tuple[float, float, int]:
        """``(lr, best, wait)`` after an epoch of validation loss ``val_loss``."""
        if best is None or val_loss < best - self.min_delta:
            return lr, val_loss, 0
        if wait >= self.patience:
            if lr > self.min_lr + 1e-4 * self.min_lr:  # Keras' lr_epsilon = min_lr * 1e-4
                lr = max(lr * self.factor, self.min_lr)
            wait = 0
        return lr, best, wait + 1


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of a schedule (see the module docstring).

    Attributes:
        optimizer: ``"sgd"`` (Nesterov) or ``"adam"``.
        lr: the rate the stage starts at.
        epochs: the most epochs it runs.
        patience: it ends after this many epochs without a new best validation loss (``None``: never early).
        reload_best: it starts from the best weights so far (the previous stage's, or the run's).
        fresh_optimizer: a new optimizer; else the previous stage's, its state kept and its rate set to ``lr``.
        best_per_stage: "best" restarts with the stage (Kim's callbacks), else it is the run's.
        plateau: the rule that cuts the rate in place within the stage, if any.
    """

    optimizer: str
    lr: float
    epochs: int
    patience: int | None
    reload_best: bool
    fresh_optimizer: bool = True
    best_per_stage: bool = True
    plateau: Plateau | None = None


def _staged(cfg: TrainConfig) -> tuple[Stage, ...]:
    return tuple(Stage(cfg.optimizer, cfg.lr * cfg.lr_decay ** k, cfg.max_epochs_per_stage, cfg.patience,
                       reload_best=k > 0) for k in range(cfg.num_stages))


def _plateau(cfg: TrainConfig) -> tuple[Stage, ...]:
    return (Stage(cfg.optimizer, cfg.lr, cfg.max_epochs_per_stage, cfg.patience, reload_best=False,
                  best_per_stage=False, plateau=Plateau(cfg.lr_decay, cfg.plateau_patience, cfg.min_lr)),)


def _adam_then_sgd(cfg: TrainConfig) -> tuple[Stage, ...]:
    stages = [Stage("adam", cfg.lr, cfg.switch_epoch, None, reload_best=False, best_per_stage=False)]
    for k in range(1, cfg.num_stages):
        stages.append(Stage("sgd", cfg.sgd_lr * cfg.lr_decay ** (k - 1),
                            cfg.max_epochs_per_stage if k == cfg.num_stages - 1 else cfg.drop_every, None,
                            reload_best=True, fresh_optimizer=k == 1, best_per_stage=False))
    return tuple(stages)


#: schedule name -> the plan it makes of a :class:`~sampleaudio.config.TrainConfig`
SCHEDULES: dict[str, Callable[[TrainConfig], tuple[Stage, ...]]] = {
    "staged": _staged, "plateau": _plateau, "adam_then_sgd": _adam_then_sgd}
assert tuple(SCHEDULES) == _config.SCHEDULES, "config.SCHEDULES names the schedules declared here"


def plan(cfg: TrainConfig) -> tuple[Stage, ...]:
    """The stages ``cfg``'s schedule runs."""
    if cfg.schedule not in SCHEDULES:
        raise ParameterError(f"train.schedule must be one of {', '.join(SCHEDULES)}. Received: {cfg.schedule!r}")
    if cfg.schedule != "staged" and cfg.lr_schedule == "cosine":
        raise ParameterError(f"train.lr_schedule 'cosine' decays within a stage of the staged schedule; the "
                             f"'{cfg.schedule}' schedule sets its rates itself")
    return SCHEDULES[cfg.schedule](cfg)


def describe(cfg: TrainConfig) -> str:
    """One line saying what ``cfg``'s schedule does (table headers print it)."""
    stages = plan(cfg)
    decay = f", time decay {cfg.time_decay:g}" if cfg.time_decay else ""
    l2 = f", L2 {cfg.weight_decay:g} on every weight's gradient" if cfg.weight_decay else ""
    if cfg.schedule == "plateau":
        s = stages[0]
        stop = (f"ends after {s.patience} epochs without improvement or {s.epochs} epochs" if s.patience < s.epochs
                else f"runs {s.epochs} epochs")
        return (f"{s.optimizer.upper()} lr {s.lr:g}{decay}{l2}, one optimizer, the rate x {cfg.lr_decay:g} in place "
                f"on a plateau (Keras 2.1 ReduceLROnPlateau, patience {cfg.plateau_patience}, min lr "
                f"{cfg.min_lr:g}), no reloads; {stop}; the best validation-loss weights are kept")
    if cfg.schedule == "adam_then_sgd":
        parts = [f"{s.optimizer.upper()} lr {s.lr:g} for {s.epochs} epochs" for s in stages]
        return (", then from the best weights ".join(parts) + f" (one SGD, momentum kept across its drops){decay}"
                f"{l2}; no early stopping; the run's best validation-loss weights are kept")
    s = stages[0]
    lr = (f"lr {cfg.lr:g}" + (f" / {1 / cfg.lr_decay:g}" if len(stages) > 1 else "")
          + (f" over {len(stages)} stages" if len(stages) > 1 else ""))
    stop = (f"each stage ends after {s.epochs} epochs" if s.patience >= s.epochs
            else f"a stage ends after {s.patience} epochs without improvement (at most {s.epochs})")
    return f"{s.optimizer.upper()} {lr}{decay}{l2}, fresh optimizer and best weights per stage; {stop}"


def optimizer(cfg: TrainConfig, stage: int | Stage, stage_steps: int, *, lr: float | None = None
              ) -> keras.optimizers.Optimizer:
    """A fresh optimizer for ``stage`` (a :class:`Stage`, or the index of one of ``cfg``'s plan) at ``lr``
    (default: the stage's); ``stage_steps``: the stage's last possible step, for the cosine decay."""
    if isinstance(stage, int):
        stage = plan(cfg)[stage]
    lr = stage.lr if lr is None else lr
    if cfg.lr_schedule == "cosine":
        warmup = min(int(cfg.warmup_steps), stage_steps - 1)
        lr = keras.optimizers.schedules.CosineDecay(0.0 if warmup else lr, decay_steps=stage_steps - warmup,
                                                    warmup_target=lr if warmup else None, warmup_steps=warmup)
    elif cfg.time_decay:
        lr = keras.optimizers.schedules.InverseTimeDecay(lr, decay_steps=1, decay_rate=cfg.time_decay)
    if cfg.weight_decay:
        opt = (SGDWithL2(lr, momentum=cfg.momentum, nesterov=True, l2=cfg.weight_decay) if stage.optimizer == "sgd"
               else AdamWithL2(lr, l2=cfg.weight_decay))
    else:
        opt = (keras.optimizers.SGD(lr, momentum=cfg.momentum, nesterov=True) if stage.optimizer == "sgd"
               else keras.optimizers.Adam(lr))
    if cfg.mixed_precision == "float16":
        opt = keras.optimizers.LossScaleOptimizer(opt)
    return opt


def compile_stage(model: keras.Model, config: ExperimentConfig, stage: int | Stage, steps: int, loss, *,
                  lr: float | None = None, carry: keras.optimizers.Optimizer | None = None) -> None:
    """Compile ``model`` for ``stage`` with ``loss`` (XLA on a GPU when ``jit_compile`` is ``auto``), its optimizer
    at ``lr`` (default: the stage's). ``carry``: an optimizer whose state (step count, momenta, moments) the new
    one continues, as a Keras 2 optimizer whose rate was set in place, or a PyTorch optimizer whose ``lr`` was
    changed, continued."""
    if isinstance(stage, int):
        stage = plan(config.train)[stage]
    jit = config.train.jit_compile
    jit = bool(tf.config.list_physical_devices("GPU")) if jit == "auto" else jit == "on"
    opt = optimizer(config.train, stage, steps * stage.epochs, lr=lr)
    # Built here, eagerly: left to the first training step, Keras creates the slot variables inside the step's
    # trace, which took 5 s more CPU per run for the Kim 2019 demo's Res-2 model (90 variables) than this line.
    opt.build(model.trainable_variables)
    if carry is not None:
        old = carry.variables
        if len(old) != len(opt.variables):
            raise ParameterError(f"cannot carry an optimizer's state into another kind ({len(old)} variables, "
                                 f"{len(opt.variables)} here)")
        for mine, theirs in zip(opt.variables, old):
            if mine.path.endswith("learning_rate"):
                continue  # the new rate
            mine.assign(theirs)
    model.compile(optimizer=opt, loss=loss, jit_compile=jit)


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

