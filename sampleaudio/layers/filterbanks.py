"""Pure numpy filterbank matrices shared by the spectrogram front ends.

Two mel recipes appear in the papers ported here, and they are not interchangeable:

- **Slaney** (librosa's default, ``htk=False, norm="slaney"``): linear below 1 kHz, logarithmic above, each
  triangle scaled to unit area. musicnn (Pons and Serra) computes its input with it.
- **HTK without normalisation** (torchaudio's ``MelSpectrogram`` default): ``2595 log10(1 + f / 700)``,
  triangles of peak 1. Won et al. (SMC 2020) use it for every model of their benchmark.

Both return ``[n_fft // 2 + 1, n_mels]`` so that ``power @ matrix`` maps a power spectrum to mel bands.

The Park et al. (ISMIR 2018) front end (:class:`SlaneyMelSpectrogram`) uses the Slaney recipe too: the
authors' ``mp3s_to_mel.py`` computes ``librosa.stft`` (22,050 Hz, n_fft 1,024, hop 512, centred, periodic Hann),
its magnitude, the 128-band Slaney filterbank and ``log10(1 + 10 * mel)``, then standardises with one scalar
mean/std. The librosa of 2018 padded centred frames by reflection (>= 0.9 pads with zeros), so the padding mode
is a parameter. Every matrix is a pure function of its recipe, so a saved layer config holds the recipe, never
the matrix; librosa is not needed at run time (the tests compare against it).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from sampleaudio.errors import ParameterError
from sampleaudio.layers.frontends import periodic_hann_window

__all__ = ["hz_to_mel", "mel_to_hz", "mel_matrix", "dft_matrices", "hz_to_mel_slaney", "mel_to_hz_slaney",
           "slaney_mel_matrix", "SlaneyMelSpectrogram", "PARK2018_MEAN", "PARK2018_STD", "PARK2018_FRAMES",
           "PARK2018_HOP", "crop_samples", "park2018_front_end"]

_F_SP = 200.0 / 3  # Slaney: Hz per mel below the break
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(hz, htk: bool = False) -> np.ndarray:
    """Hz -> mel on the HTK scale or on Slaney's (linear to 1 kHz, then logarithmic)."""
    hz = np.asarray(hz, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + hz / 700.0)
    mel = hz / _F_SP
    high = hz >= _MIN_LOG_HZ
    return np.where(high, _MIN_LOG_MEL + np.log(np.maximum(hz, 1e-10) / _MIN_LOG_HZ) / _LOG_STEP, mel)


def mel_to_hz(mel, htk: bool = False) -> np.ndarray:
    """The inverse of :func:`hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    return np.where(mel >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOG_STEP * (mel - _MIN_LOG_MEL)), _F_SP * mel)


def mel_matrix(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None, *,
               htk: bool = False, slaney_norm: bool = True) -> np.ndarray:
    """Triangular mel filters ``[n_fft // 2 + 1, n_mels]`` (float32).

    ``htk=False, slaney_norm=True`` is ``librosa.filters.mel(sr, n_fft, n_mels).T`` (musicnn);
    ``htk=True, slaney_norm=False`` is torchaudio's ``melscale_fbanks(..., norm=None, mel_scale="htk")``
    (Won 2020).
    """
    fmax = sample_rate / 2.0 if fmax is None else float(fmax)
    fft_hz = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2), htk)
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    if slaney_norm:
        weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.T.astype(np.float32)


def dft_matrices(n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """Real and imaginary DFT bases ``[n_fft, n_fft // 2 + 1]`` with the periodic Hann window folded in.

    ``frames @ real`` and ``frames @ imag`` are the real and imaginary parts of ``rfft(hann * frames)``;
    as matrix products they run in any backend and export to a SavedModel without an FFT kernel.
    """
    n = np.arange(n_fft)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)
    angle = 2.0 * np.pi * np.outer(n, np.arange(n_fft // 2 + 1)) / n_fft
    return ((window[:, None] * np.cos(angle)).astype(np.float32),
            (-window[:, None] * np.sin(angle)).astype(np.float32))


def hz_to_mel_slaney(hz) -> np.ndarray:
    """Slaney's mel scale: ``hz / (200/3)`` below 1 kHz, ``15 + 27 log(hz / 1000) / log(6.4)`` above."""
    return hz_to_mel(hz, htk=False)


def mel_to_hz_slaney(mel) -> np.ndarray:
    """Inverse of :func:`hz_to_mel_slaney`."""
    return mel_to_hz(mel, htk=False)


def slaney_mel_matrix(sample_rate: int, n_fft: int, n_mels: int = 128, fmin: float = 0.0,
                      fmax: float | None = None) -> np.ndarray:
    """``[n_mels, 1 + n_fft // 2]`` Slaney filters of unit area, as ``librosa.filters.mel`` returns them."""
    if n_mels < 1 or n_fft < 2 or sample_rate <= 0:
        raise ParameterError(f"need n_mels >= 1, n_fft >= 2, sample_rate > 0. Received: n_mels={n_mels}, "
                         f"n_fft={n_fft}, sample_rate={sample_rate}")
    return np.ascontiguousarray(mel_matrix(sample_rate, n_fft, n_mels, fmin, fmax, htk=False, slaney_norm=True).T)


@keras.saving.register_keras_serializable(package="sampleaudio")
class SlaneyMelSpectrogram(keras.layers.Layer):
    """librosa-style log-mel spectrogram of a waveform: ``[B, T, 1]`` -> ``[B, 1 + T // hop, n_mels]``.

    Centred frames (``n_fft // 2`` of padding each side, ``pad_mode`` ``"reflect"`` as librosa < 0.9 or
    ``"constant"`` (zeros) as librosa >= 0.9), periodic Hann window of ``n_fft``, magnitude STFT, Slaney mel
    filterbank, ``log10(1 + 10 * mel)``, then ``(x - mean) / std``.

    Args:
        sample_rate, n_fft, hop, n_mels, fmin, fmax: the STFT and filterbank recipe (defaults: Park 2018).
        pad_mode: ``"reflect"`` (Park 2018's run) or ``"constant"``.
        mean, std: scalar standardisation after the log (defaults 0 and 1: none).

    Reference: Park et al., ISMIR 2018, Sec. 3.1; the authors' ``mp3s_to_mel.py``.
    """

    def __init__(self, sample_rate: int = 22050, n_fft: int = 1024, hop: int = 512, n_mels: int = 128,
                 fmin: float = 0.0, fmax: float | None = None, pad_mode: str = "reflect", mean: float = 0.0,
                 std: float = 1.0, **kwargs):
        kwargs.setdefault("dtype", "float32")  # spectral maths stays in float32 under mixed precision
        super().__init__(**kwargs)
        if pad_mode not in ("reflect", "constant"):
            raise ParameterError(f"pad_mode must be 'reflect' or 'constant'. Received: pad_mode={pad_mode!r}")
        if hop < 1:
            raise ParameterError(f"hop must be >= 1. Received: hop={hop}")
        if std <= 0:
            raise ParameterError(f"std must be > 0. Received: std={std}")
        self.sample_rate, self.n_fft, self.hop, self.n_mels = int(sample_rate), int(n_fft), int(hop), int(n_mels)
        self.fmin = float(fmin)
        self.fmax = float(fmax) if fmax else self.sample_rate / 2.0
        self.pad_mode = pad_mode
        self.mean, self.std = float(mean), float(std)
        self._matrix = slaney_mel_matrix(self.sample_rate, self.n_fft, self.n_mels, self.fmin, self.fmax).T

    def call(self, inputs):
        x = tf.cast(inputs[..., 0], tf.float32)
        pad = self.n_fft // 2
        x = tf.pad(x, [[0, 0], [pad, pad]], mode="REFLECT" if self.pad_mode == "reflect" else "CONSTANT")
        stft = tf.signal.stft(x, frame_length=self.n_fft, frame_step=self.hop, fft_length=self.n_fft,
                              window_fn=periodic_hann_window, pad_end=False)
        mel = tf.matmul(tf.abs(stft), tf.constant(self._matrix))
        logmel = tf.math.log(1.0 + 10.0 * mel) / tf.math.log(10.0)
        return (logmel - self.mean) / self.std

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        return (input_shape[0], None if t is None else 1 + t // self.hop, self.n_mels)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"sample_rate": self.sample_rate, "n_fft": self.n_fft, "hop": self.hop,
                       "n_mels": self.n_mels, "fmin": self.fmin, "fmax": self.fmax, "pad_mode": self.pad_mode,
                       "mean": self.mean, "std": self.std})
        return config


# -------------------------------------------------------- Park et al. (ISMIR 2018)'s front end, shared with Choi 2019

#: The authors' scalar standardisation of ``log10(1 + 10 mel)`` (``train.py``).
PARK2018_MEAN = 0.22620339
PARK2018_STD = 0.25794547
#: Input frames per example (~3 s) and the STFT hop.
PARK2018_FRAMES = 129
PARK2018_HOP = 512

def crop_samples(frames: int = PARK2018_FRAMES, hop: int = PARK2018_HOP) -> int:
    """Waveform samples whose centred STFT has exactly ``frames`` frames: ``(frames - 1) * hop``."""
    return (frames - 1) * hop


def park2018_front_end(pad_mode: str = "reflect", name: str = "melspec") -> SlaneyMelSpectrogram:
    """The authors' preprocessing as a layer: 22,050 Hz, n_fft 1,024, hop 512, 128 Slaney mels, their mean/std."""
    return SlaneyMelSpectrogram(sample_rate=22050, n_fft=1024, hop=PARK2018_HOP, n_mels=128, pad_mode=pad_mode,
                                mean=PARK2018_MEAN, std=PARK2018_STD, name=name)
