"""The mel front end of Park et al. (ISMIR 2018), computed inside the model from the waveform.

Park, Lee, Park, Ha, Nam, "Representation learning of music using artist labels", ISMIR 2018, Sec. 3.1: the
authors' ``mp3s_to_mel.py`` computes ``librosa.stft`` (22,050 Hz, n_fft 1,024, hop 512, centred, periodic
Hann), its magnitude, librosa's Slaney mel filterbank (128 bands, area normalisation, fmax = Nyquist) and
``log10(1 + 10 * mel)``, then standardises with one scalar mean/std. The librosa of 2018 padded the centred
frames by reflection (librosa >= 0.9 pads with zeros), so the padding mode is a parameter.

:func:`slaney_mel_matrix` is the filterbank as a pure numpy function of its recipe (Slaney's Auditory Toolbox
mel scale: linear below 1 kHz, logarithmic above; each triangle scaled to unit area), so the saved layer config
holds the recipe and never the matrix. librosa is not needed at run time; the tests compare against it.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from sampleaudio.models.frontends import periodic_hann_window

__all__ = ["hz_to_mel_slaney", "mel_to_hz_slaney", "slaney_mel_matrix", "SlaneyMelSpectrogram"]

_F_SP = 200.0 / 3.0  # Hz per mel in the linear part
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel_slaney(hz) -> np.ndarray:
    """Slaney's mel scale: ``hz / (200/3)`` below 1 kHz, ``15 + 27 log(hz / 1000) / log(6.4)`` above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / _F_SP
    log = _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(hz >= _MIN_LOG_HZ, log, linear)


def mel_to_hz_slaney(mel) -> np.ndarray:
    """Inverse of :func:`hz_to_mel_slaney`."""
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * _F_SP
    log = _MIN_LOG_HZ * np.exp(_LOGSTEP * (np.maximum(mel, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(mel >= _MIN_LOG_MEL, log, linear)


def slaney_mel_matrix(sample_rate: int, n_fft: int, n_mels: int = 128, fmin: float = 0.0,
                      fmax: float | None = None) -> np.ndarray:
    """``[n_mels, 1 + n_fft // 2]`` triangular filters, equally spaced on Slaney's mel scale, unit area.

    Band ``i`` rises from mel point ``i`` to ``i + 1`` and falls to ``i + 2`` (``n_mels + 2`` points from
    ``fmin`` to ``fmax``), then is scaled by ``2 / (f[i + 2] - f[i])`` so each triangle has unit area in Hz
    (librosa's ``norm='slaney'``). Computed in float64, returned in float32 like ``librosa.filters.mel``.
    """
    if n_mels < 1 or n_fft < 2 or sample_rate <= 0:
        raise ValueError(f"need n_mels >= 1, n_fft >= 2, sample_rate > 0. Received: n_mels={n_mels}, "
                         f"n_fft={n_fft}, sample_rate={sample_rate}")
    fmax = sample_rate / 2.0 if fmax is None else float(fmax)
    bins = np.linspace(0.0, sample_rate / 2.0, 1 + n_fft // 2)
    edges = mel_to_hz_slaney(np.linspace(hz_to_mel_slaney(fmin), hz_to_mel_slaney(fmax), n_mels + 2))
    widths = np.diff(edges)
    offsets = edges[:, None] - bins[None, :]
    rising = -offsets[:-2] / widths[:-1, None]
    falling = offsets[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


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
            raise ValueError(f"pad_mode must be 'reflect' or 'constant'. Received: pad_mode={pad_mode!r}")
        if hop < 1:
            raise ValueError(f"hop must be >= 1. Received: hop={hop}")
        if std <= 0:
            raise ValueError(f"std must be > 0. Received: std={std}")
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
