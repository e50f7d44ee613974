"""Clip-level metrics of the papers, computed with scikit-learn.

- ROC-AUC and PR-AUC, macro-averaged over classes (Lee 2017; Kim 2019 for MTAT; Won 2020).
- Argmax accuracy for single-label tasks (the honest Speech Commands metric).
- The original code's "accuracy": exact match of the thresholded outputs with the targets (reported
  separately as ``exact_match_accuracy``; for one-hot targets it is not the same as argmax accuracy).
- Instance-based F-score at the task's threshold: F1 averaged over clips (Kim 2019 for DCASE).

A class with no positive or no negative clip has no ROC-AUC; it is left out of the macro average and counted
in ``classes_without_both``, rather than failing or being filled with a made-up value.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

__all__ = ["roc_auc_macro", "pr_auc_macro", "argmax_accuracy", "exact_match_accuracy", "instance_f1",
           "per_class_scores", "clip_metrics"]


def _scorable(y_true: np.ndarray) -> np.ndarray:
    pos = y_true.sum(axis=0)
    return (pos > 0) & (pos < y_true.shape[0])


def _macro(score, y_true, y_score) -> float:
    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    keep = _scorable(y_true)
    if not keep.any():
        return float("nan")
    return float(score(y_true[:, keep], y_score[:, keep], average="macro"))


def roc_auc_macro(y_true, y_score) -> float:
    """Macro ROC-AUC over the classes that have both positive and negative clips."""
    return _macro(skm.roc_auc_score, y_true, y_score)


def pr_auc_macro(y_true, y_score) -> float:
    """Macro average precision (PR-AUC) over the classes that have both positive and negative clips."""
    return _macro(skm.average_precision_score, y_true, y_score)


def argmax_accuracy(y_true, y_score) -> float:
    """Share of clips whose highest-scoring class is a true class."""
    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    top = y_score.argmax(axis=1)
    return float(np.mean(y_true[np.arange(y_true.shape[0]), top] > 0))


def exact_match_accuracy(y_true, y_score, threshold: float) -> float:
    """The original code's accuracy: every class's thresholded output equals the target (subset accuracy)."""
    return float(skm.accuracy_score(np.asarray(y_true) > 0, np.asarray(y_score) > threshold))


def instance_f1(y_true, y_score, threshold: float) -> float:
    """Instance-based F-score: F1 of each clip's thresholded outputs, averaged over clips."""
    return float(skm.f1_score(np.asarray(y_true) > 0, np.asarray(y_score) > threshold, average="samples",
                              zero_division=0))


def per_class_scores(y_true, y_score, threshold: float, labels: list[str]):
    """A pandas DataFrame: per class ROC-AUC, PR-AUC, F1 at the threshold and the number of positives."""
    import pandas as pd

    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    rows = []
    for i, name in enumerate(labels):
        t, s = y_true[:, i] > 0, y_score[:, i]
        both = 0 < t.sum() < t.shape[0]
        rows.append({"label": name, "positives": int(t.sum()),
                     "roc_auc": float(skm.roc_auc_score(t, s)) if both else float("nan"),
                     "pr_auc": float(skm.average_precision_score(t, s)) if both else float("nan"),
                     "f1": float(skm.f1_score(t, s > threshold, zero_division=0))})
    return pd.DataFrame(rows)


def clip_metrics(y_true, y_score, *, threshold: float) -> dict[str, float]:
    """Every headline metric for clip-level targets and scores."""
    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    return {
        "roc_auc": roc_auc_macro(y_true, y_score),
        "pr_auc": pr_auc_macro(y_true, y_score),
        "accuracy": argmax_accuracy(y_true, y_score),
        "exact_match_accuracy": exact_match_accuracy(y_true, y_score, threshold),
        "instance_f1": instance_f1(y_true, y_score, threshold),
        "classes_without_both": int((~_scorable(y_true)).sum()),
        "clips": int(y_true.shape[0]),
    }
