"""Won et al. (SMC 2020) evaluation: per clip, ``count`` (16) evenly spaced chunks of the model's input length,
sigmoid outputs averaged, then macro ROC-AUC and PR-AUC (``training/eval.py`` of
``minzwon/sota-music-tagging-models``).

Chunk ``i`` starts at ``i * ((length - segment) // count)``; a clip shorter than ``segment`` is tiled first
(as everywhere in sampleaudio), so all its chunks start at 0.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from sampleaudio.metrics import clip_metrics
from sampleaudio.pipeline import AUTOTUNE, clip_average, read_clips, tile_pad
from sampleaudio.records import read_manifest

__all__ = ["chunk_dataset", "predict_chunked_clips", "evaluate_chunked", "evaluate_run_chunked"]


def chunk_dataset(data_dir: str | os.PathLike, split: str, *, segment: int, count: int = 16, batch_size: int = 16,
                  mean: float | None = None, std: float | None = None) -> tf.data.Dataset:
    """Batches of ``(chunks [B, segment, 1], labels [B, C], clip_index [B])``, ``count`` chunks per clip."""
    manifest = read_manifest(data_dir)
    mean = manifest.mean if mean is None else mean
    std = manifest.std if std is None else std

    def cut(i, ex):
        audio = tile_pad(ex["audio"], segment)
        hop = (tf.shape(audio)[0] - segment) // count
        starts = tf.range(count) * hop
        chunks = tf.gather(audio, starts[:, None] + tf.range(segment)[None, :])
        chunks = tf.expand_dims((chunks - mean) / std, -1)
        return chunks, tf.tile(ex["labels"][None], [count, 1]), tf.fill([count], i)

    ds = read_clips(data_dir, split).enumerate().map(cut, num_parallel_calls=AUTOTUNE, deterministic=True)
    return ds.unbatch().batch(batch_size).prefetch(AUTOTUNE)


def predict_chunked_clips(model: keras.Model, data_dir: str, split: str, *, segment: int, count: int = 16,
                          batch_size: int = 16, mean: float | None = None, std: float | None = None):
    """``(y_true, y_score)`` per clip: the model's outputs averaged over the clip's ``count`` chunks."""
    predict = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    scores, index, labels = [], [], {}
    for x, y, i in chunk_dataset(data_dir, split, segment=segment, count=count, batch_size=batch_size,
                                 mean=mean, std=std):
        scores.append(np.asarray(predict(x), dtype=np.float64))
        index.append(i.numpy())
        for k, row in zip(i.numpy(), y.numpy()):
            labels.setdefault(int(k), row)
    ids, clip_scores = clip_average(np.concatenate(scores), np.concatenate(index))
    return np.stack([labels[int(k)] for k in ids]), clip_scores


def evaluate_chunked(model: keras.Model, data_dir: str, split: str = "test", *, segment: int, count: int = 16,
                     threshold: float = 0.5, **kwargs) -> dict:
    """Clip metrics (macro ROC-AUC, PR-AUC, ...) under the 16-chunk protocol."""
    y_true, y_score = predict_chunked_clips(model, data_dir, split, segment=segment, count=count, **kwargs)
    result = clip_metrics(y_true, y_score, threshold=threshold)
    result.update({"split": split, "chunks": count, "segment": segment})
    return result


def evaluate_run_chunked(run_dir: str, split: str = "test", *, count: int = 16) -> dict:
    """:func:`evaluate_chunked` of a finished training run (its store, segment and standardisation)."""
    import json

    from sampleaudio.runs import load_run

    model, config, task = load_run(run_dir)
    with open(os.path.join(run_dir, "model_card.json")) as f:
        card = json.load(f)
    return evaluate_chunked(model, config.data.data_dir, split, segment=int(card["segment"]), count=count,
                            threshold=task.threshold, mean=card["mean"], std=card["std"])
