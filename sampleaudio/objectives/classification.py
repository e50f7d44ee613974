"""Classification: the store's labels and the dataset's loss (Kim, Lee, Nam, IEEE JSTSP 2019, Sec. IV-B).

Training examples are each clip's fixed non-overlapping segments, shuffled at segment level, each used once per
epoch of ``ceil(segments / batch)`` steps, as the authors' code (``DataConfig.train_examples="fixed"``; at most the
segments the original cut per clip: MTAT 29 s -> 10, DCASE 10 s -> 10, Speech Commands 1 s -> 1), or one random crop
per clip and pass (``random_crop``), an epoch being as many crops as the training audio has segments
(``DataConfig.epoch="segments"``) or one pass over the clips, each clip once (``"clips"``: Park 2018's
``train_generator_basic`` and Won 2020's ``AudioFolder``, one random crop per song or track per epoch).
Validation (``DataConfig.valid_examples``) is every segment of the validation clips (or the first
``max_valid_segments``), the architecture's evaluation chunks (Won 2020: 16 evenly spaced), or one random crop per
clip drawn once for the whole run (Park 2018's ``load_valid_basic``). The finished run is scored clip by clip (:mod:`sampleaudio.evaluate`) in float32, as
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
from sampleaudio.pipeline import (
    count_eval_segments,
    count_train_segments,
    eval_dataset,
    read_clips,
    train_dataset,
)
from sampleaudio.runs import in_float32
from sampleaudio.segments import crop_positions, standardise

__all__ = ["Classification", "train_segments_per_clip", "VALID_CROP_SEED"]

#: the seed of the validation crops of ``valid_examples="random_crop"`` (one draw for the whole run)
VALID_CROP_SEED = 2 ** 31 - 1


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

    def _clip_epoch(self) -> bool:
        data = self.config.data
        return data.train_examples == "random_crop" and data.epoch == "clips"

    def steps_per_epoch(self) -> int:
        """One pass: ``ceil(segments / batch)`` for fixed segments; for random crops the training audio's duration
        in segments, or ``ceil(clips / batch)`` (``epoch="clips"``)."""
        batch = self.config.data.batch_size
        if self.config.data.train_examples == "fixed":
            return max(1, math.ceil(count_train_segments(self.store, self.segment, self.per_clip) / batch))
        info = self.store.splits["train"]
        if self._clip_epoch():
            return max(1, math.ceil(info["clips"] / batch))
        segments = max(info["clips"], int(info["seconds"] * self.store.sample_rate // self.segment))
        return max(1, math.ceil(segments / batch))

    def train_dataset(self, seed: int, *, drop_remainder: bool = False):
        """One pass (fixed segments, or a crop of each clip with ``epoch="clips"``: the epoch ends after exactly
        its steps, the last batch partial), else endless."""
        data, train = self.config.data, self.config.train
        one_pass = ((data.train_examples == "fixed" or self._clip_epoch()) and not train.steps_per_epoch
                    and train.distribute == "none")
        return train_dataset(self.store, segment=self.segment, batch_size=data.batch_size, seed=seed,
                             shuffle_buffer=data.shuffle_buffer, mean=self.mean, std=self.std,
                             drop_remainder=drop_remainder, train_examples=data.train_examples,
                             max_segments=self.per_clip, repeat=not one_pass)

    def valid_dataset(self):
        data = self.config.data
        if data.valid_examples == "random_crop":
            return _fixed_crops(self.store, "valid", self.segment, data.batch_size, self.mean, self.std), math.ceil(
                self.store.splits["valid"]["clips"] / data.batch_size)
        chunking = {}
        if data.valid_examples == "chunks":
            from sampleaudio import families

            spec = families.architecture(self.config.model.architecture).input
            chunking = {"chunking": spec.chunking, "chunks": spec.chunks}
        val = eval_dataset(self.store, "valid", segment=self.segment, batch_size=data.batch_size, mean=self.mean,
                           std=self.std, max_segments=data.max_valid_segments, **chunking)
        steps = math.ceil(count_eval_segments(self.store, "valid", self.segment, data.max_valid_segments, **chunking)
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


def _fixed_crops(store, split: str, segment: int, batch_size: int, mean: float, std: float):
    """``(x, y)`` batches of one random ``segment``-sample crop of each clip of ``split``, in store order: the
    same crops on every pass (a seeded draw per clip position), as a validation set drawn once."""
    import tensorflow as tf

    clips = read_clips(store, split).map(lambda ex: (ex["audio"], ex["labels"]))

    def crop(pair, r):
        audio, labels = pair
        x = tf.gather(audio, crop_positions(tf.shape(audio)[0], segment, r))
        return tf.reshape(standardise(x, mean, std), [segment, 1]), labels

    draws = tf.data.Dataset.random(seed=VALID_CROP_SEED)
    return tf.data.Dataset.zip((clips, draws)).map(crop).batch(batch_size).prefetch(tf.data.AUTOTUNE)
