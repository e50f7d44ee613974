"""musicnn ported to Keras 3 with its released weights: the front end, every named layer and the clip tags
against the original (its TF1 graph run in its own process where tf-keras is importable, and an independent
numpy forward pass of the checkpoint everywhere the wheel is installed)."""

import importlib.util
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import soundfile as sf

from sampleaudio.errors import ParameterError
from sampleaudio.families.musicnn import model as mn
from sampleaudio.layers.filterbanks import mel_matrix
from sampleaudio.layers.spectral import MelFrontEnd, musicnn_log

HERE = os.path.dirname(__file__)
HAS_WHEEL = importlib.util.find_spec("musicnn") is not None
HAS_TF_KERAS = importlib.util.find_spec("tf_keras") is not None
needs_wheel = pytest.mark.skipif(not HAS_WHEEL, reason="pip install --no-deps musicnn")
needs_original = pytest.mark.skipif(not (HAS_WHEEL and HAS_TF_KERAS),
                                    reason="the original musicnn graph needs tf-keras: pip install --no-deps \"tf-keras==2.21.*\"")
FEATURES = ["timbral", "temporal", "cnn1", "cnn2", "cnn3", "mean_pool", "max_pool", "penultimate", "logits"]


@pytest.fixture(scope="module", autouse=True)
def own_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SAMPLEAUDIO_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


def _music(seconds: float, peak: float, seed: int = 0) -> np.ndarray:
    """A 16 kHz test signal with pitch, onsets and noise (so that every front-end band has energy)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    notes = sum(np.sin(2 * np.pi * f * t) * (0.5 + 0.5 * np.sin(2 * np.pi * r * t) ** 8)
                for f, r in ((220, 2), (330, 3), (1250, 1.5)))
    x = notes + 0.3 * rng.standard_normal(t.size)
    return (peak * x / np.abs(x).max()).astype(np.float32)


def _close(ours, theirs, name):
    """Equal within 1e-4 of the feature's scale (max |value|, at least 1): float32 sums over up to 1,506
    inputs reorder differently in TF1 and Keras 3."""
    ours = np.asarray(ours).reshape(np.shape(theirs))
    scale = max(1.0, float(np.abs(theirs).max()))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4 * scale, err_msg=name)


def _run_original(*args) -> dict:
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    subprocess.run([sys.executable, os.path.join(HERE, "musicnn_reference.py"), *map(str, args)], env=env,
                   check=True, capture_output=True)
    with np.load(args[-1]) as data:
        return dict(data)


def _body(model, outputs):
    """The model from its log-mel input on (so both implementations see the same spectrogram)."""
    return keras.Model(model.get_layer("log_mel").output, [model.get_layer(name).output for name in outputs])


# ------------------------------------------------------------------------------------------------------------
# front end


def test_mel_matrices_match_librosa():
    librosa = pytest.importorskip("librosa")
    np.testing.assert_allclose(mel_matrix(16000, 512, 96), librosa.filters.mel(sr=16000, n_fft=512, n_mels=96).T,
                               atol=1e-7)
    np.testing.assert_allclose(mel_matrix(16000, 512, 128, htk=True, slaney_norm=False),
                               librosa.filters.mel(sr=16000, n_fft=512, n_mels=128, htk=True, norm=None).T,
                               atol=1e-6)


def test_front_end_is_musicnns_patch_with_its_float16_roundings():
    """musicnn's batch_data: librosa mel of the whole file, float16, log10(10000 x + 1) in float16, 187-frame
    patches. Segment k of ours is patch k; only frame 0 of later patches differs (it sees zeros, not the previous
    segment's tail)."""
    librosa = pytest.importorskip("librosa")
    audio = _music(2 * mn.SEGMENT / 16000, peak=0.05)
    mel = librosa.feature.melspectrogram(y=audio, sr=16000, hop_length=256, n_fft=512, n_mels=96).T
    theirs = np.log10(10000 * mel.astype(np.float16) + 1)
    assert theirs.dtype == np.float16
    ours = np.asarray(mn.musicnn_front_end()(audio.reshape(2, mn.SEGMENT, 1)))
    assert ours.shape == (2, 187, 96)
    first = np.abs(ours[0] - theirs[:187].astype(np.float32))
    second = np.abs(ours[1, 1:] - theirs[188:374].astype(np.float32))
    # equal up to a float16 rounding flip where float32 FFT round-off straddles a rounding boundary
    assert first.max() <= 2e-3 and np.mean(first > 0) < 0.01
    assert second.max() <= 2e-3 and np.mean(second > 0) < 0.01


def test_loud_input_stays_finite_where_the_original_overflows():
    power = np.array([[[0.5, 6.0, 7.0, 1e5]]], np.float32)
    with np.errstate(over="ignore"):
        theirs = np.log10(10000 * power.astype(np.float16) + 1)
    assert np.isinf(theirs[..., 2:]).all()  # musicnn: 10000 * 7 overflows float16
    ours = np.asarray(musicnn_log(power))
    assert np.isfinite(ours).all()
    np.testing.assert_array_equal(ours[..., :2], theirs[..., :2].astype(np.float32))
    np.testing.assert_allclose(ours[..., 2:], np.log10(10000 * power[..., 2:].astype(np.float64) + 1), rtol=1e-3)


def test_front_end_round_trips_through_keras_saving():
    layer = MelFrontEnd(n_mels=128, htk=True, slaney_norm=False, pad_mode="reflect", compression="db")
    clone = MelFrontEnd.from_config(layer.get_config())
    x = np.random.default_rng(0).standard_normal((1, 4096, 1)).astype(np.float32)
    assert clone(x).shape == (1, 17, 128)
    np.testing.assert_array_equal(np.asarray(clone(x)), np.asarray(layer(x)))


@pytest.mark.parametrize("variant", ["musicnn", "vgg"])
def test_standard_model_checks(variant, tmp_path):
    """Config and ``.keras`` round trips, eager call, a fit step and mixed precision (tests/model_checks.py), on
    narrow models (the released widths are checked against the checkpoint below)."""
    from model_checks import run_model_checks

    segment = 32 * mn.HOP if variant == "musicnn" else mn.SEGMENT  # the VGG's dense layer fixes its input
    x = (0.1 * np.random.default_rng(0).standard_normal((2, segment, 1))).astype(np.float32)
    y = np.array([[1, 0, 1], [0, 1, 0]], np.float32)
    build = (lambda: mn.musicnn(3, segment, midend_filters=8, backend_units=8)) if variant == "musicnn" else \
        (lambda: mn.musicnn_vgg(3, filters=8))
    run_model_checks(build, x, y, tmp_path, atol=1e-5)


# ------------------------------------------------------------------------------------------------------------
# every named layer against the original


def _numpy_musicnn(checkpoint: str, spec: np.ndarray) -> dict:
    """musicnn's forward pass written out in numpy from the checkpoint's arrays (inference mode)."""
    import tensorflow as tf
    from numpy.lib.stride_tricks import sliding_window_view

    reader = tf.compat.v1.train.NewCheckpointReader(os.path.join(mn.checkpoint_dir(checkpoint), ""))

    def get(name):
        return reader.get_tensor(name).astype(np.float64)

    def bn(x, k):
        s = "batch_normalization" + (f"_{k}" if k else "")
        return (x - get(f"{s}/moving_mean")) / np.sqrt(get(f"{s}/moving_variance") + 1e-3) * get(f"{s}/gamma") \
            + get(f"{s}/beta")

    def conv(x, k, pad_before, pad_after):  # x [B, T, F, 1], valid over frequency, ReLU
        kernel = get("conv2d" + (f"_{k}" if k else "") + "/kernel")
        kh, kw = kernel.shape[:2]
        x = np.pad(x[..., 0], ((0, 0), (pad_before, pad_after), (0, 0)))
        windows = sliding_window_view(x, (kh, kw), axis=(1, 2))  # B, T, F', kh, kw
        y = np.tensordot(windows, kernel[:, :, 0, :], axes=([3, 4], [0, 1]))
        return np.maximum(y + get("conv2d" + (f"_{k}" if k else "") + "/bias"), 0)

    x = bn(spec[..., None].astype(np.float64), 0)
    branches = [bn(conv(x, 0, 3, 3), 1).max(axis=2), bn(conv(x, 1, 3, 3), 2).max(axis=2)]
    for k, length in zip((2, 3, 4), (128, 64, 32)):
        # TF 'same' padding of a [length x 1] kernel: (length - 1) // 2 frames before, the rest after
        branches.append(bn(conv(x, k, (length - 1) // 2, length // 2), k + 1).max(axis=2))
    front = np.concatenate(branches, axis=-1)
    mid = [front]
    for k in (5, 6, 7):
        y = bn(conv(mid[-1][..., None], k, 3, 3)[:, :, 0, :], k + 1)
        mid.append(y if k == 5 else y + mid[-1])
    features = np.concatenate(mid, axis=-1)
    pooled = np.stack([features.max(axis=1), features.mean(axis=1)], axis=-1).reshape(len(spec), -1)
    hidden = bn(np.maximum(bn(pooled, 9) @ get("dense/kernel") + get("dense/bias"), 0), 10)
    logits = hidden @ get("dense_1/kernel") + get("dense_1/bias")
    return {"timbral": front[..., :408], "temporal": front[..., 408:], "cnn1": mid[1], "cnn2": mid[2],
            "cnn3": mid[3], "max_pool": features.max(axis=1), "mean_pool": features.mean(axis=1),
            "penultimate": hidden, "logits": logits}


@needs_wheel
def test_every_named_layer_matches_a_numpy_forward_pass_of_the_checkpoint():
    frames = 48  # the architecture takes any length; a short one keeps the numpy pass fast
    model = mn.musicnn(50, frames * mn.HOP)
    mn.load_checkpoint_weights(model, mn.checkpoint_dir("MTT_musicnn"), mn.VARIANTS["musicnn-mtt"].names())
    spec = np.random.default_rng(1).uniform(0, 3, (2, frames, 96)).astype(np.float32)
    ours = dict(zip(FEATURES, _body(model, FEATURES)(spec, training=False)))
    theirs = _numpy_musicnn("MTT_musicnn", spec)
    for name in FEATURES:
        _close(ours[name], theirs[name], name)


@needs_original
@pytest.mark.parametrize("name", ["musicnn-mtt", pytest.param("musicnn-msd", marks=pytest.mark.slow),
                                  "musicnn-mtt-vgg", pytest.param("musicnn-msd-vgg", marks=pytest.mark.slow)])
def test_every_named_layer_matches_the_original_graph(name, tmp_path):
    variant = mn.VARIANTS[name]
    spec = np.random.default_rng(2).uniform(0, 3.5, (2, 187, 96)).astype(np.float32)
    np.save(tmp_path / "spec.npy", spec)
    theirs = _run_original("graph", variant.checkpoint, tmp_path / "spec.npy", tmp_path / "out.npz")
    model, card = mn.load_variant(name)
    names = ([f"pool{k}" for k in range(1, 6)] + ["logits"]) if variant.kind == "vgg" else FEATURES
    outputs = _body(model, names + ["tags"])(spec, training=False)
    for layer, value in zip(names + ["tags"], outputs):
        _close(value, theirs["sigmoid" if layer == "tags" else layer], f"{name}: {layer}")


# ------------------------------------------------------------------------------------------------------------
# end to end, through the registry


@needs_original
def test_cli_tags_equal_musicnns_extractor(tmp_path):
    """`sampleaudio tag musicnn-mtt FILE` = the mean of musicnn's extractor taggram on the same 16 kHz audio.
    Patch 0 agrees to float32 round-off (1e-5). In later patches the first of 187 frames sees zeros instead of
    the previous segment's last 256 samples (segments are cut before the STFT, as for every sampleaudio model),
    and the max over time can pick that frame: clip probabilities move by up to 4e-3 on this noisy signal and
    1e-4 on a tabla loop (tolerance 5e-3); the five top tags are the same."""
    from sampleaudio.cli import main

    path = tmp_path / "song.wav"
    sf.write(path, _music(3 * mn.SEGMENT / 16000 + 0.1, peak=0.05), 16000, subtype="FLOAT")
    theirs = _run_original("extract", "MTT_musicnn", path, tmp_path / "out.npz")["taggram"]
    assert main(["tag", "musicnn-mtt", str(path), "--out", str(tmp_path / "tags.npz"), "--quiet"]) == 0
    with np.load(tmp_path / "tags.npz") as ours:
        assert list(ours["labels"]) == mn.MTT_LABELS
        assert ours["taggram_0"].shape == theirs.shape == (3, 50)
        np.testing.assert_allclose(ours["taggram_0"][0], theirs[0], atol=1e-5)
        np.testing.assert_allclose(ours["scores"][0], theirs.mean(axis=0), atol=5e-3)
        top = np.argsort(-theirs.mean(axis=0))[:5]
        assert set(np.argsort(-ours["scores"][0])[:5]) == set(top)


@needs_wheel
def test_loud_audio_gets_finite_tags():
    from sampleaudio.inference import tag

    loud = _music(4.0, peak=1.0)  # musicnn's own front end overflows float16 far below this
    result = tag([(loud, 16000), (0.05 * loud, 16000)], "musicnn-mtt")
    assert all(r.error is None for r in result)
    for r in result:
        assert np.isfinite(r.taggram).all() and (0 <= r.scores).all() and (r.scores <= 1).all()
    assert not np.allclose(result[0].scores, result[1].scores, atol=1e-3)  # loudness still matters, as trained


@needs_wheel
def test_embed_named_layers_across_batches():
    """Features stay per clip however segments are batched (musicnn's extractor returned stale cnn1..3 and
    penultimate after its first batch)."""
    from sampleaudio.inference import Tagger

    clips = [(_music(s, 0.05, seed=s), 16000) for s in (7, 3, 5)]
    tagger = Tagger.from_path("musicnn-mtt", batch_size=2)
    for layer, width in (("penultimate", 200), ("cnn2", 64)):
        batched = tagger.embed(clips, layer=layer)
        alone = [tagger.embed([clip], layer=layer)[0] for clip in clips]
        for a, b in zip(batched, alone):
            assert a.embedding.shape == (width,)
            np.testing.assert_allclose(a.segment_embeddings, b.segment_embeddings, atol=1e-5)


@needs_wheel
@pytest.mark.slow
def test_export_serves_the_same_tags(tmp_path):
    import tensorflow as tf

    from sampleaudio.export import export_run
    from sampleaudio.inference import tag

    out = export_run("musicnn-mtt", str(tmp_path / "musicnn" / "1"))
    audio = _music(6.5, 0.05)
    served = tf.saved_model.load(out).signatures["serving_default"](
        waveform=tf.constant(audio[None]), length=tf.constant([audio.size], tf.int64))
    np.testing.assert_allclose(served["probabilities"].numpy()[0], tag((audio, 16000), "musicnn-mtt")[0].scores,
                               atol=1e-5)


def test_missing_wheel_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("SAMPLEAUDIO_CACHE", str(tmp_path))  # nothing converted yet
    monkeypatch.setattr(mn.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ParameterError, match=r"pip install --no-deps musicnn"):
        mn.load_variant("musicnn-mtt")
