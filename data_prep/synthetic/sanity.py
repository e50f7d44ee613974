"""Sanity baseline of a store: logistic regression on MFCC statistics (``python -m data_prep.synthetic.sanity``).

It shows a task is learnable (well above chance) but not trivial (clearly below perfect). Features are the
mean/std of 20 MFCCs and their deltas over each whole clip (:func:`sampleaudio.features.mfcc_statistics`);
the classifier is scikit-learn's ``LogisticRegression`` (one-vs-rest for multi-label stores) on standardised
features, fitted on ``train`` and scored on ``test`` with the project's clip metrics.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

__all__ = ["features_of", "mfcc_baseline", "main"]


def features_of(data_dir: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    from sampleaudio.features import mfcc_statistics
    from sampleaudio.pipeline import read_clips

    xs, ys = [], []
    for ex in read_clips(data_dir, split):
        xs.append(mfcc_statistics(ex["audio"]))
        ys.append(ex["labels"].numpy())
    return np.stack(xs), np.stack(ys)


def mfcc_baseline(data_dir: str, seed: int = 0) -> dict[str, float]:
    """Fit on train, score on test; return the clip metrics plus chance levels."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sampleaudio.metrics import clip_metrics
    from sampleaudio.records import read_manifest
    from sampleaudio.tasks import task_for

    manifest = read_manifest(data_dir)
    task = task_for(manifest.dataset, manifest.num_classes)
    x_train, y_train = features_of(data_dir, "train")
    x_test, y_test = features_of(data_dir, "test")
    if manifest.multi_label:
        keep = (y_train.sum(0) > 0) & (y_train.sum(0) < len(y_train))
        clf = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(C=0.5, max_iter=2000)))
        clf.fit(x_train, y_train[:, keep])
        scores = np.zeros_like(y_test)
        scores[:, keep] = clf.predict_proba(x_test)
        scores[:, ~keep] = y_train[:, ~keep].mean(0)
    else:
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000, random_state=seed))
        clf.fit(x_train, y_train.argmax(1))
        scores = np.zeros_like(y_test)
        scores[:, clf.classes_] = clf.predict_proba(x_test)
    result = clip_metrics(y_test, scores, threshold=task.threshold)
    result["chance_accuracy"] = float(np.max(y_test.mean(0)))
    result["chance_roc_auc"] = 0.5
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="a store written by `sampleaudio prep`")
    args = parser.parse_args(argv)
    print(json.dumps(mfcc_baseline(args.dir), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
