"""Training with the papers' staged schedule, resumable at every epoch.

Protocol (Kim, Lee, Nam, IEEE JSTSP 2019 Sec. IV-B; the authors' ``train.py``): SGD with Nesterov momentum 0.9
and the original's per-step time decay (1e-6), batch 23; the training examples are each clip's fixed
non-overlapping segments, shuffled at segment level, each used once per epoch of ``ceil(segments / batch)``
steps (``DataConfig.train_examples``; ``random_crop`` is an augmentation, not the papers'); learning rate
0.01, divided by 5 at each of up to 5 stages. A stage ends when the validation loss has not improved for 2
epochs; the next stage reloads the stage's best weights and starts a fresh optimizer. As in the original, each
stage keeps its own "best" (its checkpoint callback was recreated per stage).

A run directory holds::

    config.json  environment.json  history.csv  tensorboard/  state.json
    checkpoints/epoch-<n>.keras   (model + optimizer after epoch n; the last two epochs are kept)
    checkpoints/best-<n>.weights.h5   (the current stage's best, from epoch n)
    best.keras  model_card.json  final_metrics.json  per_class_test.csv   (when finished)

A run killed at any point and started again with the same arguments continues from the last finished epoch
(stage, epoch, optimizer state and best-so-far) instead of starting over; a finished run is not retrained.
Writing ``state.json`` (which names the epoch's checkpoint pair) is the one step that commits an epoch, so a kill
between the checkpoint and the state redoes that epoch instead of training on top of it. A loss that turns NaN or
Inf stops the run with :class:`~sampleaudio.errors.TrainingDivergedError` before anything of that epoch is saved.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import math
import os
import re
import sys
import time

import keras
import numpy as np
import tensorflow as tf

import sampleaudio.models  # noqa: F401  (registers the custom layers and initialisers for load_model)
from sampleaudio import cpu
from sampleaudio import model_registry as registry
from sampleaudio.checks import check_config, config_differences, run_config_dict
from sampleaudio.clipped_losses import task_loss
from sampleaudio.config import ExperimentConfig, ModelConfig
from sampleaudio.errors import DatasetLayoutError, ParameterError, TrainingDivergedError
from sampleaudio.evaluate import evaluate_model
from sampleaudio.fileio import atomic_open
from sampleaudio.pipeline import count_eval_segments, count_train_segments, eval_dataset, train_dataset
from sampleaudio.runs import (
    environment,
    load_run,
    read_run_config,
    run_is_finished,
    standardization,
    write_json,
)
from sampleaudio.segments import InputSpec
from sampleaudio.stores import Store, Task

__all__ = ["build_model", "train", "load_run", "environment", "run_is_finished"]

_POLICIES = {"off": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}


def build_model(cfg: ModelConfig, task: Task, segment: int | None = None, *,
                sample_rate: int | None = None) -> keras.Model:
    """The network ``cfg`` names, sized for ``task`` and input ``segment`` (``None``: the architecture's for the
    task, :func:`sampleaudio.model_registry.default_segment`) of audio at ``sample_rate`` Hz (the store's; ``None``:
    22,050), with ``cfg.bn_momentum`` applied to its batch norms."""
    model = registry.build(cfg, task, segment, sample_rate=sample_rate)
    if cfg.bn_momentum is not None:
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = float(cfg.bn_momentum)  # read when the step is traced; kept in get_config
    return model


def _strategy(name: str) -> tf.distribute.Strategy:
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        # reads TF_CONFIG; must be made before TensorFlow runs any op in this process. Model.fit cannot run
        # under it (keras-team/keras#20585), so these runs use sampleaudio.distributed.CustomLoop.
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ParameterError(f"distribute must be none, mirrored or multiworker. Received: {name!r}")


def _is_chief() -> tuple[bool, int]:
    cfg = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = cfg.get("task", {})
    kind, index = task.get("type", "chief"), int(task.get("index", 0))
    chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cfg.get("cluster", {}))
    return chief, index


def _optimizer(cfg, stage: int, stage_steps: int):
    lr = cfg.lr * cfg.lr_decay ** stage
    if cfg.lr_schedule == "cosine":
        warmup = min(int(cfg.warmup_steps), stage_steps - 1)
        lr = keras.optimizers.schedules.CosineDecay(0.0 if warmup else lr, decay_steps=stage_steps - warmup,
                                                    warmup_target=lr if warmup else None, warmup_steps=warmup)
    elif cfg.lr_schedule != "constant":
        raise ParameterError(f"lr_schedule must be 'constant' or 'cosine'. Received: {cfg.lr_schedule!r}")
    elif cfg.time_decay:
        lr = keras.optimizers.schedules.InverseTimeDecay(lr, decay_steps=1, decay_rate=cfg.time_decay)
    if cfg.optimizer == "sgd":
        opt = keras.optimizers.SGD(lr, momentum=cfg.momentum, nesterov=True)
    elif cfg.optimizer == "adam":
        opt = keras.optimizers.Adam(lr)
    else:
        raise ParameterError(f"optimizer must be 'sgd' or 'adam'. Received: {cfg.optimizer!r}")
    if cfg.mixed_precision == "float16":
        opt = keras.optimizers.LossScaleOptimizer(opt)
    return opt


def _compile(model, config: ExperimentConfig, task: Task, stage: int, steps: int, objective=None) -> None:
    jit = config.train.jit_compile
    jit = bool(tf.config.list_physical_devices("GPU")) if jit == "auto" else jit in (True, "true", "on", "1")
    optimizer = _optimizer(config.train, stage, steps * config.train.max_epochs_per_stage)
    loss = task_loss(config.train.loss, task.multi_label) if objective is None else objective.loss()
    model.compile(optimizer=optimizer, loss=loss, jit_compile=jit)


def _log_scalars(writers: dict, epoch: int, loss: float, val_loss: float) -> None:
    """TensorBoard scalars for the custom loop (Model.fit's runs use the TensorBoard callback)."""
    for split, value in (("train", loss), ("validation", val_loss)):
        with writers[split].as_default():
            tf.summary.scalar("epoch_loss", value, step=epoch)


def _commit_epoch(model: keras.Model, ckpt: str, state_path: str, state: dict) -> None:
    """Checkpoint the epoch just finished, then commit it by rewriting ``state.json`` (which keeps the previous
    commit's state, so a multi-worker job can rewind one epoch); delete older epochs' files."""
    previous = None
    if os.path.exists(state_path):
        with open(state_path) as f:
            previous = json.load(f)
        previous.pop("previous", None)
        if "checkpoint" not in previous:  # a run started before epoch-named checkpoints: cannot rewind to it
            previous = None
    name = f"epoch-{state['global_epoch']:05d}.keras"
    model.save(os.path.join(ckpt, "tmp.keras"))
    os.replace(os.path.join(ckpt, "tmp.keras"), os.path.join(ckpt, name))
    state.update(checkpoint=name, previous=previous)
    write_json(state_path, state)
    keep = {s.get(k) for s in (state, previous or {}) for k in ("checkpoint", "best")}
    for f in os.listdir(ckpt):
        if f.startswith(("epoch-", "best-")) and f not in keep:
            os.remove(os.path.join(ckpt, f))


def _rewind_history(path: str, global_epoch: int) -> None:
    """Drop ``history.csv`` rows of epochs at or after ``global_epoch`` (written, never committed)."""
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


def train_segments_per_clip(task: Task, segment: int, sample_rate: int) -> int:
    """The fixed segments a clip gives for training: the original's ``len_audio * sr // num_samples``
    (``lib/data/config.py``: MTAT 29 s -> 10, DCASE 10 s -> 10, Speech Commands 1 s -> 1); a shorter clip gives
    its whole segments."""
    return max(1, int(task.clip_seconds * sample_rate) // segment)


def _steps_per_epoch(config: ExperimentConfig, manifest, segment: int, task: Task | None = None) -> int:
    """``TrainConfig.steps_per_epoch`` when set; else one pass: ``ceil(segments / batch)`` for fixed segments
    (the original's), or the training audio's duration in segments for random crops. ``manifest``: the opened
    :class:`~sampleaudio.stores.Store` (or its manifest)."""
    if config.train.steps_per_epoch:
        return int(config.train.steps_per_epoch)
    if config.data.train_examples == "fixed":
        cap = train_segments_per_clip(task, segment, manifest.sample_rate)
        store = manifest if isinstance(manifest, Store) else config.data.data_dir
        return max(1, math.ceil(count_train_segments(store, segment, cap) / config.data.batch_size))
    info = manifest.splits["train"]
    segments = max(info["clips"], int(info["seconds"] * manifest.sample_rate // segment))
    return max(1, math.ceil(segments / config.data.batch_size))


def _resolve_mixed_precision(config: ExperimentConfig, resumed: str | None = None) -> ExperimentConfig:
    """``mixed_precision="auto"`` -> ``resumed`` (the precision of the run being resumed), else the measured
    winner for this model here (:func:`sampleaudio.cpu.auto_mixed_precision`)."""
    if config.train.mixed_precision != "auto":
        return config
    chosen = resumed if resumed not in (None, "auto") else cpu.auto_mixed_precision(
        config.model.init_features, config.model.architecture, gpu=bool(tf.config.list_physical_devices("GPU")))
    return dataclasses.replace(config, train=dataclasses.replace(config.train, mixed_precision=chosen))


def train(config: ExperimentConfig, run_dir: str, *, verbose: int = 1) -> dict:
    """Train ``config`` into ``run_dir`` (resuming what is there) and return the final test metrics.

    With ``distribute="multiworker"`` every worker runs this with the same arguments and its own ``TF_CONFIG``;
    the chief writes ``run_dir`` and returns the metrics, the other workers keep their checkpoints in
    ``run_dir/worker-<i>`` and return ``{}``.
    """
    chief, worker_index = _is_chief()
    strategy = _strategy(config.train.distribute)  # first: a multi-worker strategy must precede any op
    if not chief and config.train.distribute == "multiworker":
        run_dir = os.path.join(run_dir, f"worker-{worker_index}")  # only the chief writes the run itself
    check_config(config)
    config_path = os.path.join(run_dir, "config.json")
    old = read_run_config(config_path) if os.path.exists(config_path) else None
    # the run records the precision it trains in, not "auto"; a run being resumed keeps its own
    if old is not None:
        old = _resolve_mixed_precision(old)  # a hand-written config may say "auto" too
    config = _resolve_mixed_precision(config, None if old is None else old.train.mixed_precision)
    if old is not None:
        # fields added later compare as their defaults; `notes` is prose, not part of a run's identity
        differ = [d for d in config_differences(run_config_dict(old), json.loads(json.dumps(run_config_dict(config))))
                  if not d.startswith("notes ")]
        if differ:
            raise ParameterError(f"'{run_dir}' holds a run of a different configuration ({'; '.join(differ[:4])}); "
                                 "use another --run-dir")
        if run_is_finished(run_dir):
            with open(os.path.join(run_dir, "final_metrics.json")) as f:
                return json.load(f)
    # the store is opened once (its manifest read and checked, shards and checksums and the splits training needs
    # verified) before the run folder is written; the pipelines and the evaluation share it
    # (`manifest` is the opened Store: the manifest's facts, and the files)
    manifest = Store.open(config.data.data_dir, verify=True, require=sorted({"train", "valid", config.eval.split}))
    try:
        task = manifest.task
    except KeyError as exc:
        raise DatasetLayoutError(f"store '{config.data.data_dir}' holds dataset '{manifest.dataset}', which has no "
                                 "task (mtat, speech-commands, dcase2017 or their mini-* proxies)") from exc
    if task.multi_label != manifest.multi_label:
        raise ParameterError(f"store '{config.data.data_dir}' is {'multi' if manifest.multi_label else 'single'}-"
                             f"label but task '{task.name}' is not")
    segment = config.data.segment or registry.default_segment(config.model, task)
    os.makedirs(os.path.join(run_dir, "checkpoints"), exist_ok=True)
    if old is None:
        write_json(config_path, run_config_dict(config))
    if run_is_finished(run_dir):
        with open(os.path.join(run_dir, "final_metrics.json")) as f:
            return json.load(f)
    write_json(os.path.join(run_dir, "environment.json"), environment())
    mean, std = standardization(config, task)
    steps = _steps_per_epoch(config, manifest, segment, task)
    previous_policy = keras.mixed_precision.global_policy().name
    policy = _POLICIES.get(config.train.mixed_precision)
    if policy is None:
        raise ParameterError(f"mixed_precision must be auto, off, float16 or bfloat16. "
                             f"Received: {config.train.mixed_precision!r}")
    keras.mixed_precision.set_global_policy(policy)
    try:
        return _train(config, run_dir, task, manifest, segment, mean, std, steps, verbose, chief, strategy)
    except Exception as exc:
        if config.train.distribute == "multiworker":
            from sampleaudio.distributed import LOST_PEER_ERRORS, WorkerLost

            if isinstance(exc, LOST_PEER_ERRORS):
                cause = re.sub(r"\{\{.*?\}\}\s*", "", str(exc).splitlines()[0])[:200]  # minus graph-node noise
                raise WorkerLost(
                    f"lost contact with another worker ({type(exc).__name__}: {cause}); "
                    "restart every worker with the same arguments: they resume from the last epoch all of them "
                    "committed") from exc
        raise
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def _train(config, run_dir, task, manifest, segment, mean, std, steps, verbose, chief, strategy) -> dict:
    from sampleaudio.objectives import objective_for

    tc = config.train
    objective = objective_for(config, segment, mean, std, store=manifest)  # None: classification
    if objective is not None and not config.train.steps_per_epoch:
        steps = objective.steps_per_epoch()
    loop = None
    if tc.distribute == "multiworker":
        from sampleaudio.distributed import CustomLoop

        loop = CustomLoop(strategy, task_loss(tc.loss, task.multi_label) if objective is None else objective.loss(),
                          config.data.batch_size)
    state_path = os.path.join(run_dir, "state.json")
    ckpt = os.path.join(run_dir, "checkpoints")
    history_path = os.path.join(run_dir, "history.csv")
    # state.json is the commit point of an epoch: it names that epoch's checkpoint and best weights (older runs:
    # last.keras, best.weights.h5) and carries the previous epoch's state, which a multi-worker job may rewind to
    state = {"stage": 0, "epoch": 0, "global_epoch": 0, "best_val_loss": None, "wait": 0, "stage_started": False}
    if os.path.exists(state_path):
        with open(state_path) as f:
            saved = json.load(f)
        if os.path.exists(os.path.join(ckpt, saved.get("checkpoint", "last.keras"))):
            state = saved
    if loop is not None:  # every worker resumes from the same epoch: the last one all of them committed
        from sampleaudio.distributed import agree_on_resume_point

        agreed = agree_on_resume_point(strategy, state)
        if agreed is not state:  # this worker committed one epoch more than another: rewind it on disk too
            state = agreed
            write_json(state_path, state)
    _rewind_history(history_path, state["global_epoch"])  # rows of an epoch that was never committed go
    keras.utils.set_random_seed(tc.seed + 7919 * state["global_epoch"])

    with strategy.scope():
        if state["stage_started"]:  # weights and optimizer state of the last epoch
            model = keras.saving.load_model(os.path.join(ckpt, state.get("checkpoint", "last.keras")))
        else:
            model = build_model(config.model, task, segment, sample_rate=manifest.sample_rate)
            model = model if objective is None else objective.wrap(model)
    val = eval_dataset(manifest, "valid", segment=segment, batch_size=config.data.batch_size,
                       mean=mean, std=std, max_segments=config.data.max_valid_segments)
    val = val.map(lambda x, y, i: (x, y))
    val_steps = math.ceil(count_eval_segments(manifest, "valid", segment, config.data.max_valid_segments)
                          / config.data.batch_size)
    if objective is not None:
        val, val_steps = objective.valid_dataset(), objective.valid_steps()
    tensorboard = keras.callbacks.TensorBoard(os.path.join(run_dir, "tensorboard"), write_graph=False)
    if loop is not None:  # one event file per split for the whole run, as the callback writes
        writers = {split: tf.summary.create_file_writer(os.path.join(run_dir, "tensorboard", split))
                   for split in ("train", "validation")}

    segments_per_clip = train_segments_per_clip(task, segment, manifest.sample_rate)
    # fixed segments, one pass per epoch: the epoch's dataset ends exactly after `steps` batches
    one_pass = config.data.train_examples == "fixed" and not tc.steps_per_epoch and tc.distribute == "none"
    while state["stage"] < tc.num_stages:
        stage = state["stage"]
        if not state["stage_started"]:
            with strategy.scope():
                if stage > 0:
                    model.load_weights(os.path.join(ckpt, state.get("best", "best.weights.h5")))
                _compile(model, config, task, stage, steps, objective)
            state.update(epoch=0, wait=0, best_val_loss=None, stage_started=True)
        while state["epoch"] < tc.max_epochs_per_stage and state["wait"] < tc.patience:
            started = time.time()
            ds = train_dataset(manifest, segment=segment, batch_size=config.data.batch_size,
                               seed=tc.seed * 100003 + state["global_epoch"], shuffle_buffer=config.data.shuffle_buffer,
                               mean=mean, std=std, drop_remainder=tc.distribute != "none",
                               train_examples=config.data.train_examples, max_segments=segments_per_clip,
                               repeat=not one_pass)
            if objective is not None:
                ds = objective.train_dataset(tc.seed * 100003 + state["global_epoch"], tc.distribute != "none")
            if loop is None:
                with contextlib.redirect_stdout(sys.stderr):  # Keras' progress bar: results go to stdout
                    hist = model.fit(ds, epochs=state["global_epoch"] + 1, initial_epoch=state["global_epoch"],
                                     steps_per_epoch=steps, validation_data=val, validation_steps=val_steps,
                                     verbose=verbose, shuffle=False, callbacks=[tensorboard])
                loss, val_loss = float(hist.history["loss"][-1]), float(hist.history["val_loss"][-1])
            else:
                with contextlib.redirect_stdout(sys.stderr):
                    loss, val_loss = loop.epoch(model, ds, steps, val, val_steps, verbose=verbose)
                _log_scalars(writers, state["global_epoch"], loss, val_loss)
            if not (math.isfinite(loss) and math.isfinite(val_loss)):
                raise TrainingDivergedError(
                    f"training diverged at stage {stage}, epoch {state['epoch']} (loss {loss}, validation loss "
                    f"{val_loss}); nothing of this epoch was saved, the last good checkpoint in '{ckpt}' is "
                    "kept and no model is written: lower --lr (or change the configuration) in a new --run-dir")
            improved = state["best_val_loss"] is None or val_loss < state["best_val_loss"]
            if improved:
                state["best_val_loss"], state["wait"] = val_loss, 0
                state["best"] = f"best-{state['global_epoch']:05d}.weights.h5"
                model.save_weights(os.path.join(ckpt, "tmp.weights.h5"))
                os.replace(os.path.join(ckpt, "tmp.weights.h5"), os.path.join(ckpt, state["best"]))
            else:
                state["wait"] += 1
            row = {"stage": stage, "epoch": state["epoch"], "global_epoch": state["global_epoch"],
                   "lr": tc.lr * tc.lr_decay ** stage, "loss": loss, "val_loss": val_loss, "improved": improved,
                   "seconds": round(time.time() - started, 2)}
            new = not os.path.exists(history_path)
            with open(history_path, "a", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(row))
                if new:
                    w.writeheader()
                w.writerow(row)
            state["epoch"] += 1
            state["global_epoch"] += 1
            _commit_epoch(model, ckpt, state_path, state)
        state.update(stage=stage + 1, stage_started=False)
        write_json(state_path, state)

    model.load_weights(os.path.join(ckpt, state.get("best", "best.weights.h5")))
    if not chief:
        return {}
    if loop is not None:  # evaluate and save a plain copy: Keras' predict cannot run under the strategy either
        trained, model = model, build_model(config.model, task, segment, sample_rate=manifest.sample_rate)
        model = model if objective is None else objective.wrap(model)
        model.set_weights(trained.get_weights())
    if objective is not None:
        return _finish_objective(objective, model, config, run_dir, manifest, segment, mean, std, state)
    model.save(os.path.join(run_dir, "best.keras"))
    family = registry.spec(config.model.architecture)  # its chunk policy: Won 2020's 16 evenly spaced chunks
    spec = InputSpec(segment=segment, mean=manifest.mean if mean is None else mean,
                     std=manifest.std if std is None else std, sample_rate=manifest.sample_rate,
                     chunking=family.chunking, chunks=family.chunks,
                     embedding_layer=registry.embedding_layer(config.model.architecture, model))
    card = {"labels": manifest.labels, "task": dataclasses.asdict(task), **spec.card_fields(),
            "dataset": manifest.dataset, "synthetic": "synthetic" in manifest.extra,
            "architecture": config.model.architecture}
    write_json(os.path.join(run_dir, "model_card.json"), card)
    result, per_class = evaluate_model(model, manifest, task, split=config.eval.split, segment=segment,
                                       threshold=config.eval.threshold, batch_size=config.eval.batch_size,
                                       mean=mean, std=std, max_segments=config.data.max_eval_segments,
                                       chunking=spec.chunking, chunks=spec.chunks, pooling=spec.pooling)
    result["parameters"] = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    result["epochs"] = state["global_epoch"]
    per_class.to_csv(os.path.join(run_dir, f"per_class_{config.eval.split}.csv"), index=False)
    write_json(os.path.join(run_dir, "final_metrics.json"), result)
    return result


def _finish_objective(objective, model, config, run_dir, manifest, segment, mean, std, state) -> dict:
    """Save a metric-learning run: its encoder as ``best.keras``, the card, the objective's own metrics."""
    encoder, card_fields, result = objective.finish(model, run_dir, config.eval.split,
                                                    max_segments=config.data.max_eval_segments)
    encoder.save(os.path.join(run_dir, "best.keras"))
    card = {"segment": segment, "mean": objective.mean, "std": objective.std, "dataset": manifest.dataset,
            "synthetic": "synthetic" in manifest.extra, "sample_rate": manifest.sample_rate, **card_fields}
    write_json(os.path.join(run_dir, "model_card.json"), card)
    result["parameters"] = int(sum(np.prod(w.shape) for w in encoder.trainable_weights))
    result["epochs"] = state["global_epoch"]
    write_json(os.path.join(run_dir, "final_metrics.json"), result)
    return result
