"""A custom training loop for ``tf.distribute.MultiWorkerMirroredStrategy`` (``--distribute multiworker``).

Keras 3's ``Model.fit`` cannot run under that strategy (it hands ``PerReplica`` values to ops that expect
tensors: keras-team/keras#20585, tensorflow/tensorflow#72388), so multi-worker training steps are written out
here, as in TensorFlow's "Custom training loop with MultiWorkerMirroredStrategy" tutorial: ``strategy.run`` of
a ``GradientTape`` step per replica, the loss averaged over the *global* batch with
``tf.nn.compute_average_loss``, gradients all-reduced by the optimizer, the input sharded by data. Everything
around it (stages, patience, checkpoints, resuming, history) is :mod:`sampleaudio.train`'s, shared with the
``Model.fit`` path.

The validation loss, which decides when a stage ends, is computed by every worker on the whole validation set
from its (identical, all-reduced) weights, so all workers take the same decisions without further
communication.

The loss may be a Keras loss name or function (per-example values, averaged over the global batch) or a
``keras.losses.Loss`` whose reduction is ``sum``, as Park 2018's Siamese max-margin loss
(:class:`sampleaudio.losses.SiameseLoss`): each replica then sums its own examples, and the all-reduce sums the
replicas, which is the global batch's sum that ``Model.fit`` minimises on one machine.

Losing a worker. When a worker dies, the others' next collective fails and they exit (TensorFlow's
multi-worker strategy has no way to let a replacement join a running group), so a cluster scheduler restarts
every worker of the job with the same arguments (Kubernetes ``restartPolicy: OnFailure`` with a job-wide
restart, Slurm ``--requeue``; see docs/training.md). Each worker commits every epoch in its own run folder
(:mod:`sampleaudio.train`: the checkpoint first, then ``state.json`` naming it and keeping the previous
epoch's state). A worker may die after some workers committed epoch *n* and before others did, so on start
:func:`agree_on_resume_point` gathers every worker's last committed epoch and all of them resume from the
smallest, the one that rewinds stepping back to its previous commit: all workers start from identical weights
and the same place in the schedule, and no stage is lost or repeated (the same idea as Keras'
``BackupAndRestore``, which needs ``Model.fit``; this is its counterpart for the custom loop).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import keras
import tensorflow as tf

from sampleaudio.cli_types import number
from sampleaudio.errors import ParameterError, SampleAudioError, WorkerSetupError

__all__ = ["CustomLoop", "WorkerLost", "LOST_PEER_ERRORS", "agree_on_resume_point", "slurm_tf_config"]

#: What a collective raises on the survivors when a worker dies (the peer's channel fails, or the strategy's
#: health check aborts the collectives).
LOST_PEER_ERRORS = (tf.errors.UnavailableError, tf.errors.CancelledError, tf.errors.DeadlineExceededError,
                    tf.errors.AbortedError)


class WorkerLost(SampleAudioError):
    """A worker of a multi-worker job stopped answering: restart every worker to resume the job."""


def agree_on_resume_point(strategy: tf.distribute.Strategy, state: dict) -> dict:
    """The training state every worker resumes from: this worker's own, or its previous commit.

    ``state`` is this worker's last committed training state (``global_epoch`` = epochs done, ``previous`` = the
    state committed one epoch before, if any). All workers gather their ``global_epoch``; the smallest wins.
    Returns ``state`` itself when this worker is there already, else its previous commit.

    Raises:
        RuntimeError: the workers are more than one epoch apart, or the previous commit is gone (their run
            folders do not belong to the same job).
    """
    mine = int(state["global_epoch"])
    value = strategy.experimental_distribute_values_from_function(lambda ctx: tf.constant([mine], tf.int64))
    epochs = [int(e) for e in strategy.gather(value, axis=0).numpy()]
    agreed = min(epochs)
    if mine == agreed:
        return state
    previous = state.get("previous") or {}
    if mine - agreed > 1 or previous.get("global_epoch") != agreed:
        raise WorkerSetupError(f"workers cannot agree where to resume: their last committed epochs are {epochs} "
                           f"and this worker has no commit of epoch {agreed}; were their run folders made by "
                           "one job?")
    return dict(previous)


class CustomLoop:
    """Trains a compiled Keras model one epoch at a time under ``strategy`` (a multi-worker strategy).

    Args:
        strategy: the ``tf.distribute`` strategy the model was built under.
        loss: the task's Keras loss name (``binary_crossentropy`` / ``categorical_crossentropy``) or function,
            averaged over the global batch; or a ``keras.losses.Loss`` (its ``sum`` or mean reduction is kept).
        global_batch_size: examples per step over all replicas (23 in the papers).
    """

    def __init__(self, strategy: tf.distribute.Strategy, loss, global_batch_size: int):
        self.strategy = strategy
        if isinstance(loss, keras.losses.Loss):  # its unreduced values, reduced here as it would reduce them
            if loss.reduction not in ("sum", "sum_over_batch_size", "mean"):
                raise ParameterError(f"the multi-worker loop reduces a loss by sum or mean over the batch; "
                                 f"{loss.name} has reduction {loss.reduction!r}")
            self.loss_fn, self.summed = loss.call, loss.reduction == "sum"
        else:
            self.loss_fn, self.summed = keras.losses.get(loss), False
        self.global_batch_size = int(global_batch_size)
        self._compiled_for = None
        self._train_step = None
        self._val_step = None

    def _build(self, model: keras.Model) -> None:
        optimizer = model.optimizer
        with self.strategy.scope():
            optimizer.build(model.trainable_variables)  # variables made here, not inside a replica context
        loss_fn, global_batch, summed = self.loss_fn, self.global_batch_size, self.summed

        def replica_step(x, y):
            with tf.GradientTape() as tape:
                pred = model(x, training=True)
                values = tf.cast(loss_fn(y, pred), tf.float32)
                if summed:  # this replica's share of the global sum; the all-reduce adds the replicas
                    loss = tf.reduce_sum(values)
                else:
                    loss = tf.nn.compute_average_loss(values, global_batch_size=global_batch)
                if model.losses:
                    loss += tf.nn.scale_regularization_loss(tf.add_n([tf.cast(v, tf.float32) for v in model.losses]))
                scaled = optimizer.scale_loss(loss)  # loss scaling under mixed float16; identity otherwise
            grads = tape.gradient(scaled, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        @tf.function
        def train_step(iterator):
            x, y = next(iterator)
            per_replica = self.strategy.run(replica_step, args=(x, y))
            return self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

        @tf.function
        def val_step(x, y):  # x: one tensor, or a tuple of them (a Siamese model's anchor, positive, negatives)
            pred = model(x, training=False)
            size = tf.cast(tf.shape(tf.nest.flatten(x)[0])[0], tf.float32)
            reg = tf.add_n([tf.cast(v, tf.float32) for v in model.losses]) if model.losses else tf.constant(0.0)
            return tf.reduce_sum(tf.cast(loss_fn(y, pred), tf.float32)), size, reg

        self._train_step, self._val_step, self._compiled_for = train_step, val_step, optimizer

    def epoch(self, model: keras.Model, dataset: tf.data.Dataset, steps: int, validation: tf.data.Dataset,
              validation_steps: int, *, verbose: int = 0) -> tuple[float, float]:
        """One epoch of ``steps`` global batches of ``dataset``; returns (mean training loss, validation loss).

        The validation loss is what ``Model.fit`` reports: the batches' losses (the mean per example, or with a
        summed loss the batch's sum) averaged with each batch weighted by its size, plus the weight penalties."""
        if self._compiled_for is not model.optimizer:  # a new stage compiles a fresh optimizer
            self._build(model)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        iterator = iter(self.strategy.experimental_distribute_dataset(dataset.with_options(options)))
        progress = keras.utils.Progbar(steps, verbose=verbose, stateful_metrics=["loss"])
        total = 0.0
        for step in range(steps):
            total += float(self._train_step(iterator))
            progress.update(step + 1, [("loss", total / (step + 1))])
        loss_sum, count, reg = 0.0, 0.0, 0.0
        for x, y in validation.take(validation_steps):
            s, n, r = self._val_step(x, y)
            loss_sum, count, reg = loss_sum + float(s) * (float(n) if self.summed else 1.0), count + float(n), float(r)
        return total / steps, loss_sum / max(count, 1.0) + reg


def slurm_tf_config(port: int = 12345, env: dict | None = None) -> str:
    """``TF_CONFIG`` for this Slurm task: every node of the job is a worker at ``port``, the task is ``SLURM_PROCID``.

    One task per node (``--ntasks-per-node=1``); the node list is expanded with ``scontrol show hostnames``.
    """
    env = os.environ if env is None else env
    try:
        nodelist, rank = env["SLURM_JOB_NODELIST"], int(env["SLURM_PROCID"])
    except KeyError as exc:
        raise WorkerSetupError(f"not inside a Slurm job step: {exc.args[0]} is not set (run it under srun)") from exc
    hosts = subprocess.run(["scontrol", "show", "hostnames", nodelist], capture_output=True, text=True,
                           check=True).stdout.split()
    return json.dumps({"cluster": {"worker": [f"{h}:{port}" for h in hosts]},
                       "task": {"type": "worker", "index": rank}})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sampleaudio.distributed",
        description="Print the TF_CONFIG of this Slurm task (use: export TF_CONFIG=$(python -m "
                    "sampleaudio.distributed --slurm)), for `sampleaudio train --distribute multiworker`.")
    parser.add_argument("--slurm", action="store_true", required=True, help="build it from the Slurm job")
    parser.add_argument("--port", type=number(int, low=1, high=65535), default=12345,
                        help="port every worker listens on")
    args = parser.parse_args(argv)
    print(slurm_tf_config(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
