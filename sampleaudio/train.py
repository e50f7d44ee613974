"""Training with the papers' schedules, resumable at every epoch.

The run's schedule is a plan of stages (:mod:`sampleaudio.schedule`: Kim 2019's staged schedule, the plateau
schedule of Park 2018's release, Won 2020's Adam-then-SGD switch); the trainer runs them in order and knows each
only through its :class:`~sampleaudio.schedule.Stage`: the optimizer and rate, the epochs, the early end, whether
it starts from the best weights, whether its optimizer is fresh or the previous one continued, whether "best" is
the stage's or the run's, and the plateau rule that cuts its rate in place. In the default ``staged`` schedule
(Kim, Lee, Nam, IEEE JSTSP 2019 Sec. IV-B; the authors' ``train.py``) stage ``k`` trains at
``lr * lr_decay ** k`` until the validation loss has not improved for ``patience`` epochs; the next stage reloads
the stage's best weights and starts a fresh optimizer; as in the original, each stage keeps its own "best". What
is trained, on which data and with which loss is the run's objective's
(:mod:`sampleaudio.objectives`: classification, or a family's own); the trainer knows it only through that
protocol. The files of a run folder are :class:`sampleaudio.cards.RunDir`'s.

A run killed at any point and started again with the same arguments continues from the last finished epoch
(stage, epoch, optimizer state and best-so-far) instead of starting over, and ends with the same weights as the
uninterrupted run: every epoch's data is a function of ``(seed, epoch)``, the global seed is the run's seed in
both, and each checkpoint carries the model's random-generator state (dropout). Writing ``state.json`` (which
names the epoch's checkpoint) is the one step that commits an epoch, so a kill between the checkpoint and the
state redoes that epoch. A loss that turns NaN or Inf stops the run with
:class:`~sampleaudio.errors.TrainingDivergedError` before anything of that epoch is saved.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import re
import sys
import time

import keras
import tensorflow as tf

import sampleaudio.models  # noqa: F401  (registers the custom layers and initialisers for load_model)
from sampleaudio import families, objectives, schedule
from sampleaudio.cards import InputSpec, ModelCard, RunDir, write_json
from sampleaudio.config import ExperimentConfig, differences
from sampleaudio.errors import ParameterError, TrainingDivergedError
from sampleaudio.pipeline import without_autotune
from sampleaudio.runs import environment
from sampleaudio.stores import Store

__all__ = ["build_model", "train"]


def build_model(params: families.ModelParams, task, segment: int | None = None, *,
                sample_rate: int | None = None) -> keras.Model:
    """The network ``params`` names, sized for ``task`` and input ``segment`` (``None``: the architecture's for the
    task's dataset) of audio at ``sample_rate`` Hz (the store's; ``None``: 22,050), with ``params.bn_momentum``
    applied to its batch norms."""
    from sampleaudio.audio import SAMPLE_RATE

    segment = segment or families.default_segment(params, task.name)
    model = families.architecture(params.architecture).build(params, task, segment, sample_rate or SAMPLE_RATE)
    if params.bn_momentum is not None:
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = float(params.bn_momentum)  # read when the step is traced; kept in get_config
    return model


def train(config: ExperimentConfig, run_dir: str, *, verbose: int = 1,
          callbacks: tuple[keras.callbacks.Callback, ...] = ()) -> dict:
    """Train ``config`` into ``run_dir`` (resuming what is there) and return the final metrics.

    ``callbacks`` are passed to every epoch's ``Model.fit``. With ``distribute="multiworker"`` every worker runs
    this with the same arguments and its own ``TF_CONFIG``; the chief writes ``run_dir`` and returns the metrics,
    the other workers keep their checkpoints in ``run_dir/worker-<i>`` and return ``{}``.
    """
    if config.train.threads and not RunDir(run_dir).is_finished():
        _use_threads(config.train.threads, run_dir)  # before any op: TensorFlow fixes its pools at the first
    chief, worker = schedule.role()
    strategy = schedule.strategy_for(config.train.distribute)  # first: a multi-worker strategy must precede any op
    if not chief and config.train.distribute == "multiworker":
        run_dir = os.path.join(run_dir, f"worker-{worker}")  # only the chief writes the run itself
    run = RunDir(run_dir)
    old = run.read_config()
    config = _same_run(config.check(), old, run)
    if run.is_finished():
        return run.final_metrics()
    # the store is opened once (manifest read and checked, shards, checksums and the splits training needs
    # verified) before the run folder is written; the objective, the pipelines and the evaluation share it
    store = Store.open(config.data.data_dir, verify=True, require=sorted({"train", "valid", config.eval.split}))
    task, source = store.task, {"dataset": store.dataset, "synthetic": "synthetic" in store.extra,
                                "sample_rate": store.sample_rate}
    mean, std = _standardization(config, task, (store.mean, store.std))
    segment = config.data.segment or families.default_segment(config.model, task.name)
    objective = objectives.make(config, store, segment=segment, mean=mean, std=std)  # a bad setting fails here
    stages = schedule.plan(config.train)  # and a schedule that refuses the settings, before anything is written
    run.begin(None if old is not None else config, environment())
    try:
        with schedule.precision(config.train.mixed_precision):
            model, epochs = _fit(config, stages, run, objective, task, source["sample_rate"], segment, strategy,
                                 verbose, callbacks)
            if not chief:
                return {}
            return _finish(config, run, objective, model, source, segment, mean, std, epochs)
    except Exception as exc:
        _raise_lost_worker(config, exc)
        raise


def _use_threads(threads: int, run_dir: str) -> None:
    """Run this process's TensorFlow ops on ``threads`` threads (intra- and inter-op pools), or refuse in one
    line if TensorFlow already started with other pools (``TrainConfig.threads``)."""
    threading = tf.config.threading
    try:
        threading.set_intra_op_parallelism_threads(threads)
        threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        now = threading.get_intra_op_parallelism_threads() or "TensorFlow's default number of"
        raise ParameterError(f"'{run_dir}' trains with {threads} TensorFlow thread(s) (train.threads) but this "
                             f"process's TensorFlow already runs ops on {now} threads: train it in a fresh "
                             "process (sampleaudio train, or sampleaudio.experiments.run_experiments)") from None


def _same_run(config: ExperimentConfig, old: ExperimentConfig | None, run: RunDir) -> ExperimentConfig:
    """``config`` with its precision resolved (a run being resumed keeps its own), refused in one line if
    ``run`` holds a run of another configuration."""
    if old is None:
        return schedule.resolve_precision(config)
    old = schedule.resolve_precision(old)  # a hand-written config may say "auto" too
    config = schedule.resolve_precision(config, old.train.mixed_precision)
    differ = [d for d in differences(old.to_dict(), json.loads(json.dumps(config.to_dict())))
              if not d.startswith("notes ")]  # `notes` is prose, not part of a run's identity
    if differ:
        raise ParameterError(f"'{run}' holds a run of a different configuration ({'; '.join(differ[:4])}); "
                             "use another run folder")
    return config


def _standardization(config: ExperimentConfig, task, statistics: tuple[float, float]) -> tuple[float, float]:
    """The input's ``(mean, std)``: the store's training ``statistics``, the original's constants (``paper``) or
    none (the raw waveform)."""
    if config.data.standardize == "paper":
        if task.paper_mean is None or task.paper_std is None:
            raise ParameterError(f"standardize 'paper': dataset '{task.name}' has no published mean/std")
        return task.paper_mean, task.paper_std
    if config.data.standardize == "none":
        return 0.0, 1.0
    return statistics


def _fit(config, stages, run: RunDir, objective, task, sample_rate, segment, strategy, verbose,
         callbacks) -> tuple[keras.Model, int]:
    """Run the schedule's ``stages`` (:func:`sampleaudio.schedule.plan`); returns the best weights' model and the
    epochs trained."""
    tc = config.train
    # state.json commits an epoch: it names that epoch's checkpoint and best weights and carries the previous
    # epoch's state, which a multi-worker job may rewind to
    state = run.resume_state()
    steps = tc.steps_per_epoch or objective.steps_per_epoch()
    loss_fn = objective.loss()
    loop = None
    if tc.distribute == "multiworker":
        from sampleaudio.distributed import CustomLoop

        loop = CustomLoop(strategy, loss_fn, config.data.batch_size)
    if loop is not None:  # every worker resumes from the same epoch: the last one all of them committed
        from sampleaudio.distributed import agree_on_resume_point

        agreed = agree_on_resume_point(strategy, state)
        if agreed is not state:  # this worker committed one epoch more than another: rewind it on disk too
            state = agreed
            run.write_state(state)
            run.rewind_history(state["global_epoch"])
    keras.utils.set_random_seed(tc.seed)  # the same global seed whether the run starts or resumes
    with strategy.scope():
        # the last committed epoch's weights and optimizer state: mid-stage, and at a stage's start too (one that
        # continues the previous stage's optimizer needs it, and one that does not reload the best weights
        # continues from the last ones)
        if state["stage_started"] or "checkpoint" in state:
            model = keras.saving.load_model(os.path.join(run.checkpoints, state.get("checkpoint", "last.keras")))
        else:
            model = objective.wrap(build_model(config.model, task, segment, sample_rate=sample_rate))
    val, val_steps = objective.valid_dataset()
    val = without_autotune(val)
    _restore_generators(model, state.get("generators"))
    tensorboard = keras.callbacks.TensorBoard(run.tensorboard, write_graph=False)
    writers = {} if loop is None else {  # one event file per split for the whole run, as the callback writes
        split: tf.summary.create_file_writer(os.path.join(run.tensorboard, split))
        for split in ("train", "validation")}
    while state["stage"] < len(stages):
        k, stage = state["stage"], stages[state["stage"]]
        if not state["stage_started"]:
            with strategy.scope():
                if stage.reload_best and state.get("best"):
                    model.load_weights(os.path.join(run.checkpoints, state["best"]))
                schedule.compile_stage(model, config, stage, steps, loss_fn,
                                       carry=None if stage.fresh_optimizer else model.optimizer)
            state.update(epoch=0, wait=0, stage_started=True, lr=stage.lr, plateau_best=None, plateau_wait=0)
            if stage.best_per_stage:
                state["best_val_loss"] = None
        lr = state.get("lr", stage.lr)
        while state["epoch"] < stage.epochs and (stage.patience is None or state["wait"] < stage.patience):
            started = time.time()
            ds = without_autotune(objective.train_dataset(tc.seed * 100003 + state["global_epoch"],
                                                          drop_remainder=tc.distribute != "none"))
            with contextlib.redirect_stdout(sys.stderr):  # Keras' progress bar: results go to stdout
                if loop is None:
                    hist = model.fit(ds, epochs=state["global_epoch"] + 1, initial_epoch=state["global_epoch"],
                                     steps_per_epoch=steps, validation_data=val, validation_steps=val_steps,
                                     verbose=verbose, shuffle=False, callbacks=[tensorboard, *callbacks])
                    loss, val_loss = float(hist.history["loss"][-1]), float(hist.history["val_loss"][-1])
                else:
                    loss, val_loss = loop.epoch(model, ds, steps, val, val_steps, verbose=verbose)
                    _log_scalars(writers, state["global_epoch"], loss, val_loss)
            if not (math.isfinite(loss) and math.isfinite(val_loss)):
                run.mark_diverged({"stage": k, "epoch": state["epoch"], "loss": repr(loss),
                                   "val_loss": repr(val_loss)})
                raise TrainingDivergedError(
                    f"training diverged at stage {k}, epoch {state['epoch']} (loss {loss}, validation loss "
                    f"{val_loss}); nothing of this epoch was saved, the last good checkpoint in "
                    f"'{run.checkpoints}' is kept and no model is written: lower --lr (or change the "
                    "configuration) in a new run folder")
            improved = state["best_val_loss"] is None or val_loss < state["best_val_loss"]
            row = {"stage": k, "epoch": state["epoch"], "global_epoch": state["global_epoch"], "lr": lr,
                   "loss": loss, "val_loss": val_loss, "improved": improved,
                   "seconds": round(time.time() - started, 2)}
            if improved:
                state["best_val_loss"], state["wait"] = val_loss, 0
                state["best"] = f"best-{state['global_epoch']:05d}.weights.h5"
                run.save_best(model.save_weights, state["best"])
            else:
                state["wait"] += 1
            if stage.plateau is not None:  # the rate the next epoch trains at, cut in place
                new_lr, state["plateau_best"], state["plateau_wait"] = stage.plateau.step(
                    lr, state.get("plateau_best"), state.get("plateau_wait", 0), val_loss)
                if new_lr != lr:
                    with strategy.scope():
                        schedule.compile_stage(model, config, stage, steps, loss_fn, lr=new_lr,
                                               carry=model.optimizer)
                    lr = state["lr"] = new_lr
            state["epoch"] += 1
            state["global_epoch"] += 1
            state["generators"] = _generators(model)  # dropout's random state, which Model.save does not keep
            run.commit_epoch(state, model.save, row)
        state.update(stage=k + 1, stage_started=False)
        run.write_state(state)
    model.load_weights(os.path.join(run.checkpoints, state.get("best", "best.weights.h5")))
    if loop is not None:  # a plain copy: Keras' predict cannot run under the strategy either
        trained = model
        model = objective.wrap(build_model(config.model, task, segment, sample_rate=sample_rate))
        model.set_weights(trained.get_weights())
    return model, state["global_epoch"]


def _generator_states(model: keras.Model) -> list:
    """The state variables of ``model``'s random generators (dropout's), in layer order; ``Model.save`` does not
    keep them (a loaded model draws from new seeds)."""
    return [v for v in model.non_trainable_variables if v.path.endswith("seed_generator_state")]


def _generators(model: keras.Model) -> list[list[int]]:
    return [[int(x) for x in keras.ops.convert_to_numpy(v)] for v in _generator_states(model)]


def _restore_generators(model: keras.Model, saved: list | None) -> None:
    """Put back the generator states a committed epoch recorded (a resumed run draws the same dropout masks)."""
    if saved:
        states = _generator_states(model)
        if len(states) != len(saved):
            raise ParameterError(f"the checkpoint's model has {len(states)} random generators, the committed state "
                                 f"{len(saved)}: not the same run")
        for v, value in zip(states, saved):
            v.assign(value)


def _log_scalars(writers: dict, epoch: int, loss: float, val_loss: float) -> None:
    """TensorBoard scalars for the custom loop (Model.fit's runs use the TensorBoard callback)."""
    for split, value in (("train", loss), ("validation", val_loss)):
        with writers[split].as_default():
            tf.summary.scalar("epoch_loss", value, step=epoch)


def _finish(config, run: RunDir, objective, model, source: dict, segment, mean, std, epochs) -> dict:
    """Save the objective's model, its card and its final metrics (written last: they mark the run finished).

    ``best.keras`` is the model as trained (its precision policy included); the objective scores it in float32,
    as ``sampleaudio evaluate``, ``tag`` and the export compute: one score per run."""
    saved, fields, metrics = objective.finish(model, run.path)
    saved.save(run.best_model)
    spec = families.architecture(config.model.architecture)
    embeddings = {}
    for name in spec.embeddings:  # the architecture's named embeddings that the saved model has
        try:
            embeddings[name] = families.embedding_layer(config.model.architecture, saved, name)
        except ParameterError:
            continue
    if fields.get("embedding_layer"):  # the objective's model embeds at its own layer (an encoder's output)
        embeddings = {"penultimate": fields.pop("embedding_layer")}
    task = fields.pop("task", None)
    ModelCard(
        labels=fields.pop("labels", []),
        audio=InputSpec(segment=segment, mean=mean, std=std, sample_rate=source["sample_rate"],
                        chunking=spec.input.chunking, chunks=spec.input.chunks, pooling=spec.input.pooling,
                        embedding_layer=embeddings.get("penultimate")),
        embeddings=embeddings, architecture=config.model.architecture, objective=config.objective.name,
        task=None if task is None else dataclasses.asdict(task), dataset=source["dataset"],
        synthetic=source["synthetic"], precision=config.train.mixed_precision,
        extra={k: v for k, v in fields.items() if k != "objective"}).validate(saved).write(run.path)
    metrics = {**metrics, "epochs": epochs, "precision": "float32"}
    write_json(run.file("final_metrics.json"), metrics)
    return metrics


def _raise_lost_worker(config: ExperimentConfig, exc: Exception) -> None:
    if config.train.distribute != "multiworker":
        return
    from sampleaudio.distributed import LOST_PEER_ERRORS, WorkerLost

    if isinstance(exc, LOST_PEER_ERRORS):
        cause = re.sub(r"\{\{.*?\}\}\s*", "", str(exc).splitlines()[0])[:200]  # minus graph-node noise
        raise WorkerLost(f"lost contact with another worker ({type(exc).__name__}: {cause}); restart every worker "
                         "with the same arguments: they resume from the last epoch all of them committed") from exc

