"""Won et al. (SMC 2020) evaluation: per clip, ``count`` (16) evenly spaced chunks of the model's input length,
sigmoid outputs averaged, then macro ROC-AUC and PR-AUC (``training/eval.py`` of
``minzwon/sota-music-tagging-models``).

Chunk ``i`` starts at ``i * ((length - segment) // count)``; a clip shorter than ``segment`` is tiled first
(as everywhere in sampleaudio), so all its chunks start at 0.
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from sampleaudio.evaluate import predict_clips, verified_store
from sampleaudio.metrics import clip_metrics
from sampleaudio.pipeline import eval_dataset
from sampleaudio.segments import WON2020_CHUNKS
from sampleaudio.stores import Store

__all__ = ["chunk_dataset", "predict_chunked_clips", "evaluate_chunked", "evaluate_run_chunked"]


def chunk_dataset(data_dir: str | os.PathLike | Store, split: str, *, segment: int, count: int = WON2020_CHUNKS,
                  batch_size: int = 16, mean: float | None = None, std: float | None = None) -> tf.data.Dataset:
    """Batches of ``(chunks [B, segment, 1], labels [B, C], clip_index [B])``, ``count`` chunks per clip
    (:func:`sampleaudio.pipeline.eval_dataset` with ``chunking="evenly-spaced"``)."""
    return eval_dataset(data_dir, split, segment=segment, batch_size=batch_size, mean=mean, std=std,
                        chunking="evenly-spaced", chunks=count)


def predict_chunked_clips(model: keras.Model, data_dir: str | Store, split: str, *, segment: int,
                          count: int = WON2020_CHUNKS,
                          batch_size: int = 16, mean: float | None = None, std: float | None = None):
    """``(y_true, y_score)`` per clip: the model's outputs averaged over the clip's ``count`` chunks
    (:func:`sampleaudio.evaluate.predict_clips` with ``chunking="evenly-spaced"``, the loop every evaluation
    shares)."""
    return predict_clips(model, data_dir, split, segment=segment, batch_size=batch_size, mean=mean, std=std,
                         chunking="evenly-spaced", chunks=count)


def evaluate_chunked(model: keras.Model, data_dir: str | Store, split: str = "test", *, segment: int,
                     count: int = WON2020_CHUNKS,
                     threshold: float = 0.5, **kwargs) -> dict:
    """Clip metrics (macro ROC-AUC, PR-AUC, ...) under the 16-chunk protocol (a store given as a path has
    ``split``'s shards verified first: :func:`sampleaudio.evaluate.verified_store`)."""
    y_true, y_score = predict_chunked_clips(model, verified_store(data_dir, split), split, segment=segment, count=count, **kwargs)
    result = clip_metrics(y_true, y_score, threshold=threshold)
    result.update({"split": split, "chunks": count, "segment": segment})
    return result


def evaluate_run_chunked(run_dir: str, split: str = "test", *, count: int | None = None) -> dict:
    """:func:`evaluate_chunked` of a finished training run (its store, and its card's segment and
    standardisation); ``count`` chunks per clip (default: the card's ``chunks``, 16 for a card without one)."""
    from sampleaudio.runs import load_run, read_model_card
    from sampleaudio.segments import InputSpec

    model, config, task = load_run(run_dir)
    spec = InputSpec.from_card(read_model_card(run_dir))
    return evaluate_chunked(model, config.data.data_dir, split, segment=spec.segment,
                            count=spec.chunks if count is None else count, threshold=task.threshold,
                            mean=spec.mean, std=spec.std)
