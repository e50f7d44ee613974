"""The cover objective (``cover_genres``, :class:`sampleaudio.objectives.Objective`): the cover CNN trained on the
albums' genres, one example per training album and epoch.

Each example is an album's cover (:func:`~sampleaudio.families.oramas2018.albums.decode_cover`: RGB, resized to
``image_size``) flipped left-right at random, and its genres; the loss is the store's (sigmoid cross-entropy for
MuMu's multi-label genres, softmax for MSD-I). Batches come from the one seeded sampler
(:func:`sampleaudio.metric_learning.sampler_dataset`); validation is every validation album, unflipped. The
finished run is scored on the evaluation split's albums with the package's clip metrics (ROC-AUC, PR-AUC,
accuracy, ...), and ``best.keras`` is the cover CNN (input ``image``, its card's ``image`` field the size and the
``caffe`` scaling).
"""

from __future__ import annotations

import math
import os

import keras
import numpy as np
import tensorflow as tf

from sampleaudio.clipped_losses import task_loss
from sampleaudio.errors import ParameterError
from sampleaudio.metric_learning import sampler_dataset

__all__ = ["CoverGenres", "cover_dataset", "predict_covers"]


def cover_dataset(covers: list[bytes], labels: np.ndarray, rows, *, size: int, batch_size: int, seed: int,
                  flip: bool = True, num_examples: int | None = None, drop_remainder: bool = False
                  ) -> tf.data.Dataset:
    """Batches of ``(images [B, size, size, 3], labels [B, classes])`` of the albums ``rows`` (one pass in a seeded
    order, then further passes; or exactly ``num_examples``, in order)."""
    from sampleaudio.families.oramas2018.albums import decode_cover

    table = tf.constant(covers)
    targets = tf.constant(np.asarray(labels, np.float32))
    rows_t = tf.constant(np.asarray(rows, np.int64))

    def recipe(key, k):
        album = rows_t[k]
        image = decode_cover(table[album], size)
        if flip:
            image = tf.where(tf.random.stateless_uniform([], seed=key) < 0.5, image[:, ::-1], image)
        return image, targets[album]

    return sampler_dataset(recipe, batch_size=batch_size, seed=seed, rows=list(rows), num_examples=num_examples,
                           drop_remainder=drop_remainder)


def predict_covers(model: keras.Model, covers: list[bytes], size: int, batch_size: int = 32) -> np.ndarray:
    """``model``'s outputs on every cover (decoded and resized as in training)."""
    from sampleaudio.families.oramas2018.albums import cover_arrays

    out = [np.asarray(model(cover_arrays(covers[i:i + batch_size], size), training=False))
           for i in range(0, len(covers), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, model.output.shape[-1]), np.float32)


class CoverGenres:
    """The cover objective (see the module docstring)."""

    def __init__(self, config, store, *, segment: int, mean: float, std: float):
        from sampleaudio.families.oramas2018.albums import load_albums

        if not hasattr(config.model, "image_size") or config.model.architecture != "oramas2018_image":
            raise ParameterError("the cover_genres objective trains the cover CNN: use --architecture "
                                 "oramas2018_image")
        self.config, self.store, self.task = config, store, store.task
        self.size, self.batch_size = config.model.image_size, config.data.batch_size
        self.albums = load_albums(store, audio=False)
        self.train, self.valid = self.albums.albums_of("train"), self.albums.albums_of("valid")
        if len(self.train) == 0 or len(self.valid) == 0:
            raise ParameterError(f"store '{store}' needs albums in its train and valid splits")

    def wrap(self, model: keras.Model) -> keras.Model:
        return model

    def loss(self):
        return task_loss(self.config.train.loss, self.task.multi_label)

    def steps_per_epoch(self) -> int:
        """One example per training album."""
        return max(1, math.ceil(len(self.train) / self.batch_size))

    def train_dataset(self, seed: int, *, drop_remainder: bool = False):
        return cover_dataset(self.albums.covers, self.albums.labels, self.train, size=self.size,
                             batch_size=self.batch_size, seed=seed, drop_remainder=drop_remainder)

    def valid_dataset(self):
        ds = cover_dataset(self.albums.covers, self.albums.labels, self.valid, size=self.size,
                           batch_size=self.batch_size, seed=0, flip=False, num_examples=len(self.valid))
        return ds, math.ceil(len(self.valid) / self.batch_size)

    def finish(self, model: keras.Model, run_dir: str) -> tuple[keras.Model, dict, dict]:
        """The cover CNN, its card fields and its scores on the evaluation split's albums."""
        import pandas as pd

        from sampleaudio.metrics import clip_metrics, per_class_scores

        split = self.config.eval.split
        rows = self.albums.albums_of(split)
        threshold = self.config.eval.threshold if self.config.eval.threshold is not None else self.task.threshold
        scores = predict_covers(model, [self.albums.covers[a] for a in rows], self.size)
        truth = self.albums.labels[rows].astype(np.float32)
        metrics = clip_metrics(truth, scores, threshold=threshold)
        pd.DataFrame(per_class_scores(truth, scores, threshold, list(self.store.labels))).to_csv(
            os.path.join(run_dir, f"per_class_{split}.csv"), index=False)
        metrics.update({"albums": int(len(rows)),
                        "parameters": int(sum(np.prod(w.shape) for w in model.trainable_weights))})
        card = {"labels": list(self.store.labels), "task": self.task,
                "image": {"height": self.size, "width": self.size, "preprocessing": "caffe"}}
        return model, card, metrics
