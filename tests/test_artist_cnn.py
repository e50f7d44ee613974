"""Park 2018 artist models: shapes, serialisation, and the authors' released weights against a numpy reference."""

import os

import h5py
import keras
import numpy as np
import pytest
from model_checks import run_model_checks

from sampleaudio.errors import ParameterError
from sampleaudio.families.artist_cnn.model import (
    PARK2018_MEAN,
    PARK2018_STD,
    ArtistBasicModel,
    ArtistEncoder,
    ArtistSiameseModel,
    ArtistSongEmbedder,
    crop_samples,
    load_park2018_artist,
)
from sampleaudio.models import load_keras2_weights

PARK2018 = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "weights", "park2018",
                        "model_siamese_10000.h5")
needs_weights = pytest.mark.skipif(not os.path.exists(PARK2018),
                                   reason="the authors' model_siamese_10000.h5 is not at ../shared/weights/park2018/")


# --- an independent numpy forward pass of the released HDF5 file --------------------------------------------

def _h5_layer(f, name):
    group = f["model_weights"][name]
    return [np.asarray(group[n], dtype=np.float64) for n in group.attrs["weight_names"]]


def numpy_encoder(path, mel, *, stop_at_relu5=False, left_pad=None):
    """Conv1D 'same' as TensorFlow pads it (even kernel k: (k-1)//2 on the left, the rest on the right), batch
    norm with eps 1e-3 from the stored moving statistics, ReLU, valid max pooling, global average pooling."""
    x = mel.astype(np.float64)
    with h5py.File(path, "r") as f:
        for i, pool in zip(range(1, 6), (4, 4, 4, 2, 1)):
            kernel, bias = _h5_layer(f, f"conv1d_{i}")
            gamma, beta, mean, var = _h5_layer(f, f"batch_normalization_{i}")
            k = kernel.shape[0]
            left = (k - 1) // 2 if left_pad is None else min(left_pad, k - 1)
            padded = np.pad(x, ((0, 0), (left, k - 1 - left), (0, 0)))
            t = x.shape[1]
            x = sum(padded[:, j:j + t] @ kernel[j] for j in range(k)) + bias
            x = (x - mean) / np.sqrt(var + 1e-3) * gamma + beta
            x = np.maximum(x, 0.0)
            if i == 5 and stop_at_relu5:
                return x
            if pool > 1:
                t = x.shape[1] // pool * pool
                x = x[:, :t].reshape(x.shape[0], t // pool, pool, x.shape[2]).max(axis=2)
    return x.mean(axis=1)


def cosine(a, b):
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


# --- architecture ---------------------------------------------------------------------------------------------

def test_encoder_shapes_names_and_parameters():
    enc = ArtistEncoder()
    shapes = {layer.name: tuple(layer.output.shape) for layer in enc.layers}
    assert [shapes[f"max_pooling1d_{i}"][1] for i in range(1, 5)] == [32, 8, 2, 1]  # papers.md Sec. 3
    assert shapes["global_average_pooling1d_1"] == (None, 256)
    # conv (k*in*out + out) + BN (4*out): 4*128*128*3 + 2*128*128 + 128*256, + biases, + BN
    assert enc.count_params() == 3 * (4 * 128 * 128 + 128) + (2 * 128 * 128 + 128) + (128 * 256 + 256) + 4 * (
        4 * 128 + 256)
    assert all(layer.kernel_regularizer.l2 == pytest.approx(1e-5) for layer in enc.layers if "conv" in layer.name)


def test_basic_model_checks_and_softmax(tmp_path):
    """The standard checks (tests/model_checks.py), and a softmax over the artists."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 128, 8)).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[[0, 1, 2, 3]]
    # 128 frames: the fewest the pools allow
    basic = run_model_checks(lambda: ArtistBasicModel(5, frames=128, n_mels=8), x, y, tmp_path,
                             loss="categorical_crossentropy", atol=1e-6)
    np.testing.assert_allclose(np.asarray(basic(x)).sum(axis=1), 1.0, rtol=1e-5)
    assert basic.output.shape == (None, 5) and basic.layers[-1].name == "artist_softmax"



def test_siamese_model_checks_and_cosines(tmp_path):
    """The standard checks with the max-margin loss, and cosine scores of the anchor with each other input."""
    from sampleaudio.losses import SiameseLoss

    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((3, 128, 8)).astype(np.float32) for _ in range(4)]
    siamese = run_model_checks(lambda: ArtistSiameseModel(num_negatives=2, frames=128, n_mels=8), xs,
                               np.zeros((3, 3), np.float32), tmp_path, loss=SiameseLoss("max_margin"), atol=1e-6)
    scores = np.asarray(siamese(xs, training=False))
    assert scores.shape == (3, 3) and np.all(np.abs(scores) <= 1 + 1e-5)


def test_waveform_input_runs_the_front_end_in_the_graph():
    enc = ArtistEncoder(frames=128, waveform_input=True)
    assert enc.input.shape == (None, crop_samples(128), 1) and crop_samples() == 65536
    assert enc.layers[1].name == "melspec" and enc.layers[1].mean == pytest.approx(PARK2018_MEAN)
    out = enc(np.zeros((1, crop_samples(128), 1), np.float32))
    assert out.shape == (1, 256)


def test_siamese_wraps_a_non_chain_encoder():
    inp = keras.Input((8, 4))
    a, b = keras.layers.Dense(3)(inp), keras.layers.Dense(3)(inp)
    enc = keras.Model(inp, keras.layers.GlobalAveragePooling1D()(keras.layers.Add()([a, b])))
    siamese = ArtistSiameseModel(enc, num_negatives=1)
    assert siamese.output.shape == (None, 2)


# --- the released weights -------------------------------------------------------------------------------------

@needs_weights
def test_released_weights_load_by_name_and_match_numpy():
    rng = np.random.default_rng(0)
    mel = rng.standard_normal((3, 129, 128)).astype(np.float32)

    enc = ArtistEncoder()
    report = load_keras2_weights(enc, PARK2018, strict=True)
    assert len(report.loaded) == 10 and not report.unused_in_file
    ours = np.asarray(enc(mel, training=False))
    reference = numpy_encoder(PARK2018, mel)
    # measured max abs difference 8.8e-6 on outputs up to 16.7 (float32 against float64)
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-4)
    # the test can fail: centring the even kernels the other way ((k/2, k/2-1) padding) changes the output
    wrong = numpy_encoder(PARK2018, mel, left_pad=2)
    assert np.max(np.abs(wrong - reference)) > 1.0  # measured 7.3

    siamese = ArtistSiameseModel()
    assert len(load_keras2_weights(siamese, PARK2018, strict=True).loaded) == 10
    items = [rng.standard_normal((2, 129, 128)).astype(np.float32) for _ in range(6)]
    scores = np.asarray(siamese(items, training=False))
    feats = [numpy_encoder(PARK2018, x) for x in items]
    np.testing.assert_allclose(scores, np.stack([cosine(feats[0], f) for f in feats[1:]], axis=1), atol=1e-5)


@needs_weights
def test_pretrained_song_feature_matches_librosa_and_numpy():
    """The whole encoding_cnn.py recipe: librosa mel (reflection padding), 10 x 129 frames of the first 1,291,
    numpy ReLU-5, max over time, mean over segments."""
    librosa = pytest.importorskip("librosa", reason="librosa is in the `test` extra")
    model, card = load_park2018_artist(PARK2018)
    assert card["segment"] == 660480 and card["clip_pooling"] == "first"
    rng = np.random.default_rng(1)
    t = np.arange(card["segment"]) / 22050
    y = (0.3 * np.sin(2 * np.pi * (220 + 30 * np.sin(t)) * t) + 0.05 * rng.standard_normal(t.size)).astype(
        np.float32)
    spec = np.abs(librosa.stft(y, n_fft=1024, hop_length=512, center=True, pad_mode="reflect"))
    mel = np.log10(1 + 10 * librosa.filters.mel(sr=22050, n_fft=1024, n_mels=128).dot(spec)).T[:1291]
    mel = (mel - PARK2018_MEAN) / PARK2018_STD
    segments = mel[:1290].reshape(10, 129, 128)
    reference = numpy_encoder(PARK2018, segments, stop_at_relu5=True).max(axis=1).mean(axis=0)
    ours = np.asarray(model(y[None, :, None], training=False))[0]
    assert ours.shape == (256,)
    # measured max abs difference 5.1e-6 on features up to 17.7
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-4)


def test_pretrained_loader_needs_a_weights_file(tmp_path):
    with pytest.raises(ParameterError, match="--weights"):
        load_park2018_artist(None)
    with pytest.raises(ParameterError, match="no such file"):
        load_park2018_artist(str(tmp_path / "missing.h5"))


def test_song_embedder_shapes():
    emb = ArtistSongEmbedder(ArtistEncoder(frames=128), segments=2, frames=128)
    assert emb.input.shape == (None, 2 * 128 * 512, 1) and emb.output.shape == (None, 256)


@needs_weights
def test_cli_embed_writes_the_song_feature(tmp_path):
    """`sampleaudio embed park2018-artist FILES --weights ... --out DIR`: one NPZ per file whose `embedding` is
    the song feature of the file's first 660,480 samples (longer files: the first window only)."""
    import soundfile as sf

    from sampleaudio.cli import main

    rng = np.random.default_rng(2)
    long = (0.2 * rng.standard_normal(660480 + 30000)).astype(np.float32)
    sf.write(tmp_path / "song.wav", long, 22050, subtype="FLOAT")
    assert main(["embed", "park2018-artist", str(tmp_path / "song.wav"), "--weights", PARK2018,
                 "--out", str(tmp_path / "emb"), "--quiet"]) == 0
    [written] = list((tmp_path / "emb").glob("*.npz"))
    got = np.load(written)["embedding"]
    model, _ = load_park2018_artist(PARK2018)
    expected = np.asarray(model(long[None, :660480, None], training=False))[0]
    assert got.shape == (256,)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
