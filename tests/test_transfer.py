"""Choi 2017 transfer: layer features of any model, the MFCC baseline, the grid-searched SVM."""

import importlib.util

import keras
import numpy as np
import pytest

from sampleaudio.inference import Tagger
from sampleaudio.transfer import (
    choi2017_folds,
    choi2017_inputs,
    choi2017_mfcc_features,
    cross_validate_svm,
    default_layers,
    fit_svm,
    layer_features,
    librosa_mfcc_features,
)

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


def test_librosa_mfcc_baseline_matches_librosa():
    librosa = pytest.importorskip("librosa")
    x = np.random.default_rng(0).standard_normal(22050).astype(np.float32) * 0.1
    m = librosa.feature.mfcc(y=x, sr=22050, n_mfcc=20)
    stack = np.concatenate([m, librosa.feature.delta(m), librosa.feature.delta(m, order=2)])
    ref = np.concatenate([stack.mean(axis=1), stack.std(axis=1)])
    np.testing.assert_allclose(librosa_mfcc_features([x], 22050)[0], ref, atol=1e-3)


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


def test_features_are_taken_after_bn_activation_and_pool():
    """``easy_feature_extraction.py`` builds the net up to block k and breaks after its ``MaxPooling2D``: a
    block's feature is its output after BN, ELU and pooling, averaged; a conv with no pool after its activation
    gives the activation's output."""
    inp = keras.Input((400, 1))
    x = keras.layers.Conv1D(3, 4, strides=2, name="conv_a")(inp)
    x = keras.layers.BatchNormalization(name="bn_a")(x)
    x = keras.layers.ELU(name="elu_a")(x)
    x = keras.layers.MaxPooling1D(4, name="pool_a")(x)
    x = keras.layers.Conv1D(5, 2, name="conv_b")(x)
    x = keras.layers.ReLU(name="relu_b")(x)
    out = keras.layers.Dense(2, activation="sigmoid")(keras.layers.GlobalMaxPooling1D()(x))
    model = keras.Model(inp, out)
    for layer in model.layers:  # non-trivial statistics, so that skipping the BN would show
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([np.full(3, 2.0), np.full(3, -0.5), np.full(3, 0.3), np.full(3, 4.0)])
    assert default_layers(model) == ["pool_a", "relu_b"]
    tagger = Tagger(model, ["a", "b"], segment=400, mean=0.0, std=1.0, sample_rate=8000)
    audio = np.random.default_rng(0).standard_normal(400).astype(np.float32)
    x, columns = layer_features([(audio, 8000)], tagger)
    pool = keras.Model(model.inputs, model.get_layer("pool_a").output)(audio[None, :, None])
    np.testing.assert_allclose(x[0, columns["pool_a"]], np.asarray(pool).mean(axis=(0, 1)), rtol=1e-5, atol=1e-6)
    from sampleaudio.families.choi2017.model import FEATURE_LAYERS, choi2017_convnet

    assert default_layers(choi2017_convnet(3)) == list(FEATURE_LAYERS)


def test_choi2017_mfcc_is_first_differences_at_12khz():
    """``utils_featext.py``: ``librosa.load(sr=12000, duration=29)``, ``librosa.feature.mfcc(src, 12000, n_mfcc=20)``
    (librosa 0.5: reflection padding, ``logamplitude`` with top_db 80), ``dmfcc = mfcc[:, 1:] - mfcc[:, :-1]``,
    ``ddmfcc = dmfcc[:, 1:] - dmfcc[:, :-1]``, then mean and std of each in turn."""
    librosa = pytest.importorskip("librosa")
    from scipy.fft import dct

    from sampleaudio.audio import resample

    rng = np.random.default_rng(0)
    t = np.arange(22050 * 31) / 22050
    x = (0.3 * np.sin(2 * np.pi * 330 * t * (1 + 0.1 * np.sin(t))) + 0.02 * rng.standard_normal(t.size))
    x = x.astype(np.float32)
    y = resample(x, 22050, 12000)[:12000 * 29].astype(np.float64)  # 12 kHz, the first 29 s
    mel = librosa.feature.melspectrogram(y=y, sr=12000, n_fft=2048, hop_length=512, n_mels=128, pad_mode="reflect")
    m = dct(librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0), type=2, norm="ortho", axis=0)[:20]
    d = m[:, 1:] - m[:, :-1]
    dd = d[:, 1:] - d[:, :-1]
    hand = np.concatenate([m.mean(1), m.std(1), d.mean(1), d.std(1), dd.mean(1), dd.std(1)])
    ours = choi2017_mfcc_features([x], 22050)[0]
    assert ours.shape == (120,)
    np.testing.assert_allclose(ours, hand, rtol=1e-4, atol=1e-3)
    # the other baseline (Savitzky-Golay deltas, the clip's rate, a different column order) is another feature
    assert not np.allclose(librosa_mfcc_features([x], 22050)[0], ours, atol=1e-2)


def test_choi2017_inputs_are_29_s_at_12khz_zero_padded():
    short = np.ones(22050, np.float32)
    (audio, rate), = choi2017_inputs([short], 22050)
    assert rate == 12000 and audio.size == 348000
    assert np.abs(audio[:11000]).min() > 0.5 and not audio[13000:].any()  # zeros after the clip, not a repeat
    (long, _), = choi2017_inputs([np.ones(22050 * 40, np.float32)], 22050)
    assert long.size == 348000


def test_choi2017_folds_are_sklearn_019s_unshuffled_stratified_folds():
    """Each class in its order cut into 10 contiguous runs, the first ``count % 10`` one longer (KFold per class,
    scikit-learn 0.19): Ballroom's 23 West Coast Swing clips give runs of 3, 3, 3, 2, ..."""
    labels = np.array([0] * 23 + [1] * 20 + [0] * 0)
    folds = choi2017_folds(labels)
    assert folds[:23].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2] + [k for k in range(3, 10) for _ in range(2)]
    assert folds[23:].tolist() == [k for k in range(10) for _ in range(2)]


def test_cross_validated_svm_is_the_originals_grid_search():
    """``2_main_knn_svm_transfer.py``: the scaler on/off is part of the grid, the score is the best grid point's
    mean accuracy over the folds weighted by fold size (``iid=True``), chosen on the same folds; UrbanSound8K's
    predefined folds when given. By hand with one grid point per scaler setting."""
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], [14, 11, 9])
    x = np.eye(3)[labels] * 1.5 + rng.standard_normal((labels.size, 3)) + np.array([0, 0, 40.0])
    folds = rng.integers(1, 4, labels.size)  # 3 uneven predefined folds
    grid = [{"svc__kernel": ["linear"], "svc__C": [0.1]}]
    found = cross_validate_svm(x, labels, folds=folds, grid=grid)
    hand = {}
    for on in (True, False):
        correct = 0
        for f in (1, 2, 3):
            train, test = folds != f, folds == f
            xt, xs = x[train], x[test]
            if on:
                scaler = StandardScaler().fit(xt)
                xt, xs = scaler.transform(xt), scaler.transform(xs)
            correct += int((SVC(kernel="linear", C=0.1).fit(xt, labels[train]).predict(xs) == labels[test]).sum())
        hand[on] = correct / labels.size
    assert found.score == pytest.approx(max(hand.values())) and found.cv_score == found.score
    assert found.params[0]["stdd__on"] == max(hand, key=hand.get)
    assert "3 folds" in found.metric
    ten = cross_validate_svm(x, np.eye(3)[labels], grid=grid)
    assert "10-fold unshuffled stratified" in ten.metric and 0.0 <= ten.score <= 1.0
    with pytest.raises(Exception, match="single-label"):
        cross_validate_svm(x, np.ones((labels.size, 3)), grid=grid)
