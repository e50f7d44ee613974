"""Clip-level evaluation (Kim, Lee, Nam 2019 Sec. IV-C): average segment predictions per clip, then score.

``sampleaudio evaluate RUN_DIR`` scores a run's best model on a split and writes ``metrics_<split>.json`` and
``per_class_<split>.csv`` beside it. The split's shards are verified first (size and SHA-256, as the trainer
does), so a damaged shard is one error naming it rather than a failure half-way through reading it.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from sampleaudio.cards import write_json
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.families import default_segment, model_params
from sampleaudio.metrics import clip_metrics, per_class_scores
from sampleaudio.pipeline import eval_dataset
from sampleaudio.runs import load_run, read_model_card
from sampleaudio.segments import WON2020_CHUNKS, InputSpec, pool_np
from sampleaudio.stores import Store, Task

__all__ = ["verified_store", "predict_clips", "evaluate_model", "evaluate_run"]


def verified_store(data_dir: str | os.PathLike | Store, split: str) -> Store:
    """``data_dir`` opened with ``split``'s shards verified (present, recorded size and SHA-256) and at least one
    clip in it; a :class:`~sampleaudio.stores.Store` already opened is used as it is."""
    if isinstance(data_dir, Store):
        return data_dir
    return Store.open(data_dir, verify=True, splits=[split], require=[split])


def predict_clips(model: keras.Model, data_dir: str | Store, split: str, *, segment: int, batch_size: int = 64,
                  mean: float | None = None, std: float | None = None, max_segments: int | None = None,
                  chunking: str = "consecutive", chunks: int = WON2020_CHUNKS, pooling: str = "mean",
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true, y_score)`` per clip of ``split``: model outputs pooled over each clip's segments (by default
    the mean over every consecutive segment; :mod:`sampleaudio.segments`)."""
    predict = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    scores, index, labels = [], [], {}
    for x, y, i in eval_dataset(data_dir, split, segment=segment, batch_size=batch_size, mean=mean, std=std,
                                max_segments=max_segments, chunking=chunking, chunks=chunks):
        scores.append(np.asarray(predict(x), dtype=np.float64))
        i = i.numpy()
        index.append(i)
        for k, row in zip(i, y.numpy()):
            labels.setdefault(int(k), row)
    if not scores:
        raise DatasetLayoutError(f"split '{split}' of '{data_dir}' holds no clips")
    ids, clip_scores = pool_np(np.concatenate(scores), np.concatenate(index), pooling)
    return np.stack([labels[int(k)] for k in ids]), clip_scores


def evaluate_model(model: keras.Model, data_dir: str | Store, task: Task, *, split: str = "test",
                   segment: int | None = None, threshold: float | None = None, batch_size: int = 64,
                   mean: float | None = None, std: float | None = None, max_segments: int | None = None,
                   chunking: str = "consecutive", chunks: int = WON2020_CHUNKS, pooling: str = "mean"):
    """Clip metrics (dict) and per-class scores (DataFrame) of ``model`` on ``split`` (of a store's path or an
    opened :class:`~sampleaudio.stores.Store`)."""
    store = verified_store(data_dir, split)
    threshold = task.threshold if threshold is None else threshold
    segment = segment or default_segment(model_params(), task.name)  # None: the default architecture's (SampleCNN)
    y_true, y_score = predict_clips(model, store, split, segment=segment, batch_size=batch_size, mean=mean, std=std, max_segments=max_segments, chunking=chunking,
                                    chunks=chunks, pooling=pooling)
    labels = store.labels
    result = clip_metrics(y_true, y_score, threshold=threshold)
    result["threshold"] = threshold
    result["split"] = split
    return result, per_class_scores(y_true, y_score, threshold, labels)


def evaluate_run(run_dir: str, split: str = "test", data_dir: str | None = None) -> dict:
    """Score a training run's best model on ``split`` (of its own store, or ``data_dir``) and save the results.

    The input path (segment, the training statistics, chunking, pooling) is the model card's, as for tag and
    export, whichever store is scored."""
    model, config, task = load_run(run_dir)
    card = read_model_card(run_dir)
    store = verified_store(data_dir or config.data.data_dir, split)
    spec = InputSpec.from_card(card)
    if data_dir is not None:
        _check_same_labels(run_dir, card, store)
    if store.sample_rate != spec.sample_rate:
        raise DatasetLayoutError(f"store '{store}' holds {store.sample_rate} Hz audio but run '{run_dir}' was "
                                 f"trained on {spec.sample_rate} Hz; convert the store at the run's rate")
    result, per_class = evaluate_model(model, store, task, split=split, segment=spec.segment,
                                       threshold=config.eval.threshold, batch_size=config.eval.batch_size,
                                       mean=spec.mean, std=spec.std, max_segments=config.data.max_eval_segments,
                                       chunking=spec.chunking, chunks=spec.chunks, pooling=spec.pooling)
    write_json(os.path.join(run_dir, f"metrics_{split}.json"), result)
    per_class.to_csv(os.path.join(run_dir, f"per_class_{split}.csv"), index=False)
    return result


def _check_same_labels(run_dir: str, card: dict, store: Store) -> None:
    """Refuse a store whose label vocabulary is not the run's, name for name and in order: scores would be
    reported under the wrong names (or shapes would not even match)."""
    data_dir = store.path
    ours = list(card["labels"])
    theirs = list(store.labels)
    if theirs != ours:
        diff = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
        first = (f"label {diff}: run '{ours[diff] if diff < len(ours) else '-'}' vs store "
                 f"'{theirs[diff] if diff < len(theirs) else '-'}'")
        raise DatasetLayoutError(f"store '{data_dir}' has another label vocabulary than run '{run_dir}' "
                                 f"({len(theirs)} vs {len(ours)} labels; first difference at {first})")
