"""Classification: the store's labels and the dataset's loss (Kim, Lee, Nam, IEEE JSTSP 2019, Sec. IV-B).

Training examples are each clip's fixed non-overlapping segments, shuffled at segment level, each used once per
epoch of ``ceil(segments / batch)`` steps, as the authors' code (``DataConfig.train_examples="fixed"``; at most the
segments the original cut per clip: MTAT 29 s -> 10, DCASE 10 s -> 10, Speech Commands 1 s -> 1), or one random crop
per clip and pass (``random_crop``). Validation is every segment of the validation clips (or the first
``max_valid_segments``). The finished run is scored clip by clip (:mod:`sampleaudio.evaluate`) in float32, as
``sampleaudio evaluate`` scores it, whatever precision it trained in: the two give the same numbers.
"""

from __future__ import annotations

import math
import os

import keras
import numpy as np

from sampleaudio.clipped_losses import task_loss
from sampleaudio.errors import ParameterError
from sampleaudio.evaluate import evaluate_model
from sampleaudio.pipeline import count_eval_segments, count_train_segments, eval_dataset, train_dataset
from sampleaudio.runs import in_float32

__all__ = ["Classification", "train_segments_per_clip"]


def train_segments_per_clip(clip_seconds: float, segment: int, sample_rate: int) -> int:
    """The fixed segments a clip gives for training: the original's ``len_audio * sr // num_samples``
    (``lib/data/config.py``); a shorter clip gives its whole segments."""
    return max(1, int(clip_seconds * sample_rate) // segment)


class Classification:
    """The classification objective (:class:`sampleaudio.objectives.Objective`; see the module docstring)."""

    def __init__(self, config, store, *, segment: int, mean: float, std: float):
        self.config, self.store, self.segment, self.mean, self.std = config, store, segment, mean, std
        self.task = store.task
        if self.task.multi_label != store.multi_label:
            raise ParameterError(f"store '{store}' is {'multi' if store.multi_label else 'single'}-label but dataset "
                                 f"'{self.task.name}' is not")
        self.per_clip = train_segments_per_clip(self.task.clip_seconds, segment, store.sample_rate)

    def wrap(self, model: keras.Model) -> keras.Model:
        return model

    def loss(self):
        return task_loss(self.config.train.loss, self.task.multi_label)

    def steps_per_epoch(self) -> int:
        """One pass: ``ceil(segments / batch)`` for fixed segments, or the training audio's duration in segments
        for random crops."""
        batch = self.config.data.batch_size
        if self.config.data.train_examples == "fixed":
            return max(1, math.ceil(count_train_segments(self.store, self.segment, self.per_clip) / batch))
        info = self.store.splits["train"]
        segments = max(info["clips"], int(info["seconds"] * self.store.sample_rate // self.segment))
        return max(1, math.ceil(segments / batch))

    def train_dataset(self, seed: int, *, drop_remainder: bool = False):
        """Fixed segments in one pass (each segment once: the epoch ends after exactly its steps), else endless."""
        data, train = self.config.data, self.config.train
        one_pass = data.train_examples == "fixed" and not train.steps_per_epoch and train.distribute == "none"
        return train_dataset(self.store, segment=self.segment, batch_size=data.batch_size, seed=seed,
                             shuffle_buffer=data.shuffle_buffer, mean=self.mean, std=self.std,
                             drop_remainder=drop_remainder, train_examples=data.train_examples,
                             max_segments=self.per_clip, repeat=not one_pass)

    def valid_dataset(self):
        data = self.config.data
        val = eval_dataset(self.store, "valid", segment=self.segment, batch_size=data.batch_size, mean=self.mean,
                           std=self.std, max_segments=data.max_valid_segments)
        steps = math.ceil(count_eval_segments(self.store, "valid", self.segment, data.max_valid_segments)
                          / data.batch_size)
        return val.map(lambda x, y, i: (x, y)), steps

    def finish(self, model: keras.Model, run_dir: str) -> tuple[keras.Model, dict, dict]:
        from sampleaudio import families

        spec = families.architecture(self.config.model.architecture).input
        ev = self.config.eval
        result, per_class = evaluate_model(
            in_float32(model), self.store, self.task, split=ev.split, segment=self.segment, threshold=ev.threshold,
            batch_size=ev.batch_size, mean=self.mean, std=self.std, max_segments=self.config.data.max_eval_segments,
            chunking=spec.chunking, chunks=spec.chunks, pooling=spec.pooling)
        per_class.to_csv(os.path.join(run_dir, f"per_class_{ev.split}.csv"), index=False)
        result["parameters"] = int(sum(np.prod(w.shape) for w in model.trainable_weights))
        return model, {"labels": list(self.store.labels), "task": self.task}, result
