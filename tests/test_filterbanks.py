"""The Park 2018 mel front end against librosa (a test-only dependency: the ``test`` extra)."""

import keras
import numpy as np
import pytest

from sampleaudio.layers.filterbanks import (
    SlaneyMelSpectrogram,
    hz_to_mel_slaney,
    mel_to_hz_slaney,
    slaney_mel_matrix,
)

librosa = pytest.importorskip("librosa", reason="librosa is in the `test` extra: pip install -e .[test]")


def librosa_logmel(y, pad_mode):
    """The authors' mp3s_to_mel.py recipe, with the padding mode made explicit."""
    spec = np.abs(librosa.stft(y, n_fft=1024, hop_length=512, win_length=1024, center=True, pad_mode=pad_mode))
    mel = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=128).dot(spec)
    return np.log10(1 + 10 * mel).T


def synthetic_audio(seconds=2.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 22050)) / 22050
    chirp = 0.4 * np.sin(2 * np.pi * (100 * t + 2000 * t ** 2))
    clicks = np.zeros_like(t)
    clicks[::5000] = 0.9
    return (chirp + clicks + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def rendered_music(seconds=2.0):
    """Real instrument recordings: piano, bass and drums from the TimGM6mb General MIDI soundfont."""
    pytest.importorskip("tinysoundfont", reason="needs the `synth` extra")
    pytest.importorskip("pretty_midi", reason="needs the `synth` extra")
    from sampleaudio.data_prep.synthetic.render import Note, render_notes

    notes = [Note(0.25 * k, 0.4, 60 + (k * 5) % 12, 90, 0) for k in range(8)]
    notes += [Note(0.5 * k, 0.5, 36 + k % 3, 100, 33) for k in range(4)]
    notes += [Note(0.25 * k, 0.1, 36 if k % 2 == 0 else 38, 110, 0, drums=True) for k in range(8)]
    return render_notes(notes, seconds)


def test_slaney_scale_and_matrix_match_librosa():
    hz = np.array([0.0, 440.0, 999.0, 1000.0, 4000.0, 11025.0])
    np.testing.assert_allclose(hz_to_mel_slaney(hz), librosa.hz_to_mel(hz, htk=False), rtol=1e-12)
    np.testing.assert_allclose(mel_to_hz_slaney(hz_to_mel_slaney(hz)), hz, rtol=1e-12)
    ours = slaney_mel_matrix(22050, 1024, 128)
    theirs = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=128)
    assert ours.shape == theirs.shape == (128, 513) and ours.dtype == np.float32
    assert np.max(np.abs(ours - theirs)) < 1e-8  # measured: 3.7e-9 (float32 rounding of the same float64 maths)
    small = slaney_mel_matrix(16000, 512, 40, fmin=50.0, fmax=7000.0)
    np.testing.assert_allclose(small, librosa.filters.mel(sr=16000, n_fft=512, n_mels=40, fmin=50.0, fmax=7000.0),
                               atol=1e-9)


@pytest.mark.parametrize("source", ["synthetic", "music"])
@pytest.mark.parametrize("pad_mode", ["reflect", "constant"])
def test_log_mel_matches_librosa(source, pad_mode):
    y = synthetic_audio() if source == "synthetic" else rendered_music()
    layer = SlaneyMelSpectrogram(pad_mode=pad_mode)
    ours = np.asarray(layer(y[None, :, None]))[0]
    theirs = librosa_logmel(y, pad_mode)
    assert ours.shape == theirs.shape == (1 + y.size // 512, 128)
    # measured max abs difference: 4.2e-7 (synthetic) and 2.4e-7 (music), on log10(1 + 10 mel) values up to
    # 1.5 (float32 FFT rounding). The bound leaves a 10x margin and is far below a wrong window/pad/scale (>1e-2).
    assert np.max(np.abs(ours - theirs)) < 5e-6
    if pad_mode == "reflect":  # the padding mode matters at the edges only, and the test can tell them apart
        other = librosa_logmel(y, "constant")
        assert np.max(np.abs(ours[0] - other[0])) > 1e-3


def test_standardisation_and_serialisation(tmp_path):
    y = synthetic_audio(0.5)[None, :, None]
    layer = SlaneyMelSpectrogram(mean=0.22620339, std=0.25794547)
    plain = np.asarray(SlaneyMelSpectrogram()(y))
    np.testing.assert_allclose(np.asarray(layer(y)), (plain - 0.22620339) / 0.25794547, rtol=1e-5, atol=1e-5)
    inp = keras.Input((None, 1))
    model = keras.Model(inp, layer(inp))
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(restored.predict(y, verbose=0), model.predict(y, verbose=0))
    assert restored.layers[-1].get_config()["pad_mode"] == "reflect"
    with pytest.raises(ValueError, match="pad_mode"):
        SlaneyMelSpectrogram(pad_mode="edge")
