"""The in-graph constant-Q transform of the Oramas 2018 family against ``librosa.cqt``.

Tolerance (stated in the docs page): on the magnitude, every cell within 1 % of the clip's largest magnitude
away from the first and last two frames (within 3 % there: librosa's soxr and the halving filter here treat the
signal's edges differently); on ``power_to_db(|C|^2, ref=max)`` (the authors' compression), over the cells above
-60 dB, a mean absolute difference below 0.1 dB and a 99th percentile below 1 dB. The only step that is not
librosa's is the halving filter (soxr there, a Kaiser-windowed sinc here).
"""

from __future__ import annotations

import glob

import numpy as np
import pytest

from sampleaudio.errors import ParameterError
from sampleaudio.families.oramas2018.cqt import C1, ConstantQ, cqt_filter_banks, halving_filter

librosa = pytest.importorskip("librosa")

#: librosa >= 0.10 derives the filter bandwidth otherwise than 0.6: this filter_scale gives 0.6's lengths
LIBROSA06_SCALE = ((2 ** (2 / 12) - 1) / (2 ** (2 / 12) + 1)) / (2 ** (1 / 12) - 1)
RECORDINGS = sorted(glob.glob("/usr/share/sonic-pi/samples/*.flac"))


def reference(y: np.ndarray, convention: str) -> np.ndarray:
    """librosa's CQT with the authors' arguments, in the given convention (0.6's through filter_scale)."""
    if convention == "librosa":
        return np.abs(librosa.cqt(y, sr=22050, hop_length=1024, n_bins=96)).T
    return np.abs(librosa.cqt(y, sr=22050, hop_length=1024, n_bins=96, filter_scale=LIBROSA06_SCALE,
                              pad_mode="reflect")).T


def assert_close(ours: np.ndarray, ref: np.ndarray) -> None:
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() <= 0.03 * ref.max()  # every frame
    inner = slice(2, -2)  # away from the clip's edges, where the halving filters' own edges differ
    assert np.abs(ours[inner] - ref[inner]).max() <= 0.01 * ref.max()
    db = librosa.power_to_db(ours ** 2, ref=np.max(ref ** 2))
    db_ref = librosa.power_to_db(ref ** 2, ref=np.max)
    loud = db_ref > -60
    err = np.abs(db - db_ref)[loud]
    assert err.mean() < 0.1 and np.percentile(err, 99) < 1.0, (err.mean(), np.percentile(err, 99))


def signal(seconds: float = 4.0, seed: int = 0) -> np.ndarray:
    """A chirp from 40 Hz to 7 kHz, two steady tones and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 22050)) / 22050
    chirp = np.sin(2 * np.pi * 40 * seconds / np.log(7000 / 40) * ((7000 / 40) ** (t / seconds) - 1))
    return (0.3 * chirp + 0.2 * np.sin(2 * np.pi * 261.63 * t) + 0.1 * np.sin(2 * np.pi * 3520 * t)
            + 0.01 * rng.standard_normal(t.shape)).astype(np.float32)


@pytest.mark.parametrize("convention,pad_mode", [("librosa", "constant"), ("librosa0.6", "reflect")])
def test_the_layer_is_librosas_cqt_on_generated_audio(convention, pad_mode):
    y = signal()
    layer = ConstantQ(convention=convention, pad_mode=pad_mode, compression="magnitude")
    ours = layer(y[None, :, None]).numpy()[0]
    assert ours.shape == (1 + len(y) // 1024, 96)
    assert_close(ours, reference(y, convention))


def test_a_tone_peaks_at_its_bin_and_the_conventions_differ():
    """A4 (440 Hz) is bin 45 above C1; the two conventions' filters differ in width (librosa 0.6's are 3 %
    longer), so their outputs differ, and comparing with the wrong one fails the tolerance."""
    t = np.arange(2 * 22050) / 22050
    y = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    old = ConstantQ(compression="magnitude")(y[None, :, None]).numpy()[0]
    new = ConstantQ(convention="librosa", pad_mode="constant", compression="magnitude")(y[None, :, None]).numpy()[0]
    assert int(np.argmax(old[10])) == 45 == int(np.argmax(new[10]))
    with pytest.raises(AssertionError):
        assert_close(new, reference(y, "librosa0.6"))


def test_the_db_output_is_power_to_db_with_the_clips_maximum():
    y = signal(2.0, seed=1)
    mag = ConstantQ(compression="magnitude")(y[None, :, None]).numpy()[0]
    db = ConstantQ()(y[None, :, None]).numpy()[0]
    np.testing.assert_allclose(db, librosa.power_to_db(mag ** 2, ref=np.max, top_db=80), atol=1e-3)
    assert db.max() == pytest.approx(0.0, abs=1e-4) and db.min() >= -80.0 - 1e-4
    louder = ConstantQ()(4 * y[None, :, None]).numpy()[0]  # ref=max: the level does not matter
    np.testing.assert_allclose(louder, db, atol=1e-2)


def test_each_example_of_a_batch_is_its_own():
    a, b = signal(2.0, 2), 0.01 * signal(2.0, 3)
    both = ConstantQ()(np.stack([a, b])[..., None]).numpy()
    alone = ConstantQ()(b[None, :, None]).numpy()[0]
    np.testing.assert_allclose(both[1], alone, atol=1e-3)


def test_the_filter_banks_and_the_halving_filter():
    banks, early, lengths = cqt_filter_banks(sample_rate=22050, hop=1024, fmin=C1, n_bins=96, bins_per_octave=12)
    assert early == 0 and len(banks) == 8 and [b.hop for b in banks] == [1024 // 2 ** i for i in range(8)]
    assert banks[0].bins == slice(84, 96) and banks[-1].bins == slice(0, 12)
    assert lengths[0] == pytest.approx(22050 / C1 / (2 ** (1 / 12) - 1))  # the authors' Q = 1 / (2^(1/12) - 1)
    response = np.abs(np.fft.rfft(halving_filter(), 8192))
    f = np.linspace(0, 0.5, len(response))
    assert np.all(np.abs(20 * np.log10(response[f <= 0.19])) < 0.001)  # every octave's band: flat
    assert 20 * np.log10(response[f >= 0.31].max()) < -100  # what would alias into it: gone
    with pytest.raises(ParameterError, match="Nyquist"):
        ConstantQ(sample_rate=8000)


def test_the_layer_round_trips_through_its_config():
    layer = ConstantQ(convention="librosa", pad_mode="constant", compression="magnitude")
    copy = ConstantQ.from_config(layer.get_config())
    y = signal(1.5)[None, :, None]
    np.testing.assert_array_equal(copy(y).numpy(), layer(y).numpy())


@pytest.mark.slow
@pytest.mark.skipif(not RECORDINGS, reason="no real recordings (Debian's sonic-pi-samples) on this machine")
@pytest.mark.parametrize("convention,pad_mode", [("librosa", "constant"), ("librosa0.6", "reflect")])
def test_the_layer_is_librosas_cqt_on_real_recordings(convention, pad_mode):
    layer = ConstantQ(convention=convention, pad_mode=pad_mode, compression="magnitude")
    checked = 0
    for path in RECORDINGS[::3]:  # loops, ambiences, drums, instruments: every third long enough one
        y, _ = librosa.load(path, sr=22050, duration=15)
        if len(y) < 2 * 22050:
            continue
        assert_close(layer(y[None, :, None]).numpy()[0], reference(y, convention))
        checked += 1
        if checked == 8:
            break
    assert checked == 8
