"""Choi 2017's source convnet (``keunwoochoi/transfer_learning_music``; kapre at a3bde3e, Keras 1.2.2 / Theano)
against an independent numpy forward pass of the original's equations on shared random weights, front end
included, and its features: each block's output after BN, ELU and max-pool, averaged, and the five concatenated."""

import numpy as np
import pytest
from model_checks import run_model_checks

from sampleaudio.families.choi2017.model import (
    FEATURE_LAYERS,
    POOLS,
    Choi2017Melgram,
    choi2017_convnet,
    convnet_feature,
)


def kapre_melgram_db(x: np.ndarray, mel: np.ndarray, n_fft: int = 512, hop: int = 256) -> np.ndarray:
    """kapre's ``Melspectrogram(return_decibel_melgram=True)`` of one clip, ``[96, frames]``: DFT kernels windowed
    by ``scipy.signal.hann(n, sym=False)``, convolved with stride ``hop`` under Theano's ``'same'`` (``'half'``:
    ``n_fft // 2`` zeros each side, the output cut to ``ceil(len / hop)`` frames), ``re^2 + im^2``, ``dot`` with the
    mel matrix, ``10 log10(max(x, 1e-10))`` minus the maximum, floored at -80."""
    padded = np.pad(np.asarray(x, np.float64), n_fft // 2)
    frames = -(-x.size // hop)
    n = np.arange(n_fft)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)
    k = np.arange(n_fft // 2 + 1)[:, None]
    real, imag = np.cos(2 * np.pi * k * n / n_fft) * window, np.sin(2 * np.pi * k * n / n_fft) * window
    chunks = np.stack([padded[t * hop:t * hop + n_fft] for t in range(frames)], axis=1)  # [n_fft, frames]
    power = (real @ chunks) ** 2 + (imag @ chunks) ** 2
    db = 10 * np.log10(np.maximum(mel @ power, 1e-10))
    return np.maximum(db - db.max(), -80.0)


def theano_convnet(spec: np.ndarray, weights: dict) -> tuple[list[np.ndarray], np.ndarray]:
    """``get_convBNeluMPdrop`` over ``[1, 96, frames]``: 5 x (conv 3x3 'same' -> BN(eps 1e-3) -> ELU -> max-pool
    (f, t)); returns the five features (mean over freq and time of each pool's output) and the sigmoid output."""
    x, features = spec, []
    for k, (pf, pt) in enumerate(POOLS, start=1):
        w, b = weights[f"block{k}_conv"]
        padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
        win = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
        x = np.einsum("cftij,ocij->oft", win, w, optimize=True) + b[:, None, None]
        gamma, beta, mean, var = weights[f"block{k}_bn"]
        x = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-3) * gamma[:, None, None] + beta[:, None, None]
        x = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
        c, f, t = x.shape
        x = x[:, :f // pf * pf, :t // pt * pt].reshape(c, f // pf, pf, t // pt, pt).max(axis=(2, 4))
        features.append(x.mean(axis=(1, 2)))
    dense_w, dense_b = weights["logit"]
    return features, 1 / (1 + np.exp(-(dense_w.T @ x.reshape(-1) + dense_b)))


def _randomised(segment):
    model = choi2017_convnet(50, segment)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        w = layer.get_weights()
        if layer.name.endswith("_bn"):
            c = w[0].shape
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.normal(0, 0.1, c),
                               rng.normal(-30 if layer.name == "block1_bn" else 0, 1, c), rng.uniform(0.05, 0.5, c)])
        elif layer.name.endswith("_conv") or layer.name == "logit":
            layer.set_weights([w[0], rng.normal(0, 0.1, w[1].shape)])
    return model


def test_the_keras_convnet_computes_the_originals_equations():
    librosa = pytest.importorskip("librosa")
    segment = 12000 * 29
    model = _randomised(segment)
    rng = np.random.default_rng(1)
    t = np.arange(segment) / 12000
    x = np.stack([0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(segment),
                  0.1 * rng.standard_normal(segment) * (t < 20)])  # the second ends in silence, as zero-padding
    outs = convnet_feature(model)(x[..., None].astype(np.float32), training=False)
    probs = np.asarray(model(x[..., None].astype(np.float32), training=False))
    mel = librosa.filters.mel(sr=12000, n_fft=512, n_mels=96, fmin=0.0, fmax=6000.0, htk=False, norm="slaney")
    weights = {}
    for layer in model.layers:  # Keras [t, f, in, out] over [time, freq, ch] -> the original's [out, in, f, t]
        w = [np.asarray(v, np.float64) for v in layer.get_weights()]
        if layer.name.endswith("_conv"):
            weights[layer.name] = (w[0].transpose(3, 2, 1, 0), w[1])
        elif layer.name.endswith("_bn") or layer.name == "logit":
            weights[layer.name] = w
    for k in range(2):
        spec = kapre_melgram_db(x[k], mel)
        assert spec.shape == (96, 1360)  # the docstring's melgram size for 12000 x 29 samples
        features, prob = theano_convnet(spec[None], weights)
        for j in range(5):
            np.testing.assert_allclose(np.asarray(outs[j])[k], features[j], rtol=1e-4, atol=1e-5 * np.abs(
                features[j]).max())
        np.testing.assert_allclose(np.asarray(outs[5])[k], np.concatenate(features), rtol=1e-4,
                                   atol=1e-5 * np.abs(features[4]).max())
        np.testing.assert_allclose(probs[k], prob, atol=1e-5)
    assert np.asarray(outs[5]).shape == (2, 160)


def test_features_are_taken_after_bn_elu_and_pool_per_clip():
    """The named feature layers are the blocks' max-pools (the authors' ``conv_until`` break comes after the pool);
    the decibel maximum is each clip's own, so a clip's feature does not depend on the rest of its batch."""
    model = _randomised(12000 * 28)
    assert FEATURE_LAYERS == tuple(f"block{k}_pool" for k in range(1, 6))
    names = [layer.name for layer in model.layers]
    assert [names[names.index(f"block{k}_pool") - 1] for k in range(1, 6)] == [f"block{k}_elu" for k in range(1, 6)]
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal((1, 12000 * 28, 1)).astype(np.float32) * s for s in (0.01, 0.5))
    feature = convnet_feature(model)
    alone = np.asarray(feature(a, training=False)[5])
    together = np.asarray(feature(np.concatenate([a, b]), training=False)[5])
    # equal up to float32 summation order (a batch dependence would move features by their own size)
    np.testing.assert_allclose(together[0], alone[0], rtol=1e-5, atol=1e-5 * np.abs(alone[0]).max())


def test_the_front_end_keeps_ceil_frames_and_floors_at_80_db():
    layer = Choi2017Melgram()
    for samples, frames in ((348000, 1360), (256 * 100, 100), (256 * 100 + 1, 101)):
        assert layer(np.zeros((1, samples, 1), np.float32)).shape == (1, frames, 96)
    x = np.zeros((1, 25600, 1), np.float32)
    x[0, 12800] = 1.0  # a click: most frames silent
    db = np.asarray(layer(x))
    assert db.max() == pytest.approx(0.0, abs=1e-5) and db.min() == pytest.approx(-80.0)


def test_standard_model_checks(tmp_path):
    """Config and ``.keras`` round trips, an eager call, a fit step and mixed precision, at the shortest input."""
    x = (0.1 * np.random.default_rng(0).standard_normal((2, 327425, 1))).astype(np.float32)
    y = np.array([[1, 0, 1], [0, 1, 0]], np.float32)
    model = run_model_checks(lambda: choi2017_convnet(3, 327425), x, y, tmp_path, atol=1e-5)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == (
        (9 * 32 + 32) + 4 * (9 * 32 * 32 + 32) + 5 * 64 + (32 * 3 + 3))
