import numpy as np
import pytest
import soundfile as sf

from sampleaudio import audio
from sampleaudio.errors import AudioDecodeError, ParameterError, SampleAudioError


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("audio")
    t = np.arange(44100) / 44100
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    stereo = np.stack([x, -x * 0.5], axis=1)
    out = {}
    for fmt in ("wav", "flac", "ogg", "mp3"):
        p = d / f"tone.{fmt}"
        sf.write(p, stereo, 44100)
        out[fmt] = p
    out["x"] = x
    return out


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_decodes_every_format_to_22050_mono(files, fmt):
    y = audio.load(files[fmt])
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(y.shape[0] - 22050) <= 1200  # MP3/OGG carry encoder delay/padding
    # downmix of (x, -x/2) is x/4: a 440 Hz tone of amplitude 0.5 / 4 = 0.125
    assert 0.11 < np.abs(y).max() < 0.14
    spectrum = np.abs(np.fft.rfft(y[:22050 - 2000]))
    peak_hz = np.argmax(spectrum) * 22050 / (22050 - 2000)
    assert abs(peak_hz - 440) < 3


def test_resample_is_exact_for_wav(files):
    y = audio.load(files["wav"], sr=44100)
    np.testing.assert_allclose(y, files["x"] * 0.25, atol=1e-4)


def test_offset_duration_and_multichannel(files):
    y = audio.load(files["wav"], sr=44100, offset=0.25, duration=0.5)
    assert y.shape == (22050,)
    np.testing.assert_allclose(y, files["x"][11025:11025 + 22050] * 0.25, atol=1e-4)
    both = audio.load(files["wav"], sr=22050, mono=False)
    assert both.shape[0] == 2 and both.shape[1] == 22050


def test_bad_files_raise_one_clear_error(tmp_path, files):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(b"\x00junk" * 100)
    truncated = tmp_path / "truncated.wav"
    data = files["wav"].read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    text = tmp_path / "notes.txt"
    text.write_text("hello, not audio")
    cases = {empty: "empty", garbage: "corrupt", truncated: "truncated", text: "unsupported",
             tmp_path / "missing.wav": "does not exist", tmp_path: "directory"}
    for path, word in cases.items():
        with pytest.raises(AudioDecodeError) as err:
            audio.load(path)
        assert str(path) in str(err.value) and word in str(err.value)
        assert isinstance(err.value, SampleAudioError)


def test_offset_past_end_and_bad_parameters(files):
    with pytest.raises(AudioDecodeError, match="beyond the end"):
        audio.load(files["wav"], offset=5.0)
    with pytest.raises(ParameterError):
        audio.load(files["wav"], sr=0)
    with pytest.raises(ParameterError):
        audio.load(files["wav"], duration=-1)


def test_nan_samples_are_rejected(tmp_path):
    p = tmp_path / "nan.wav"
    x = np.zeros(100, dtype=np.float32)
    x[10] = np.nan
    sf.write(p, x, 22050, subtype="FLOAT")
    with pytest.raises(AudioDecodeError, match="NaN"):
        audio.load(p)


def test_pcm16_round_trip():
    x = np.array([-1.0, -0.5, 0.0, 0.25, 1.0, 1.5], dtype=np.float32)
    y = audio.from_pcm16(audio.to_pcm16(x))
    np.testing.assert_allclose(y[:5], x[:5], atol=1 / 32767)
    assert y[5] == 1.0  # clipped


def test_resample_keeps_the_frequency_and_matches_the_stream():
    """One resampling function: a 1 kHz sine at 16 kHz is still 1 kHz at 22,050 Hz, the result is
    soxr HQ's (what the three call sites used before), and the block-by-block stream of ``load`` agrees."""
    import soxr

    t = np.arange(16000) / 16000
    x = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    y = audio.resample(x, 16000, 22050)
    assert y.dtype == np.float32 and y.shape == (22050,)
    peak_hz = np.argmax(np.abs(np.fft.rfft(y))) * 22050 / y.shape[0]
    assert abs(peak_hz - 1000) < 2
    np.testing.assert_array_equal(y, soxr.resample(x, 16000, 22050, quality="HQ"))
    assert audio.resample(x, 16000, 16000) is x

    stream = audio.resample_stream(16000, 22050, 1)
    blocks = [stream.resample_chunk(x[i:i + 5000, None], last=False) for i in range(0, 16000, 5000)]
    blocks.append(stream.resample_chunk(np.zeros((0, 1), np.float32), last=True))
    np.testing.assert_allclose(np.concatenate(blocks)[:, 0], y, atol=1e-5)
