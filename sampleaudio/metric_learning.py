"""The one sampler of the metric-learning objectives: clips held in memory, examples drawn by a recipe, crops cut
through :mod:`sampleaudio.segments`.

Park et al.'s Siamese objective (anchor, positive and negatives by artist; ISMIR 2018, Sec. 3.2), Choi et al.'s
audio-word co-embedding (a track, a tag it has and tags it lacks; ISMIR 2019, Sec. 3) and any family's triplets
share three pieces:

- :class:`ClipBank`: the clips of a store's splits as 16-bit PCM in one flat array with offsets (the embedded
  proxies and stores up to a few GiB fit), with what each clip carries (artist, labels, a declared feature).
- :func:`crop`: a ``segment``-sample window of one clip of the bank at a random offset, short clips tiled, then
  standardised (:func:`sampleaudio.segments.crop_positions` and :func:`~sampleaudio.segments.standardise`: the
  same window and standardisation as the classification pipeline's random crops).
- :func:`sampler_dataset`: batches of a recipe's examples. A recipe maps ``(key, row)`` (``key``: the stateless
  seed of the example, a function of ``(seed, example number)``; ``row``: the example's anchor row when rows are
  given) to ``(inputs, target)``, drawing everything it needs with TensorFlow's stateless random ops from
  ``key``, so the sequence of batches is the same from run to run, whatever the number of parallel calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from sampleaudio.errors import ParameterError
from sampleaudio.segments import crop_positions, standardise

__all__ = ["ClipBank", "crop", "sampler_dataset", "AUTOTUNE", "BIG"]

AUTOTUNE = tf.data.AUTOTUNE
#: the upper bound of the integers a recipe draws (then reduced modulo what it picks among)
BIG = 2 ** 62


class ClipBank:
    """Clips as one flat 16-bit PCM array: ``pcm``, and ``offsets`` / ``lengths`` per clip, in the order given.

    Args:
        audio: each clip's float waveform in [-1, 1].
    """

    def __init__(self, audio: Sequence[np.ndarray]):
        clips = [np.clip(np.round(np.asarray(a, np.float32) * 32767.0), -32768, 32767).astype(np.int16)
                 for a in audio]
        self.lengths = np.array([c.size for c in clips], np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.pcm = np.concatenate(clips) if clips else np.zeros(0, np.int16)
        self._tensors = None

    def __len__(self) -> int:
        return len(self.lengths)

    def audio(self, i: int) -> np.ndarray:
        """Clip ``i`` as float32 in [-1, 1]."""
        return self.pcm[self.offsets[i]:self.offsets[i] + self.lengths[i]].astype(np.float32) / 32767.0

    def tensors(self) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """``(pcm, offsets, lengths)`` as constant tensors, made once: every epoch's dataset shares them (a new
        constant per epoch would hold another copy of the audio for as long as Keras keeps that epoch's dataset)."""
        if self._tensors is None:
            with tf.init_scope():  # eager constants, even when first asked for while a dataset's map is traced
                self._tensors = (tf.constant(self.pcm), tf.constant(self.offsets), tf.constant(self.lengths))
        return self._tensors


def crop(bank: ClipBank, clip, r, segment: int, mean: float, std: float) -> tf.Tensor:
    """A ``[segment, 1]`` window of clip ``clip`` (a scalar tensor) of ``bank`` chosen by the random integer ``r``,
    standardised by ``mean`` / ``std``."""
    pcm, offsets, lengths = bank.tensors()
    index = offsets[clip] + crop_positions(lengths[clip], segment, r)
    x = tf.cast(tf.gather(pcm, index), tf.float32) / 32767.0
    return tf.reshape(standardise(x, mean, std), [segment, 1])


def sampler_dataset(recipe: Callable, *, batch_size: int, seed: int, rows: Sequence[int] | None = None,
                    num_examples: int | None = None, drop_remainder: bool = False) -> tf.data.Dataset:
    """Batches of ``recipe(key, row)``'s ``(inputs, target)`` (see the module docstring).

    Args:
        recipe: draws one example from its stateless ``key`` (``int64[2]``: ``(seed, example number)``) and
            ``row``.
        rows: the anchor rows, visited once per pass in a seeded order (then further seeded passes), or cycled in
            order when ``num_examples`` is given; the recipe gets the position in ``rows``. ``None``: the recipe
            draws its anchor itself (it gets the example number).
        num_examples: ``None``: endless; else exactly this many examples (a fixed validation set).
    """
    if batch_size < 1:
        raise ParameterError(f"batch_size must be >= 1. Received: {batch_size}")
    counter = tf.data.Dataset.counter(dtype=tf.int64)
    if rows is None:
        ds = counter if num_examples is None else counter.take(num_examples)
        ds = ds.map(lambda i: recipe(tf.stack([tf.cast(seed, tf.int64), i]), i), num_parallel_calls=AUTOTUNE,
                    deterministic=True)
    else:
        n = len(rows)
        if n == 0:
            raise ParameterError("the sampler was given no rows to draw from")
        if num_examples is None:
            order = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True).repeat()
        else:
            order = tf.data.Dataset.range(num_examples).map(lambda i: tf.math.floormod(i, n))
        ds = tf.data.Dataset.zip(counter, order).map(
            lambda i, k: recipe(tf.stack([tf.cast(seed, tf.int64), i]), k), num_parallel_calls=AUTOTUNE,
            deterministic=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)
