"""Choi 2017 transfer: layer features of any model, the MFCC baseline, the grid-searched SVM."""

import importlib.util

import keras
import numpy as np
import pytest

from sampleaudio.inference import Tagger
from sampleaudio.transfer import fit_svm, layer_features, mfcc_features

SMALL_GRID = [{"svc__kernel": ["rbf"], "svc__C": [2.0], "svc__gamma": ["auto"]},
              {"svc__kernel": ["linear"], "svc__C": [0.1]}]


def _toy_tagger():
    inp = keras.Input((400, 1))
    x = keras.layers.Conv1D(3, 4, strides=4, name="conv_a")(inp)
    x = keras.layers.Conv1D(5, 2, strides=2, name="conv_b")(x)
    out = keras.layers.Dense(2, activation="sigmoid", name="out")(keras.layers.GlobalMaxPooling1D()(x))
    return Tagger(keras.Model(inp, out), ["a", "b"], segment=400, mean=0.0, std=1.0, sample_rate=8000)


def test_layer_features_average_every_conv_layer_over_time_and_segments():
    tagger = _toy_tagger()
    audio = np.random.default_rng(0).standard_normal(1200).astype(np.float32)
    x, columns = layer_features([(audio, 8000)], tagger)
    assert x.shape == (1, 8) and columns == {"conv_a": slice(0, 3), "conv_b": slice(3, 8)}
    segments = audio.reshape(3, 400, 1)
    conv_a = keras.Model(tagger.model.inputs, tagger.model.get_layer("conv_a").output)(segments)
    np.testing.assert_allclose(x[0, :3], np.asarray(conv_a).mean(axis=(0, 1)), rtol=1e-5, atol=1e-6)


def test_mfcc_baseline_matches_librosa():
    librosa = pytest.importorskip("librosa")
    x = np.random.default_rng(0).standard_normal(22050).astype(np.float32) * 0.1
    m = librosa.feature.mfcc(y=x, sr=22050, n_mfcc=20)
    stack = np.concatenate([m, librosa.feature.delta(m), librosa.feature.delta(m, order=2)])
    ref = np.concatenate([stack.mean(axis=1), stack.std(axis=1)])
    np.testing.assert_allclose(mfcc_features([x], 22050)[0], ref, atol=1e-3)


def test_svm_learns_single_and_multi_label_tasks_but_not_noise():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 10)) * 3
    labels = rng.integers(0, 3, 120)
    x = centres[labels] + rng.standard_normal((120, 10))
    y = np.eye(3)[labels]
    good = fit_svm(x[:80], y[:80], x[80:], y[80:], grid=SMALL_GRID)
    assert good.metric == "accuracy" and good.score > 0.9
    noise = fit_svm(rng.standard_normal((80, 10)), y[:80], rng.standard_normal((40, 10)), y[80:], grid=SMALL_GRID)
    assert noise.score < 0.6
    multi = np.stack([labels == 0, labels != 1], axis=1).astype(np.float32)
    tagged = fit_svm(x[:80], multi[:80], x[80:], multi[80:], grid=SMALL_GRID)
    assert tagged.metric == "macro ROC-AUC" and tagged.score > 0.9


@pytest.mark.skipif(importlib.util.find_spec("musicnn") is None, reason="pip install --no-deps musicnn")
def test_musicnn_features_are_its_named_layers(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMPLEAUDIO_CACHE", str(tmp_path))
    audio = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.05
    x, columns = layer_features([(audio, 16000)], "musicnn-mtt")
    widths = {name: s.stop - s.start for name, s in columns.items()}
    assert widths == {"timbral": 408, "temporal": 153, "cnn1": 64, "cnn2": 64, "cnn3": 64, "penultimate": 200}
    assert x.shape == (1, 953) and np.isfinite(x).all()
