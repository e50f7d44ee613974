"""Reference baselines of a store: the best constant prediction and logistic regression on MFCC statistics.

They show a task is learnable (well above chance) but not trivial (clearly below perfect), and they are the
"chance" and "MFCC + logistic regression" rows of the reproduction tables (Kim 2019 and Park 2018 scripts).

- :func:`mfcc_statistics`: hand-crafted clip features computed with ``tf.signal`` (mean/std over time of 20
  MFCCs and their deltas), for baselines, not for the CNNs;
- :func:`mfcc_baseline`: scikit-learn's ``LogisticRegression`` (one-vs-rest for multi-label stores) on
  standardised :func:`mfcc_statistics`, fitted on ``train`` and scored on ``test`` with the project's clip
  metrics; :func:`chance_baseline`: the best constant prediction, from the labels alone;
- ``python -m sampleaudio.baselines DIR`` prints a store's MFCC baseline (it replaced
  ``python -m data_prep.synthetic.sanity DIR``; this module replaced ``sampleaudio.features`` too).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from sampleaudio.fileio import write_json_atomic

__all__ = ["mfcc_statistics", "features_of", "mfcc_baseline", "chance_baseline", "baselines", "main"]


def mfcc_statistics(audio, sr: int = 22050, n_mfcc: int = 20, n_mels: int = 64,
                    n_fft: int = 1024, hop: int = 512) -> np.ndarray:
    """Mean and standard deviation over time of MFCCs and their first differences: ``4 * n_mfcc`` values.

    Magnitude STFT (Hann, ``n_fft``/``hop``) -> ``n_mels`` mel bands (20 Hz - Nyquist) -> log(mel + 1e-6) ->
    DCT (``tf.signal.mfccs_from_log_mel_spectrograms``).
    ``audio`` is a 1-D waveform (numpy array or tensor); the result is a float32 numpy vector.
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(audio, tf.float32)
    if x.shape[0] is not None and x.shape[0] < n_fft:
        x = tf.pad(x, [[0, n_fft - x.shape[0]]])
    stft = tf.abs(tf.signal.stft(x, n_fft, hop, n_fft))
    mel = tf.matmul(stft, tf.signal.linear_to_mel_weight_matrix(n_mels, n_fft // 2 + 1, sr, 20.0, sr / 2))
    mfcc = tf.signal.mfccs_from_log_mel_spectrograms(tf.math.log(mel + 1e-6))[:, :n_mfcc]
    delta = mfcc[1:] - mfcc[:-1]
    parts = [tf.reduce_mean(mfcc, 0), tf.math.reduce_std(mfcc, 0), tf.reduce_mean(delta, 0),
             tf.math.reduce_std(delta, 0)]
    return tf.concat(parts, 0).numpy()


def features_of(data_dir: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mfcc_statistics` of every clip of ``split`` of a store, and the clips' multi-hot labels."""
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
    from sampleaudio.stores import Store

    manifest = Store.open(data_dir)
    task = manifest.task
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


def chance_baseline(data_dir: str) -> dict[str, float]:
    """Clip metrics of the best constant prediction, from the labels alone (no audio is read).

    Two constants are scored on the test split and the better one kept per metric: the training label
    frequencies (ROC-AUC 0.5; argmax accuracy = the test share of the most frequent training class) and
    "every class" (all scores 1: what a thresholded metric such as DCASE's instance F gets for free).
    """
    from sampleaudio.metrics import clip_metrics
    from sampleaudio.stores import Store

    manifest = Store.open(data_dir)
    task = manifest.task
    index = manifest.index

    def targets(split):
        rows = index.loc[index["split"] == split, "labels"]
        y = np.zeros((len(rows), manifest.num_classes))
        for i, cell in enumerate(rows):
            y[i, [int(k) for k in str(cell).split()]] = 1
        return y

    y_train, y_test = targets("train"), targets("test")
    prior = np.tile(y_train.mean(0), (len(y_test), 1))
    candidates = [clip_metrics(y_test, prior, threshold=task.threshold),
                  clip_metrics(y_test, np.ones_like(y_test), threshold=task.threshold)]
    return {k: max(c[k] for c in candidates) for k in ("roc_auc", "pr_auc", "accuracy", "instance_f1")}


def baselines(data_dir: str, cache_dir: str | None = None) -> dict[str, dict[str, float]]:
    """``{"chance": ..., "mfcc": ...}`` clip metrics of a store, cached as JSON in ``cache_dir`` (the MFCC
    baseline reads every clip: about half a minute per proxy on 2 cores)."""
    import os

    path = None
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
        path = os.path.join(cache_dir, f"baselines-{os.path.basename(os.path.normpath(data_dir))}.json")
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)
    result = {"chance": chance_baseline(data_dir), "mfcc": mfcc_baseline(data_dir)}
    if path:
        write_json_atomic(path, result, sort_keys=False)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="a store written by `sampleaudio prep`")
    args = parser.parse_args(argv)
    print(json.dumps(mfcc_baseline(args.dir), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
