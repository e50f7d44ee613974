"""Zero-shot tagging metrics as the authors' ``eval.py`` defines them (Choi et al., ISMIR 2019, Sec. 4.3).

The score table is ``[tags, tracks]`` cosine similarities of tag and track embeddings, the truth the same shape.
*Retrieval* ranks tracks for a tag (one row), *annotation* ranks tags for a track (one column).

- Retrieval ROC-AUC: mean over tags of ``roc_auc_score`` of the row, over the tags where it is defined (a tag
  with both positive and negative tracks); annotation ROC-AUC likewise per track.
- hit@k: 1 when any of the ``k`` top-ranked items is relevant, else 0; the mean over rows (retrieval) or columns
  (annotation). Every row / column counts, a relevant-free one as 0, as in ``eval.py``.
- AP@k (``apk``): ``sum over hits in the top k of (hits so far / rank)`` divided by ``min(relevant, k)``; 0 when
  nothing is relevant; the mean over rows / columns.
- MAP: ``average_precision_score`` per tag (retrieval) and per track (annotation), averaged over those with a
  relevant item (``eval.py`` averaged every one; scikit-learn now returns 0 with a warning for those).

Ranks are by descending score, ties broken by the lower index first (a stable sort).
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

__all__ = ["apk", "ranked", "retrieval_scores", "zero_shot_metrics", "KS"]

KS = (1, 5, 10)


def ranked(scores) -> np.ndarray:
    """Indices of ``scores`` from the highest (ties: lower index first)."""
    return np.argsort(-np.asarray(scores, np.float64), kind="stable")


def apk(relevant, predicted, k: int) -> float:
    """Average precision at ``k`` of a ranked list ``predicted`` against the set ``relevant`` (``eval.py``'s apk)."""
    relevant = set(int(r) for r in relevant)
    if not relevant:
        return 0.0
    hits, score = 0, 0.0
    for rank, p in enumerate(list(predicted)[:k], start=1):
        if int(p) in relevant:
            hits += 1
            score += hits / rank
    return score / min(len(relevant), k)


def _per_row(y: np.ndarray, s: np.ndarray, ks) -> dict[str, float]:
    aucs, aps = [], []
    hit = {k: [] for k in ks}
    apks = {k: [] for k in ks}
    for truth, score in zip(y, s):
        pos = int(truth.sum())
        if 0 < pos < truth.size:
            aucs.append(skm.roc_auc_score(truth, score))
        if pos > 0:
            aps.append(skm.average_precision_score(truth, score))
        order = ranked(score)
        relevant = np.flatnonzero(truth)
        for k in ks:
            hit[k].append(float(truth[order[:k]].any()))
            apks[k].append(apk(relevant, order, k))
    out = {"roc_auc": float(np.mean(aucs)) if aucs else float("nan"),
           "map": float(np.mean(aps)) if aps else float("nan")}
    for k in ks:
        out[f"hit@{k}"] = float(np.mean(hit[k])) if hit[k] else float("nan")
        out[f"ap@{k}"] = float(np.mean(apks[k])) if apks[k] else float("nan")
    out["scored"] = len(aucs)
    return out


def retrieval_scores(truth, scores, ks=KS) -> dict[str, float]:
    """Tag -> tracks retrieval metrics of ``[tags, tracks]`` tables (one ranking per tag)."""
    return _per_row(np.asarray(truth) > 0, np.asarray(scores, np.float64), ks)


def zero_shot_metrics(truth, scores, ks=KS) -> dict[str, float]:
    """Retrieval (per tag) and annotation (per track) metrics of ``[tags, tracks]`` truth and scores, keys
    ``retrieval_roc_auc``, ``annotation_roc_auc``, ``retrieval_hit@k``, ``retrieval_ap@k``, ``retrieval_map``,
    ``annotation_...``, and ``tags`` / ``tracks`` counts."""
    y, s = np.asarray(truth) > 0, np.asarray(scores, np.float64)
    if y.shape != s.shape or y.ndim != 2:
        from sampleaudio.errors import ParameterError

        raise ParameterError(f"truth and scores must be [tags, tracks] of one shape; got {y.shape} and {s.shape}")
    out = {f"retrieval_{k}": v for k, v in _per_row(y, s, ks).items()}
    out.update({f"annotation_{k}": v for k, v in _per_row(y.T, s.T, ks).items()})
    out["tags"], out["tracks"] = int(y.shape[0]), int(y.shape[1])
    return out
