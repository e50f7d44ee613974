"""tf.data pipelines over a converted store (:mod:`sampleaudio.stores`).

Training follows the authors' code (``tae-jun/sampleaudio`` ``build_dataset.py`` and ``lib/data/batch.py``;
``tae-jun/resemul``; ``jongpillee/sampleCNN``): the training examples are each clip's fixed, non-overlapping
segments of the model's input length (MTAT: the first 10 x 59,049 samples of the 29 s clip; DCASE 10 x 22,050;
Speech Commands the one second), shuffled at segment level and each used once per epoch
(``train_examples="fixed"``, the default). ``train_examples="random_crop"`` instead draws one random-offset
crop per clip and pass: a common augmentation, NOT the papers' protocol. Examples are standardised with the
training split's mean and std (or given constants). Evaluation takes every non-overlapping segment of each clip,
so predictions can be averaged per clip (the papers' clip-level protocol).

Clips shorter than a segment are padded by tiling the clip (``[a b c] -> [a b c a b c a ...]``), not by
repeating each sample as the original code's ``np.repeat`` did (which slows the audio down).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import tensorflow as tf

from sampleaudio.errors import ParameterError
from sampleaudio.segments import (
    clip_segments,
    crop_positions,
    pool_np,
    segment_starts_np,
    standardise,
    tile_pad,
)
from sampleaudio.stores import Store, open_store, parse_example

__all__ = [
    "tile_pad",
    "segment_clip",
    "count_short_clips",
    "count_eval_segments",
    "count_train_segments",
    "TRAIN_EXAMPLES",
    "read_clips",
    "train_dataset",
    "eval_dataset",
    "clip_average",
    "without_autotune",
]

AUTOTUNE = tf.data.AUTOTUNE

#: How training examples are drawn: the papers' fixed segments, or one random crop per clip (augmentation).
TRAIN_EXAMPLES = ("fixed", "random_crop")


def segment_clip(audio: tf.Tensor, segment: int) -> tf.Tensor:
    """Every non-overlapping ``segment``-sample window of a 1-D clip, shape ``[num_segments, segment]``.

    Short clips are tile-padded to one segment first; a remainder shorter than a segment is dropped
    (:func:`sampleaudio.segments.clip_segments` with ``chunking="consecutive"``).
    """
    return clip_segments(audio, segment)


def count_short_clips(data_dir: str | os.PathLike | Store, split: str, segment: int) -> int:
    """How many clips of ``split`` are shorter than ``segment`` samples (and so get tile-padded)."""
    return int((open_store(data_dir).num_samples(split) < segment).sum())


def count_eval_segments(data_dir: str | os.PathLike | Store, split: str, segment: int,
                        max_segments: int | None = None, *, chunking: str = "consecutive", chunks: int = 16) -> int:
    """How many segments :func:`eval_dataset` yields for ``split`` (from the store's index, without reading audio)."""
    lengths = open_store(data_dir).num_samples(split)
    if chunking == "consecutive":
        n = np.maximum(1, lengths // segment)
    else:
        n = np.full(lengths.shape, len(segment_starts_np(segment, segment, chunking=chunking, chunks=chunks)))
    if max_segments is not None:
        n = np.minimum(n, max_segments)
    return int(n.sum())


def count_train_segments(data_dir: str | os.PathLike | Store, segment: int, max_segments: int | None = None,
                         split: str = "train") -> int:
    """How many fixed segments one epoch of :func:`train_dataset` (``train_examples="fixed"``) holds.

    Same count as :func:`count_eval_segments`: each clip gives ``max(1, samples // segment)`` segments, at most
    ``max_segments``. The original's steps per epoch are this count divided by the batch size, rounded up
    (``lib/data/config.py``: MTAT 15,250 x 10 / 23 -> 6,631).
    """
    return count_eval_segments(data_dir, split, segment, max_segments)


def read_clips(data_dir: str | os.PathLike | Store, split: str, *, shuffle_files: bool = False,
               seed: int | None = None) -> tf.data.Dataset:
    """Whole clips of one split as dicts, with every feature the store declares (see
    :func:`sampleaudio.stores.parse_example`)."""
    store = open_store(data_dir)
    files = store.shard_paths(split)
    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle_files:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(4, len(files)), num_parallel_calls=AUTOTUNE,
                       deterministic=True if seed is not None or not shuffle_files else None)
    num_classes, features = store.num_classes, store.features
    return ds.map(lambda s: parse_example(s, num_classes, features=features), num_parallel_calls=AUTOTUNE,
                  deterministic=True)


def _stats(store: Store, mean, std):
    mean = store.mean if mean is None else mean
    std = store.std if std is None else std
    if std <= 0:
        raise ParameterError(f"std must be positive. Received: std={std}")
    return float(mean), float(std)


def _warn_short(store: Store, split, segment):
    short = count_short_clips(store, split, segment)
    if short:
        warnings.warn(f"{short} clip(s) of split '{split}' in '{store}' are shorter than {segment} samples "
                      "and are tile-padded", stacklevel=3)
    return short


def train_dataset(
    data_dir: str | os.PathLike | Store,
    *,
    segment: int,
    batch_size: int,
    split: str = "train",
    seed: int | None = None,
    shuffle_buffer: int = 2048,
    repeat: bool = True,
    mean: float | None = None,
    std: float | None = None,
    drop_remainder: bool = False,
    train_examples: str = "fixed",
    max_segments: int | None = None,
) -> tf.data.Dataset:
    """Batches of ``(waveform [B, segment, 1], labels [B, C])`` for training.

    ``train_examples="fixed"`` (the papers' protocol): every clip is cut into its first ``max_segments``
    non-overlapping ``segment``-sample windows (all whole ones when ``None``; a clip shorter than a segment is
    tile-padded to one), the segments of the split are shuffled together with a buffer of ``shuffle_buffer``
    segments (the original: 10,000) and, with ``repeat=False``, each is yielded exactly once, so a pass takes
    ``ceil(count_train_segments / batch_size)`` batches. ``train_examples="random_crop"``: each clip
    contributes one crop at a random offset per pass (``shuffle_buffer`` then counts clips).

    Examples are standardised with the manifest's training mean/std unless ``mean``/``std`` are given (e.g. the
    papers' constants, or ``0``/``1`` for none). With a ``seed`` the sequence of batches is identical from run
    to run.
    """
    if segment < 1 or batch_size < 1:
        raise ParameterError(f"segment and batch_size must be >= 1. Received: segment={segment}, "
                             f"batch_size={batch_size}")
    if train_examples not in TRAIN_EXAMPLES:
        raise ParameterError(f"train_examples must be one of {TRAIN_EXAMPLES}. Received: {train_examples!r}")
    if max_segments is not None and max_segments < 1:
        raise ParameterError(f"max_segments must be >= 1 or None. Received: max_segments={max_segments}")
    store = open_store(data_dir)
    mean, std = _stats(store, mean, std)
    _warn_short(store, split, segment)
    ds = read_clips(store, split, shuffle_files=True, seed=seed)
    if train_examples == "fixed":
        def cut(ex):
            segs = clip_segments(ex["audio"], segment, max_segments=max_segments)
            return segs, tf.tile(ex["labels"][None], [tf.shape(segs)[0], 1])

        ds = ds.map(cut, num_parallel_calls=AUTOTUNE, deterministic=True).unbatch()
        ds = ds.cache() if _fits_in_memory(store, split) else ds
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()

        def standardised(x, labels):
            return tf.reshape(standardise(x, mean, std), [segment, 1]), labels

        ds = ds.map(standardised, num_parallel_calls=AUTOTUNE, deterministic=True)
        return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)

    ds = ds.map(lambda ex: (ex["audio"], ex["labels"]), num_parallel_calls=AUTOTUNE, deterministic=True)
    ds = ds.cache() if _fits_in_memory(store, split) else ds
    ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = tf.data.Dataset.zip((ds, tf.data.Dataset.random(seed=seed)))

    def crop(pair, r):
        audio, labels = pair
        x = tf.gather(audio, crop_positions(tf.shape(audio)[0], segment, r))
        return tf.reshape(standardise(x, mean, std), [segment, 1]), labels

    ds = ds.map(crop, num_parallel_calls=AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)


def _fits_in_memory(store: Store, split, limit_bytes: int = 2 << 30) -> bool:
    """Cache decoded clips in RAM when the split's float32 audio is under ``limit_bytes`` (2 GiB)."""
    return store.seconds(split) * store.sample_rate * 4 < limit_bytes


def eval_dataset(
    data_dir: str | os.PathLike | Store,
    split: str,
    *,
    segment: int,
    batch_size: int,
    mean: float | None = None,
    std: float | None = None,
    max_segments: int | None = None,
    chunking: str = "consecutive",
    chunks: int = 16,
) -> tf.data.Dataset:
    """Batches of ``(waveform [B, segment, 1], labels [B, C], clip_index [B])`` over every segment of every clip.

    Segments of one clip are consecutive and share a ``clip_index`` (the clip's position in the split), so
    :func:`clip_average` turns segment predictions into clip predictions. ``max_segments`` caps the segments
    taken from each clip (the original code used the first 10 of MTAT's 29 s clips). ``chunking`` and
    ``chunks``: how each clip is cut (:mod:`sampleaudio.segments`: every consecutive segment, or Won 2020's
    ``chunks`` evenly spaced ones).
    """
    if segment < 1 or batch_size < 1:
        raise ParameterError(f"segment and batch_size must be >= 1. Received: segment={segment}, "
                             f"batch_size={batch_size}")
    store = open_store(data_dir)
    mean, std = _stats(store, mean, std)
    _warn_short(store, split, segment)
    ds = read_clips(store, split).enumerate()

    def cut(i, ex):
        segs = clip_segments(ex["audio"], segment, chunking=chunking, chunks=chunks, max_segments=max_segments)
        n = tf.shape(segs)[0]
        segs = tf.expand_dims(standardise(segs, mean, std), -1)
        return segs, tf.tile(ex["labels"][None], [n, 1]), tf.fill([n], i)

    ds = ds.map(cut, num_parallel_calls=AUTOTUNE, deterministic=True).unbatch()
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def without_autotune(ds):
    """``ds`` with tf.data's autotuner off (a ``tf.data.Dataset``; anything else is returned as it is).

    The trainer feeds every epoch's ``Model.fit`` through this: with the autotuner on, destroying an epoch's
    iterator waits for the autotuner's model thread, which sleeps through its optimisation period (it doubles while
    the iterator lives); after a 23 s epoch of the Kim 2019 demo that was 8-29 s with the CPU idle, every epoch
    (TensorFlow 2.21, measured with py-spy in ``RootDataset::Iterator::~Iterator``). Off, the ``AUTOTUNE``
    parallelism is the machine's core count and the prefetch buffer keeps its own growth: the same segments per
    second on this pipeline (measured 10.1-10.7 k against 9.8-10.4 k)."""
    if not isinstance(ds, tf.data.Dataset):
        return ds
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)


def clip_average(segment_scores: np.ndarray, clip_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average segment-level scores per clip.

    Returns ``(clip_ids_in_order, clip_scores)`` where ``clip_scores[k]`` is the mean over the segments whose
    ``clip_index`` equals ``clip_ids_in_order[k]`` (:func:`sampleaudio.segments.pool_np` with ``"mean"``).
    """
    return pool_np(segment_scores, clip_index, "mean")
