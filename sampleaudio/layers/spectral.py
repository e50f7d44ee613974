"""A mel-spectrogram front end whose config is the recipe of the paper it serves (kapre's approach).

``[B, T, 1]`` waveform -> ``[B, frames, n_mels]``: frames of ``n_fft`` samples every ``hop`` samples, centred
(``n_fft // 2`` of padding each side, zeros or reflection), periodic Hann window, power spectrum as matrix
products with a windowed DFT basis (exact in float32, exports to a SavedModel, no FFT kernel needed), mel
filters from :mod:`sampleaudio.layers.filterbanks`, then a compression:

- ``"musicnn"``: ``log10(10000 x + 1)`` with musicnn's float16 roundings kept, see :func:`musicnn_log`;
- ``"db"``: ``10 log10(max(x, 1e-10))`` (torchaudio ``AmplitudeToDB``, Won et al. SMC 2020);
- ``"none"``: the mel power itself.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from sampleaudio.errors import ParameterError
from sampleaudio.layers.filterbanks import dft_matrices, mel_matrix

__all__ = ["MelFrontEnd", "power_spectrogram", "musicnn_log", "round_to_float16"]

_COMPRESSIONS = ("musicnn", "db", "none")


def power_spectrogram(waveform: tf.Tensor, real: tf.Tensor, imag: tf.Tensor, *, n_fft: int, hop: int,
                      pad_mode: str = "constant", frames: str = "centred") -> tf.Tensor:
    """``[B, T]`` -> ``[B, frames, n_fft // 2 + 1]`` power spectrum of centred, Hann-windowed frames (``real``,
    ``imag``: :func:`~sampleaudio.layers.filterbanks.dft_matrices`); ``frames="patch"`` drops the last frame."""
    pad = n_fft // 2
    x = tf.pad(tf.cast(waveform, tf.float32), [[0, 0], [pad, pad]], mode=pad_mode.upper())
    framed = tf.signal.frame(x, n_fft, hop, pad_end=False)  # 1 + T // hop centred frames
    if frames == "patch":
        framed = framed[:, :-1]
    return tf.square(framed @ real) + tf.square(framed @ imag)


def to_db(power: tf.Tensor) -> tf.Tensor:
    """``10 log10(max(x, 1e-10))``: torchaudio ``AmplitudeToDB()`` (power, reference 1, no top_db)."""
    return 10.0 * tf.math.log(tf.maximum(power, 1e-10)) / tf.math.log(10.0)


def round_to_float16(x: tf.Tensor) -> tf.Tensor:
    """``x`` rounded to the nearest float16 value where that value is finite, else ``x`` itself (float32)."""
    rounded = tf.cast(tf.cast(x, tf.float16), tf.float32)
    return tf.where(tf.math.is_finite(rounded), rounded, x)


def musicnn_log(mel: tf.Tensor) -> tf.Tensor:
    """musicnn's ``np.log10(10000 * mel.astype(float16) + 1)`` without its overflow.

    musicnn (``extractor.batch_data``) casts the mel power to float16, and numpy then evaluates ``10000 * x``,
    ``+ 1`` and ``log10`` in float16 too: every step is rounded to float16, and ``10000 * x`` overflows to inf
    as soon as one band's power exceeds 6.55 (a sine of amplitude 0.3 is enough), which makes its tags NaN.
    Here each step is rounded to float16 exactly as there wherever the float16 value is finite, and kept in
    float32 where it is not, so outputs equal the original's wherever those are finite and stay finite on
    loud audio.
    """
    x = round_to_float16(mel)
    x = round_to_float16(10000.0 * x)
    x = round_to_float16(x + 1.0)
    return round_to_float16(tf.math.log(x) / tf.math.log(10.0))


@keras.saving.register_keras_serializable(package="sampleaudio")
class MelFrontEnd(keras.layers.Layer):
    """Waveform -> compressed mel spectrogram, computed inside the model so that export carries it along.

    Args:
        sample_rate: Hz.
        n_fft: frame (and FFT) length in samples; a multiple of ``hop`` is not required.
        hop: hop in samples.
        n_mels: mel bands.
        fmin, fmax: band edges in Hz (``fmax`` default: Nyquist).
        htk: HTK mel scale (Won 2020) instead of Slaney's (librosa default, musicnn).
        slaney_norm: scale each filter to unit area (librosa ``norm="slaney"``); torchaudio's default is off.
        pad_mode: ``"constant"`` (zeros; librosa >= 0.10) or ``"reflect"`` (torchaudio, librosa < 0.10).
        frames: ``"centred"`` gives ``1 + T // hop`` frames (librosa/torchaudio on a whole clip);
            ``"patch"`` gives ``T // hop``, the frames whose centres lie inside the input: musicnn cuts
            187-frame patches out of a whole-file spectrogram, so a 47,872-sample segment (187 hops) is one
            patch.
        compression: ``"musicnn"``, ``"db"`` or ``"none"`` (see the module docstring).

    References: Pons and Serra, musicnn (``extractor.batch_data``); Won et al., SMC 2020 (torchaudio front end).
    """

    def __init__(self, sample_rate: int = 16000, n_fft: int = 512, hop: int = 256, n_mels: int = 96,
                 fmin: float = 0.0, fmax: float | None = None, htk: bool = False, slaney_norm: bool = True,
                 pad_mode: str = "constant", frames: str = "centred", compression: str = "musicnn", **kwargs):
        kwargs.setdefault("dtype", "float32")  # spectral maths stays in float32 under mixed precision
        super().__init__(**kwargs)
        if n_fft < 2 or hop < 1 or n_mels < 1:
            raise ParameterError(f"n_fft >= 2, hop >= 1 and n_mels >= 1 are required. Received: n_fft={n_fft}, "
                             f"hop={hop}, n_mels={n_mels}")
        if pad_mode not in ("constant", "reflect"):
            raise ParameterError(f"pad_mode must be 'constant' or 'reflect'. Received: pad_mode={pad_mode!r}")
        if frames not in ("centred", "patch"):
            raise ParameterError(f"frames must be 'centred' or 'patch'. Received: frames={frames!r}")
        if compression not in _COMPRESSIONS:
            raise ParameterError(f"compression must be one of {_COMPRESSIONS}. Received: compression={compression!r}")
        self.sample_rate, self.n_fft, self.hop, self.n_mels = int(sample_rate), int(n_fft), int(hop), int(n_mels)
        self.fmin = float(fmin)
        self.fmax = float(fmax) if fmax else self.sample_rate / 2.0
        self.htk, self.slaney_norm = bool(htk), bool(slaney_norm)
        self.pad_mode, self.frames, self.compression = pad_mode, frames, compression
        real, imag = dft_matrices(self.n_fft)
        self._real, self._imag = tf.constant(real), tf.constant(imag)
        self._mel = tf.constant(mel_matrix(self.sample_rate, self.n_fft, self.n_mels, self.fmin, self.fmax,
                                           htk=self.htk, slaney_norm=self.slaney_norm))

    def num_frames(self, samples: int | None) -> int | None:
        """Frames produced from ``samples`` input samples."""
        if samples is None:
            return None
        return samples // self.hop + (1 if self.frames == "centred" else 0)

    def call(self, inputs):
        power = power_spectrogram(inputs[..., 0], self._real, self._imag, n_fft=self.n_fft, hop=self.hop,
                                  pad_mode=self.pad_mode, frames=self.frames)
        mel = power @ self._mel
        if self.compression == "musicnn":
            return musicnn_log(mel)
        if self.compression == "db":
            return to_db(mel)
        return mel

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_frames(input_shape[1]), self.n_mels)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"sample_rate": self.sample_rate, "n_fft": self.n_fft, "hop": self.hop,
                       "n_mels": self.n_mels, "fmin": self.fmin, "fmax": self.fmax, "htk": self.htk,
                       "slaney_norm": self.slaney_norm, "pad_mode": self.pad_mode, "frames": self.frames,
                       "compression": self.compression})
        return config
