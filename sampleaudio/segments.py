"""The input path, once: clip -> segments, ``(x - mean) / std``, segments -> clip.

Every entry point that feeds audio to a model (the tf.data pipelines of training and evaluation, the Won 2020
chunked evaluation, the :class:`~sampleaudio.inference.Tagger`, the exported SavedModel) cuts, standardises and
pools through this module, with the facts a model card records (:class:`InputSpec`):

- **chunking** (how a clip becomes segments):

  - ``"consecutive"``: every non-overlapping ``segment``-sample window from the start, a remainder shorter than a
    segment dropped (Kim, Lee, Nam 2019 Sec. IV-C; Lee et al. 2017; the SampleCNN codes' evaluation);
  - ``"evenly-spaced"``: ``chunks`` (Won et al. 2020: 16) windows starting at ``i * ((length - segment) //
    chunks)`` (``training/eval.py`` of ``minzwon/sota-music-tagging-models``).

  Either way a clip shorter than one segment is first tiled end to end (``[a b c] -> [a b c a b c a ...]``), not
  stretched by repeating samples as the original ``np.repeat`` did.
- **pooling** (how segment outputs become a clip output):

  - ``"mean"``: the mean over segments (a time axis, where a layer has one, is averaged first);
  - ``"max-then-mean"``: the maximum over each segment's time axis, then the mean over segments (Park et al.
    2018's song feature: the last conv block's output, max over time, mean over segments);
  - ``"first"``: the first segment's output only (Park 2018's released encoder: the first window of a song).

A TF implementation serves the pipelines and the SavedModel; the numpy functions (``*_np``) serve the Tagger and
are tested to give the same numbers.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from sampleaudio.cards import CHUNKINGS, DEFAULT_SAMPLE_RATE, POOLINGS, WON2020_CHUNKS, InputSpec
from sampleaudio.errors import ParameterError

__all__ = [
    "CHUNKINGS", "POOLINGS", "DEFAULT_SAMPLE_RATE", "WON2020_CHUNKS", "InputSpec",
    "tile_pad", "crop_positions", "clip_segments", "batch_segments", "standardise", "reduce_time", "pool_segments",
    "clip_segments_np", "segment_starts_np", "standardise_np", "reduce_time_np", "pool_np",
]


# ------------------------------------------------------------------------------------------------- TensorFlow


def tile_pad(audio: tf.Tensor, length: int | tf.Tensor) -> tf.Tensor:
    """Repeat a 1-D clip end to end until it holds at least ``length`` samples, then cut to the longer of both.

    A clip already ``length`` or longer is returned unchanged.
    """
    n = tf.shape(audio)[0]
    length = tf.cast(length, tf.int32)
    reps = tf.maximum(1, (length + n - 1) // tf.maximum(n, 1))
    tiled = tf.tile(audio, [reps])
    return tiled[: tf.maximum(n, length)]


def _starts(length, segment, chunking: str, chunks: int, dtype=tf.int64):
    """Start samples of a clip's (or, with ``length`` a vector, every clip's: ragged) segments after tiling."""
    seg = tf.constant(segment, dtype)
    padded = tf.maximum(tf.cast(length, dtype), seg)
    if chunking == "consecutive":
        return tf.ragged.range(padded // seg, dtype=dtype) * seg if padded.shape.rank else \
            tf.range(padded // seg, dtype=dtype) * seg
    if chunking != "evenly-spaced":
        raise ParameterError(f"chunking must be one of {CHUNKINGS}. Received: {chunking!r}")
    hop = (padded - seg) // chunks
    steps = tf.range(chunks, dtype=dtype)
    if padded.shape.rank:
        return tf.RaggedTensor.from_tensor(hop[:, None] * steps[None, :])
    return hop * steps


def crop_positions(length, segment: int, r) -> tf.Tensor:
    """The sample positions ``[segment]`` (int64) of a window of a clip of ``length`` samples that starts at
    ``r mod (length - segment + 1)``, wrapping around, so a clip shorter than a segment is tiled (and starts at 0):
    the random crop of training examples (:mod:`sampleaudio.pipeline`, :mod:`sampleaudio.metric_learning`)."""
    length = tf.cast(length, tf.int64)
    start = tf.math.floormod(tf.cast(r, tf.int64), tf.maximum(length - segment + 1, 1))
    return tf.math.floormod(start + tf.range(segment, dtype=tf.int64), length)


def clip_segments(audio: tf.Tensor, segment: int, *, chunking: str = "consecutive", chunks: int = WON2020_CHUNKS,
                  max_segments: int | None = None) -> tf.Tensor:
    """The segments of one 1-D clip, ``[num_segments, segment]`` (``chunking``: see the module docstring).

    ``max_segments`` keeps the first that many (the original code used the first 10 of MTAT's 29 s clips).
    """
    audio = tile_pad(audio, segment)
    if chunking == "consecutive":  # a reshape: the same windows as the gather below, without its index
        n = tf.shape(audio)[0] // segment
        segs = tf.reshape(audio[: n * segment], [n, segment])
    else:
        starts = _starts(tf.shape(audio)[0], segment, chunking, chunks, tf.int32)
        segs = tf.gather(audio, starts[:, None] + tf.range(segment)[None, :])
    return segs if max_segments is None else segs[:max_segments]


def batch_segments(waveform: tf.Tensor, length: tf.Tensor, segment: int, *, chunking: str = "consecutive",
                   chunks: int = WON2020_CHUNKS) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """The segments of a batch of zero-padded clips ``[B, T]`` with true lengths ``[B]``: ``(segments [S,
    segment], clip of each segment [S], segments per clip [B])``, each clip's segments as :func:`clip_segments`
    cuts them (a short clip is tiled from its own ``length`` samples, never from the padding)."""
    length = tf.cast(length, tf.int64)
    starts = _starts(length, segment, chunking, chunks)
    rows = starts.value_rowids()
    offsets = starts.flat_values[:, None] + tf.range(segment, dtype=tf.int64)[None, :]
    offsets = tf.math.floormod(offsets, tf.gather(length, rows)[:, None])  # tiles short clips
    index = tf.stack([tf.broadcast_to(rows[:, None], tf.shape(offsets)), offsets], axis=-1)
    return tf.gather_nd(waveform, index), rows, starts.row_lengths()


def standardise(x: tf.Tensor, mean: float, std: float) -> tf.Tensor:
    """``(x - mean) / std``: the input standardisation of every model (the training statistics)."""
    return (x - mean) / std


def reduce_time(values, pooling: str = "mean"):
    """Segment outputs with a time axis ``[S, T, D]`` -> ``[S, D]`` (max over time for ``max-then-mean``, else
    the mean); outputs without one are returned as they are. Works on tensors and Keras symbolic tensors."""
    import keras

    if len(values.shape) != 3:
        return values
    return keras.ops.max(values, axis=1) if pooling == "max-then-mean" else keras.ops.mean(values, axis=1)


def pool_segments(values: tf.Tensor, rows: tf.Tensor, num_clips, pooling: str = "mean") -> tf.Tensor:
    """Clip outputs ``[B, ...]`` from segment outputs ``[S, ...]`` and the clip of each segment ``rows`` [S]."""
    values = tf.cast(reduce_time(values, pooling), tf.float32)
    if pooling == "first":
        first = tf.math.unsorted_segment_min(tf.range(tf.shape(rows)[0], dtype=rows.dtype), rows, num_clips)
        return tf.gather(values, first)
    if pooling not in POOLINGS:
        raise ParameterError(f"pooling must be one of {POOLINGS}. Received: {pooling!r}")
    return tf.math.unsorted_segment_mean(values, rows, num_clips)


# ------------------------------------------------------------------------------------------------------ numpy


def segment_starts_np(length: int, segment: int, *, chunking: str = "consecutive",
                      chunks: int = WON2020_CHUNKS, hop: int | None = None) -> np.ndarray:
    """Start samples of the segments of a clip of ``length`` samples (after tiling), as :func:`clip_segments`.

    ``hop`` (samples) replaces the chunking with a window every ``hop`` samples (overlapping when ``hop <
    segment``; the tagging CLIs' ``--hop``), a remainder shorter than a segment dropped as in ``consecutive``.
    """
    padded = max(int(length), segment)
    if hop is not None:
        if isinstance(hop, bool) or not isinstance(hop, (int, np.integer)) or hop < 1:
            raise ParameterError(f"hop must be a positive number of samples. Received: hop={hop!r}")
        return np.arange(0, padded - segment + 1, int(hop))
    if chunking == "consecutive":
        return np.arange(padded // segment) * segment
    if chunking != "evenly-spaced":
        raise ParameterError(f"chunking must be one of {CHUNKINGS}. Received: {chunking!r}")
    return np.arange(chunks) * ((padded - segment) // chunks)


def clip_segments_np(audio: np.ndarray, segment: int, *, chunking: str = "consecutive",
                     chunks: int = WON2020_CHUNKS, max_segments: int | None = None,
                     hop: int | None = None) -> np.ndarray:
    """:func:`clip_segments` in numpy (the same windows, tiling short clips); ``hop``: see
    :func:`segment_starts_np`."""
    audio = np.asarray(audio)
    n = audio.shape[0]
    if chunking == "consecutive" and n >= segment and hop in (None, segment):  # a view of the same windows
        count = n // segment
        return audio[: count * segment].reshape(count, segment)[:max_segments]
    starts = segment_starts_np(n, segment, chunking=chunking, chunks=chunks, hop=hop)[:max_segments]
    return audio[(starts[:, None] + np.arange(segment)[None, :]) % n]


def standardise_np(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    """:func:`standardise` in numpy, as float32 (the models' input type)."""
    return ((np.asarray(x, np.float32) - np.float32(mean)) / np.float32(std)).astype(np.float32)


def reduce_time_np(values: np.ndarray, pooling: str = "mean") -> np.ndarray:
    """:func:`reduce_time` in numpy."""
    values = np.asarray(values)
    if values.ndim != 3:
        return values
    return values.max(axis=1) if pooling == "max-then-mean" else values.mean(axis=1)


def pool_np(values: np.ndarray, clip_index: np.ndarray | None = None,
            pooling: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """``(clip ids in order, clip outputs)`` from segment outputs ``[S, ...]`` and each one's clip (``None``: all
    segments are one clip's), as :func:`pool_segments` computes them (in float64)."""
    if pooling not in POOLINGS:
        raise ParameterError(f"pooling must be one of {POOLINGS}. Received: {pooling!r}")
    values = np.asarray(reduce_time_np(values, pooling), dtype=np.float64)
    clip_index = np.zeros(values.shape[0], np.int64) if clip_index is None else np.asarray(clip_index)
    ids, first, inverse, counts = np.unique(clip_index, return_index=True, return_inverse=True, return_counts=True)
    if pooling == "first":
        return ids, values[first]
    sums = np.zeros((ids.shape[0],) + values.shape[1:])
    np.add.at(sums, inverse, values)
    return ids, sums / counts.reshape((-1,) + (1,) * (values.ndim - 1))
