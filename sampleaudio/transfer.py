"""Transfer learning with convnet features (Choi, Fazekas, Sandler, Cho, "Transfer learning for music
classification and regression tasks", ISMIR 2017; code ``keunwoochoi/transfer_learning_music``).

1. :func:`layer_features`: the output of every chosen layer of a network (a training run or a registered
   pretrained model such as ``musicnn-mtt``), average-pooled over time (and frequency) per segment, averaged over
   a clip's segments, concatenated ("convnet feature": five 32-d layers -> 160-d in the paper). Batch norms use
   their moving statistics: the original's Keras-1 BN ``mode=2`` used batch statistics at inference, which made
   features depend on the batch (keunwoochoi/transfer_learning_music#2).
2. :func:`mfcc_features`: the baseline, 20 MFCCs with deltas and double deltas, mean and standard deviation over
   time (120-d), as ``librosa.feature.mfcc`` (n_fft 2048, hop 512, Slaney mel, dB with top 80) and
   ``librosa.feature.delta`` (width 9).
3. :func:`fit_svm`: a scikit-learn pipeline (StandardScaler + SVC) chosen by grid search with cross-validation
   over the original's grid (RBF: C in {0.1, 2, 8, 32}, gamma in {2^-3 ... 2^-13, 'auto'}; linear: the same
   C), scored on held-out clips. Multi-label tasks: one such classifier per label, ROC-AUC per label.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from sampleaudio.errors import ParameterError

__all__ = ["TRANSFER_LAYERS", "default_layers", "layer_features", "mfcc_features", "fit_svm", "SvmResult",
           "read_split"]

#: the layers transferred by default from each registered pretrained model family (the extractor's features)
TRANSFER_LAYERS = {
    "musicnn": ["timbral", "temporal", "cnn1", "cnn2", "cnn3", "penultimate"],
    "musicnn_vgg": ["pool1", "pool2", "pool3", "pool4", "pool5"],
}

SVC_GRID = [
    {"svc__kernel": ["rbf"], "svc__C": [0.1, 2.0, 8.0, 32.0],
     "svc__gamma": [2.0 ** -k for k in range(3, 14, 2)] + ["auto"]},
    {"svc__kernel": ["linear"], "svc__C": [0.1, 2.0, 8.0, 32.0]},
]


def default_layers(model) -> list[str]:
    """The layers to transfer: a pretrained family's named features, else every convolution's output."""
    import keras

    names = [layer.name for layer in model.layers]
    for layers in TRANSFER_LAYERS.values():
        if all(name in names for name in layers):
            return list(layers)
    convs = [layer.name for layer in model.layers if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D))]
    if not convs:
        raise ParameterError("the model has no convolution layer; pass layers=[...]")
    return convs


def _feature_tagger(model_or_name, layers: list[str] | None, weights: str | None, batch_size: int):
    """A :class:`~sampleaudio.inference.Tagger` whose "tags" are the pooled features of ``layers``."""
    import keras

    from sampleaudio.inference import Tagger

    tagger = model_or_name if isinstance(model_or_name, Tagger) else Tagger.from_path(
        os.fspath(model_or_name), weights=weights, batch_size=batch_size)
    model = tagger.model
    layers = layers or default_layers(model)
    outputs, names = [], []
    for name in layers:
        try:
            out = model.get_layer(name).output
        except ValueError as exc:
            raise ParameterError(f"layer '{name}' is not in the model") from exc
        if len(out.shape) == 4:
            out = keras.layers.GlobalAveragePooling2D(name=f"{name}_avg")(out)
        elif len(out.shape) == 3:
            out = keras.layers.GlobalAveragePooling1D(name=f"{name}_avg")(out)
        outputs.append(out)
        names += [f"{name}:{k}" for k in range(out.shape[-1])]
    head = keras.Model(model.inputs, keras.layers.Concatenate(name="transfer")(outputs) if len(outputs) > 1
                       else outputs[0])
    return Tagger(head, names, segment=tagger.segment, mean=tagger.mean, std=tagger.std,
                  sample_rate=tagger.sample_rate, batch_size=tagger.batch_size), layers


def layer_features(inputs, model, *, layers: list[str] | None = None, weights: str | None = None,
                   batch_size: int = 32) -> tuple[np.ndarray, dict[str, slice]]:
    """``(X [clips, D], {layer: columns})``: Choi 2017's convnet feature of every input (files, arrays or
    ``(array, sample_rate)`` pairs) from ``model`` (a run folder, a registered pretrained name or a Tagger)."""
    tagger, layers = _feature_tagger(model, layers, weights, batch_size)
    results = tagger.tag(inputs)
    bad = [r for r in results if r.error]
    if bad:
        raise ParameterError(f"{len(bad)} input(s) failed, first: {bad[0].source}: {bad[0].error}")
    x = np.stack([r.scores for r in results]).astype(np.float32)
    columns, start = {}, 0
    for name in layers:
        width = sum(1 for label in tagger.labels if label.rsplit(":", 1)[0] == name)
        columns[name] = slice(start, start + width)
        start += width
    return x, columns


def mfcc_features(clips, sample_rate: int, *, n_mfcc: int = 20, n_fft: int = 2048, hop: int = 512) -> np.ndarray:
    """``[clips, 6 * n_mfcc]``: mean and std over time of MFCCs, deltas and double deltas (Choi 2017 baseline)."""
    from scipy.fft import dct
    from scipy.signal import savgol_filter

    from sampleaudio.layers.filterbanks import mel_matrix

    mel = mel_matrix(sample_rate, n_fft, 128).astype(np.float64)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    out = []
    for audio in clips:
        audio = np.asarray(audio, np.float64)
        if audio.size < n_fft // 2 + 1:
            audio = np.resize(audio, n_fft // 2 + 1)  # tile, as everywhere
        x = np.pad(audio, n_fft // 2)
        frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
        power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
        db = 10 * np.log10(np.maximum(power @ mel, 1e-10))
        db = np.maximum(db, db.max() - 80.0)
        coefficients = dct(db, type=2, norm="ortho", axis=-1)[:, :n_mfcc].T  # [n_mfcc, frames]
        width = min(9, coefficients.shape[1] - (1 - coefficients.shape[1] % 2))
        if width >= 3:
            deltas = [savgol_filter(coefficients, width, 1, deriv=d, axis=-1, mode="interp") for d in (1,)]
            deltas.append(savgol_filter(coefficients, width, 2, deriv=2, axis=-1, mode="interp"))
        else:
            deltas = [np.zeros_like(coefficients)] * 2
        stack = np.concatenate([coefficients, *deltas])
        out.append(np.concatenate([stack.mean(axis=1), stack.std(axis=1)]))
    return np.asarray(out, np.float32)


@dataclasses.dataclass
class SvmResult:
    """Held-out score of the grid-searched classifier(s), the CV score and the chosen parameters."""

    score: float
    metric: str
    cv_score: float
    params: list


def fit_svm(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *,
            cv: int = 5, seed: int = 0, n_jobs: int = 1, grid: list | None = None) -> SvmResult:
    """Scaler + SVC by grid search with ``cv``-fold CV on the training clips, scored on the test clips.

    ``y`` one-hot/multi-hot ``[clips, C]``: one row-wise argmax class -> accuracy; several labels per clip ->
    one classifier per label (grid-searched by ROC-AUC) and macro ROC-AUC of their decision values.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    grid = grid or SVC_GRID
    multi_label = bool((y_train.sum(axis=1) != 1).any() or (y_test.sum(axis=1) != 1).any())

    def search(labels, scoring):
        folds = StratifiedKFold(n_splits=min(cv, int(np.bincount(labels).min())), shuffle=True, random_state=seed)
        pipe = Pipeline([("scaler", StandardScaler()), ("svc", SVC(random_state=seed))])
        return GridSearchCV(pipe, grid, cv=folds, scoring=scoring, n_jobs=n_jobs).fit(x_train, labels)

    if not multi_label:
        found = search(y_train.argmax(axis=1), "accuracy")
        accuracy = float((found.predict(x_test) == y_test.argmax(axis=1)).mean())
        return SvmResult(accuracy, "accuracy", float(found.best_score_), [found.best_params_])
    aucs, cvs, params = [], [], []
    for c in range(y_train.shape[1]):
        if y_train[:, c].min() == y_train[:, c].max() or y_test[:, c].min() == y_test[:, c].max():
            continue  # a label without both classes cannot be trained or scored
        found = search(y_train[:, c].astype(int), "roc_auc")
        aucs.append(roc_auc_score(y_test[:, c], found.decision_function(x_test)))
        cvs.append(found.best_score_)
        params.append(found.best_params_)
    return SvmResult(float(np.mean(aucs)), "macro ROC-AUC", float(np.mean(cvs)), params)


def read_split(data_dir: str, split: str, *, max_clips: int | None = None, seed: int = 0):
    """``(clips, labels [N, C], sample_rate)`` of a store's split (a seeded random subset of ``max_clips``)."""
    from sampleaudio.pipeline import read_clips
    from sampleaudio.stores import read_manifest

    clips, labels = [], []
    for ex in read_clips(data_dir, split).as_numpy_iterator():
        clips.append(ex["audio"])
        labels.append(ex["labels"])
    labels = np.asarray(labels, np.float32)
    if max_clips is not None and len(clips) > max_clips:
        keep = np.sort(np.random.default_rng(seed).choice(len(clips), max_clips, replace=False))
        clips, labels = [clips[k] for k in keep], labels[keep]
    return clips, labels, read_manifest(data_dir).sample_rate
