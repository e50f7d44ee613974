"""Clip-level evaluation (Kim, Lee, Nam 2019 Sec. IV-C): average segment predictions per clip, then score.

``sampleaudio evaluate RUN_DIR`` scores a run's best model on a split and writes ``metrics_<split>.json`` and
``per_class_<split>.csv`` beside it.
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import tensorflow as tf

from sampleaudio.config import ModelConfig
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.metrics import clip_metrics, per_class_scores
from sampleaudio.model_registry import default_segment
from sampleaudio.pipeline import clip_average, eval_dataset
from sampleaudio.records import read_manifest
from sampleaudio.runs import load_run, read_model_card, standardization, write_json
from sampleaudio.tasks import Task

__all__ = ["predict_clips", "evaluate_model", "evaluate_run"]


def predict_clips(model: keras.Model, data_dir: str, split: str, *, segment: int, batch_size: int = 64,
                  mean: float | None = None, std: float | None = None, max_segments: int | None = None,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true, y_score)`` per clip of ``split``: model outputs averaged over each clip's segments."""
    predict = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    scores, index, labels = [], [], {}
    for x, y, i in eval_dataset(data_dir, split, segment=segment, batch_size=batch_size, mean=mean, std=std,
                                max_segments=max_segments):
        scores.append(np.asarray(predict(x), dtype=np.float64))
        i = i.numpy()
        index.append(i)
        for k, row in zip(i, y.numpy()):
            labels.setdefault(int(k), row)
    if not scores:
        raise DatasetLayoutError(f"split '{split}' of '{data_dir}' holds no clips")
    ids, clip_scores = clip_average(np.concatenate(scores), np.concatenate(index))
    return np.stack([labels[int(k)] for k in ids]), clip_scores


def evaluate_model(model: keras.Model, data_dir: str, task: Task, *, split: str = "test", segment: int | None = None,
                   threshold: float | None = None, batch_size: int = 64, mean: float | None = None,
                   std: float | None = None, max_segments: int | None = None):
    """Clip metrics (dict) and per-class scores (DataFrame) of ``model`` on ``split``."""
    threshold = task.threshold if threshold is None else threshold
    segment = segment or default_segment(ModelConfig(), task)  # None: the default architecture's (SampleCNN)
    y_true, y_score = predict_clips(model, data_dir, split, segment=segment, batch_size=batch_size,
                                    mean=mean, std=std, max_segments=max_segments)
    labels = read_manifest(data_dir).labels
    result = clip_metrics(y_true, y_score, threshold=threshold)
    result["threshold"] = threshold
    result["split"] = split
    return result, per_class_scores(y_true, y_score, threshold, labels)


def evaluate_run(run_dir: str, split: str = "test", data_dir: str | None = None) -> dict:
    """Score a training run's best model on ``split`` (of its own store, or ``data_dir``) and save the results."""
    model, config, task = load_run(run_dir)
    if data_dir is not None:
        _check_same_labels(run_dir, data_dir)
    data_dir = data_dir or config.data.data_dir
    mean, std = standardization(config, task)
    if mean is None:  # the training store's statistics, as recorded in the card (tag and export use them too),
        card = read_model_card(run_dir)  # not those of the store being scored
        mean, std = card["mean"], card["std"]
    segment = config.data.segment or read_model_card(run_dir)["segment"]  # the segment the run trained on
    result, per_class = evaluate_model(model, data_dir, task, split=split, segment=segment,
                                       threshold=config.eval.threshold, batch_size=config.eval.batch_size,
                                       mean=mean, std=std, max_segments=config.data.max_eval_segments)
    write_json(os.path.join(run_dir, f"metrics_{split}.json"), result)
    per_class.to_csv(os.path.join(run_dir, f"per_class_{split}.csv"), index=False)
    return result


def _check_same_labels(run_dir: str, data_dir: str) -> None:
    """Refuse a store whose label vocabulary is not the run's, name for name and in order: scores would be
    reported under the wrong names (or shapes would not even match)."""
    from sampleaudio.records import verify_store

    with open(os.path.join(run_dir, "model_card.json"), encoding="utf-8") as f:
        ours = list(json.load(f)["labels"])
    theirs = verify_store(data_dir, splits=(), checksum=False).labels
    if theirs != ours:
        diff = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
        first = (f"label {diff}: run '{ours[diff] if diff < len(ours) else '-'}' vs store "
                 f"'{theirs[diff] if diff < len(theirs) else '-'}'")
        raise DatasetLayoutError(f"store '{data_dir}' has another label vocabulary than run '{run_dir}' "
                                 f"({len(theirs)} vs {len(ours)} labels; first difference at {first})")
