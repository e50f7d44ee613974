"""Transfer learning with convnet features (Choi, Fazekas, Sandler, Cho, "Transfer learning for music
classification and regression tasks", ISMIR 2017; code ``keunwoochoi/transfer_learning_music``).

1. :func:`layer_features`: the output of every chosen layer of a network (a training run, e.g. of Choi 2017's own
   convnet, ``--architecture choi2017_convnet``, or a registered pretrained model such as ``musicnn-mtt``),
   average-pooled over time (and frequency) per segment, averaged over a clip's segments, concatenated ("convnet
   feature": five 32-d layers -> 160-d in the paper). By default (:func:`default_layers`) a layer is a conv
   block's output after its batch norm, activation and pooling, where the original takes it
   (``easy_feature_extraction.py`` stops each model after the block's ``MaxPooling2D``), not the conv's raw
   output; a registered family's named features otherwise. Batch norms use their moving statistics: the
   original's Keras-1 BN ``mode=2`` used batch statistics at inference, which made features depend on the batch
   (keunwoochoi/transfer_learning_music#2). :func:`choi2017_inputs` cuts clips as the authors' extractor does
   (12 kHz, the first 29 s, zero-padded).
2. The MFCC baselines, each named for what it is: :func:`choi2017_mfcc_features`, the paper's
   (``utils_featext.py``: 12 kHz, the first 29 s, ``librosa.feature.mfcc`` with 20 coefficients, **first
   differences** as deltas, ``[mean, std]`` of MFCCs, deltas and double deltas: 120-d), and
   :func:`librosa_mfcc_features`, the same statistics at the clip's own rate with ``librosa.feature.delta``
   (Savitzky-Golay, width 9) deltas.
3. Classifiers: :func:`cross_validate_svm`, the paper's protocol (``2_main_knn_svm_transfer.py``): a pipeline of
   an optional StandardScaler (on or off is part of the grid) and an SVC, chosen by ``GridSearchCV`` over the
   original's grid (RBF: C in {0.1, 2, 8, 32}, gamma in {2^-3 ... 2^-13, 'auto'}; linear: the same C) on all
   clips, its score the best grid point's cross-validation accuracy (fold scores weighted by fold size, as
   scikit-learn's ``iid=True`` then), with the selection made on the same folds: 10 unshuffled stratified folds
   in the dataset's order (:func:`choi2017_folds`), or a dataset's own folds (UrbanSound8K's 10, from the store's
   ``fold`` feature). :func:`fit_svm`, stricter: the grid searched by 5-fold CV on training clips and the choice
   scored on held-out ones (multi-label tasks: one classifier per label, ROC-AUC per label).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import TYPE_CHECKING

import numpy as np

from sampleaudio.errors import ParameterError

if TYPE_CHECKING:
    from sampleaudio.stores import Store

__all__ = ["TRANSFER_LAYERS", "default_layers", "layer_features", "choi2017_inputs", "choi2017_mfcc_features",
           "librosa_mfcc_features", "fit_svm", "cross_validate_svm", "choi2017_folds", "SvmResult", "read_split",
           "read_all", "TargetClips"]

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


def _block_output(model, conv) -> str:
    """The layer that ends ``conv``'s block: following the one consumer of each output through batch norms,
    activations and dropout, the first pooling layer, else the last of those (a conv followed by anything else,
    another conv or an addition, is its own block's end)."""
    import keras

    passes = (keras.layers.BatchNormalization, keras.layers.Activation, keras.layers.ReLU, keras.layers.ELU,
              keras.layers.LeakyReLU, keras.layers.Dropout)
    pools = (keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.AveragePooling1D,
             keras.layers.AveragePooling2D)
    consumers: dict[int, list] = {}
    for layer in model.layers:
        for tensor in keras.tree.flatten(layer.input) if not isinstance(layer, keras.layers.InputLayer) else ():
            consumers.setdefault(id(tensor), []).append(layer)
    end = conv
    while True:
        nxt = consumers.get(id(end.output), [])
        if len(nxt) != 1 or not isinstance(nxt[0], passes + pools):
            return end.name
        end = nxt[0]
        if isinstance(end, pools):
            return end.name


def default_layers(model) -> list[str]:
    """The layers to transfer: a pretrained family's named features, else the end of every convolution's block
    (its output after batch norm, activation and pooling: :func:`_block_output`), as the original takes them."""
    import keras

    names = [layer.name for layer in model.layers]
    for layers in TRANSFER_LAYERS.values():
        if all(name in names for name in layers):
            return list(layers)
    convs = [layer for layer in model.layers if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D))]
    if not convs:
        raise ParameterError("the model has no convolution layer; pass layers=[...]")
    return list(dict.fromkeys(_block_output(model, conv) for conv in convs))


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


def _mfcc(audio: np.ndarray, sample_rate: int, n_mfcc: int, n_fft: int, hop: int, pad_mode: str) -> np.ndarray:
    """``librosa.feature.mfcc``: centred frames, Hann, power, 128 Slaney mels to ``sample_rate / 2``, ``10 log10``
    with 80 dB below the clip's maximum as floor, orthonormal DCT-II; ``[n_mfcc, frames]``."""
    from scipy.fft import dct

    from sampleaudio.layers.filterbanks import mel_matrix

    mel = mel_matrix(sample_rate, n_fft, 128).astype(np.float64)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    x = np.pad(np.asarray(audio, np.float64), n_fft // 2, mode=pad_mode)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
    db = 10 * np.log10(np.maximum(power @ mel, 1e-10))
    db = np.maximum(db, db.max() - 80.0)
    return dct(db, type=2, norm="ortho", axis=-1)[:, :n_mfcc].T


def librosa_mfcc_features(clips, sample_rate: int, *, n_mfcc: int = 20, n_fft: int = 2048,
                          hop: int = 512) -> np.ndarray:
    """``[clips, 6 * n_mfcc]``: at the clips' own rate, the means then the standard deviations over time of the
    MFCCs, their deltas and double deltas by ``librosa.feature.delta`` (Savitzky-Golay, width 9): a common
    MFCC baseline, not Choi 2017's (:func:`choi2017_mfcc_features`)."""
    from scipy.signal import savgol_filter

    out = []
    for audio in clips:
        audio = np.asarray(audio, np.float64)
        if audio.size < n_fft // 2 + 1:
            audio = np.resize(audio, n_fft // 2 + 1)  # tile, as everywhere
        coefficients = _mfcc(audio, sample_rate, n_mfcc, n_fft, hop, "constant")
        width = min(9, coefficients.shape[1] - (1 - coefficients.shape[1] % 2))
        if width >= 3:
            deltas = [savgol_filter(coefficients, width, 1, deriv=d, axis=-1, mode="interp") for d in (1,)]
            deltas.append(savgol_filter(coefficients, width, 2, deriv=2, axis=-1, mode="interp"))
        else:
            deltas = [np.zeros_like(coefficients)] * 2
        stack = np.concatenate([coefficients, *deltas])
        out.append(np.concatenate([stack.mean(axis=1), stack.std(axis=1)]))
    return np.asarray(out, np.float32)


#: Choi 2017's input: 12 kHz, the first 29 s (``easy_feature_extraction.py``, ``utils_featext.py``)
CHOI2017_RATE, CHOI2017_SECONDS = 12000, 29.0


def _at_12k(audio, sample_rate: int) -> np.ndarray:
    from sampleaudio.audio import resample

    audio = np.asarray(audio, np.float32)
    if sample_rate != CHOI2017_RATE:
        audio = resample(audio, sample_rate, CHOI2017_RATE)
    return audio[:int(CHOI2017_SECONDS * CHOI2017_RATE)]


def choi2017_mfcc_features(clips, sample_rate: int, *, n_mfcc: int = 20) -> np.ndarray:
    """``[clips, 6 * n_mfcc]``, Choi 2017's MFCC baseline (``utils_featext.py``, ``_path_to_mfccs``): the clip at
    12 kHz, its first 29 s, ``librosa.feature.mfcc(y, 12000, n_mfcc=20)`` of librosa 0.5 (n_fft 2,048, hop 512,
    centred frames padded by reflection, 128 Slaney mels to 6 kHz, ``logamplitude`` with top 80 dB, orthonormal
    DCT), deltas as first differences ``d = m[:, 1:] - m[:, :-1]``, ``dd = d[:, 1:] - d[:, :-1]``, and ``[mean(m),
    std(m), mean(d), std(d), mean(dd), std(dd)]``. Resampling is soxr HQ here (librosa's resampy there)."""
    out = []
    for audio in clips:
        audio = _at_12k(audio, sample_rate).astype(np.float64)
        if audio.size < 1024:
            audio = np.pad(audio, (0, 1024 - audio.size))  # librosa needs a frame's worth
        m = _mfcc(audio, CHOI2017_RATE, n_mfcc, 2048, 512, "reflect")
        d = m[:, 1:] - m[:, :-1]
        dd = d[:, 1:] - d[:, :-1]
        stats = []
        for block in (m, d, dd):
            stats += [block.mean(axis=1), block.std(axis=1)] if block.shape[1] else [np.zeros(n_mfcc)] * 2
        out.append(np.concatenate(stats))
    return np.asarray(out, np.float32)


def choi2017_inputs(clips, sample_rate: int) -> list[tuple[np.ndarray, int]]:
    """Each clip as the authors' extractor feeds the convnet (``load_audio``): at 12 kHz, its first 29 s, a
    shorter clip zero-padded to 29 s (not tiled); ``(audio, 12000)`` pairs for :func:`layer_features`."""
    n = int(CHOI2017_SECONDS * CHOI2017_RATE)
    out = []
    for audio in clips:
        audio = _at_12k(audio, sample_rate)
        out.append((np.pad(audio, (0, n - audio.size)) if audio.size < n else audio, CHOI2017_RATE))
    return out


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
        smallest = int(np.unique(labels, return_counts=True)[1].min())  # of the classes present
        folds = StratifiedKFold(n_splits=max(2, min(cv, smallest)), shuffle=True, random_state=seed)
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


def choi2017_folds(labels, n_folds: int = 10) -> np.ndarray:
    """The fold of each clip under scikit-learn 0.18/0.19's ``StratifiedKFold(n_folds, shuffle=False)`` (what
    ``GridSearchCV(cv=10)`` used in 2017): each class's clips, in their order, cut by ``KFold`` into ``n_folds``
    contiguous runs, the first ``count % n_folds`` one clip longer. (Later scikit-learn allocates the folds
    otherwise.)"""
    labels = np.asarray(labels)
    folds = np.empty(labels.size, np.int64)
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        n = where.size
        sizes = np.full(n_folds, n // n_folds)
        sizes[:n % n_folds] += 1
        folds[where] = np.repeat(np.arange(n_folds), sizes)
    return folds


@functools.cache
def _optional_scaler():
    from sklearn.base import BaseEstimator, TransformerMixin
    from sklearn.preprocessing import StandardScaler

    class OptionalStandardScaler(BaseEstimator, TransformerMixin):
        """The original's ``OptionalStandardScaler``: a StandardScaler whose use (``on``) is a grid parameter."""

        def __init__(self, on: bool = False):
            self.on = on

        def fit(self, x, y=None):
            if self.on:
                self.scaler_ = StandardScaler().fit(x)
            return self

        def transform(self, x):
            return self.scaler_.transform(x) if self.on else x

    return OptionalStandardScaler


def cross_validate_svm(x: np.ndarray, y: np.ndarray, *, folds=None, n_folds: int = 10, grid: list | None = None,
                       n_jobs: int = 1) -> SvmResult:
    """Choi 2017's protocol (see the module docstring) on every clip ``x`` with labels ``y`` (one-hot ``[N, C]`` or
    class indices ``[N]``) in the dataset's order: ``folds`` (a dataset's own, e.g. UrbanSound8K's 1-10) or
    :func:`choi2017_folds`. Returns the best grid point's CV accuracy, folds weighted by their size (scikit-learn's
    ``iid=True`` of 2017), as both ``score`` and ``cv_score``: selection and estimate use the same folds."""
    from sklearn.model_selection import GridSearchCV, PredefinedSplit
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    y = np.asarray(y)
    labels = y.argmax(axis=1) if y.ndim == 2 else y
    if y.ndim == 2 and (y.sum(axis=1) != 1).any():
        raise ParameterError("the cross-validated SVM of Choi 2017 is single-label (one class per clip)")
    predefined = folds is not None
    folds = np.asarray(folds) if predefined else choi2017_folds(labels, n_folds)
    grid = [{"stdd__on": [True, False], **g} for g in (grid or SVC_GRID)]
    pipe = Pipeline([("stdd", _optional_scaler()()), ("svc", SVC())])
    search = GridSearchCV(pipe, grid, cv=PredefinedSplit(folds), scoring="accuracy", n_jobs=n_jobs,
                          refit=False).fit(x, labels)
    res = search.cv_results_
    split = PredefinedSplit(folds)
    sizes = np.array([test.size for _, test in split.split()], np.float64)
    scores = np.stack([res[f"split{k}_test_score"] for k in range(sizes.size)], axis=1)
    weighted = scores @ sizes / sizes.sum()
    best = int(np.argmax(weighted))
    metric = (f"accuracy, CV over the dataset's {sizes.size} folds" if predefined else
              f"accuracy, {sizes.size}-fold unshuffled stratified CV") + " (the grid chosen on the same folds)"
    return SvmResult(float(weighted[best]), metric, float(weighted[best]), [res["params"][best]])


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


@dataclasses.dataclass
class TargetClips:
    """Every clip of a target store, in the order the authors' CSVs list a dataset (by class, then by clip id:
    theirs listed each class folder's files in directory order): ``audio``, ``labels [N, C]``, ``sample_rate``,
    ``splits`` (each clip's), ``ids`` and ``folds`` (the store's ``fold`` feature, e.g. UrbanSound8K's predefined
    folds, or ``None``)."""

    audio: list
    labels: np.ndarray
    sample_rate: int
    splits: np.ndarray
    ids: list[str]
    folds: np.ndarray | None


def read_all(data_dir: str | Store) -> TargetClips:
    """Every clip of a store (a path, or a store already opened), all splits (:class:`TargetClips`)."""
    from sampleaudio.pipeline import read_clips
    from sampleaudio.stores import SPLITS, open_store

    store = open_store(data_dir)
    has_fold = any(f.name == "fold" for f in store.declared_features)
    rows = []
    for split in SPLITS:
        for ex in read_clips(store, split).as_numpy_iterator():
            rows.append((int(np.argmax(ex["labels"])), ex["clip_id"].decode(), ex["audio"], ex["labels"], split,
                         int(ex["fold"]) if has_fold else None))
    rows.sort(key=lambda r: (r[0], r[1]))
    return TargetClips([r[2] for r in rows], np.asarray([r[3] for r in rows], np.float32), store.sample_rate,
                       np.asarray([r[4] for r in rows]), [r[1] for r in rows],
                       np.asarray([r[5] for r in rows]) if has_fold else None)
