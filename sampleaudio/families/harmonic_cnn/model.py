"""HarmonicCNN: Won, Chun, Nieto, Serra, "Data-driven harmonic filters for audio representation learning",
ICASSP 2020 (code ``minzwon/sota-music-tagging-models``, ``HarmonicSTFT`` and ``HarmonicCNN``).

:class:`HarmonicFilterbank`: power spectrogram (n_fft 512, hop 256, centred with reflection) -> triangular
filters centred on harmonics ``h * f0`` (h = 1..6) of 128 fundamentals from MIDI 24 (C1) in half-semitone
steps (the top note is the one nearest ``sample_rate / (2 * 6)``: MIDI 88 at 16 kHz), bandwidth
``(0.1079 f + 24.7) / Q`` (the ERB form) with **one learnable Q** (initialised to 1), peak 1 and full width
``bw``, over FFT bins ``linspace(0, sample_rate // 2, n_fft // 2 + 1)``; ``10 log10`` -> ``[B, T, 128, 6]``
(harmonics as channels) -> BatchNorm over the 6 channels.

Back end (5 s input): conv(6 -> 128, pool 2); 3 x residual(128) with pool 2; conv(128 -> 256, pool 2);
2 x residual(256) with pool (freq 2, time 3); global max over time -> Dense 256 -> BN -> ReLU -> Dropout ->
Dense. The residual blocks (``Res_2d_mp``) are conv -> BN -> ReLU -> conv -> BN, + input, ReLU, maxpool.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from sampleaudio.layers.filterbanks import dft_matrices
from sampleaudio.layers.spectral import power_spectrogram, to_db
from sampleaudio.layers.won_blocks import bn as _bn
from sampleaudio.layers.won_blocks import classifier_head as _head
from sampleaudio.layers.won_blocks import conv_block as _conv_block

__all__ = ["HarmonicFilterbank", "harmonic_centres", "harmonic_cnn"]

_ERB_ALPHA, _ERB_BETA = 0.1079, 24.7


def harmonic_centres(sample_rate: int = 16000, n_harmonic: int = 6, semitone_scale: int = 2) -> np.ndarray:
    """``[n_harmonic * levels]`` centre frequencies in Hz, harmonic-major (all f0 of harmonic 1, then 2, ...)."""
    low = 24  # C1
    top_hz = sample_rate / (2 * n_harmonic)
    high = int(np.round(12 * np.log2(top_hz / 440.0) + 69))  # librosa.hz_to_note rounds to the nearest note
    levels = (high - low) * semitone_scale
    midi = np.linspace(low, high, levels + 1)[:-1]
    f0 = 440.0 * 2.0 ** ((midi - 69.0) / 12.0)
    return np.concatenate([f0 * h for h in range(1, n_harmonic + 1)])


@keras.saving.register_keras_serializable(package="sampleaudio")
class HarmonicFilterbank(keras.layers.Layer):
    """Waveform ``[B, T, 1]`` -> harmonic spectrogram in dB ``[B, 1 + T // hop, levels, n_harmonic]``.

    The one trainable weight is the bandwidth quality factor ``Q`` (``learn_bw="only_Q"`` in the original).
    """

    def __init__(self, sample_rate: int = 16000, n_fft: int = 512, hop: int = 256, n_harmonic: int = 6,
                 semitone_scale: int = 2, initial_q: float = 1.0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.sample_rate, self.n_fft, self.hop = int(sample_rate), int(n_fft), int(hop)
        self.n_harmonic, self.semitone_scale, self.initial_q = int(n_harmonic), int(semitone_scale), float(initial_q)
        centres = harmonic_centres(self.sample_rate, self.n_harmonic, self.semitone_scale)
        self.levels = centres.size // self.n_harmonic
        self._centres = tf.constant(centres[None, :], tf.float32)
        bins = np.linspace(0, self.sample_rate // 2, self.n_fft // 2 + 1)
        self._bins = tf.constant(bins[:, None], tf.float32)
        real, imag = dft_matrices(self.n_fft)
        self._real, self._imag = tf.constant(real), tf.constant(imag)

    def build(self, input_shape):
        self.q = self.add_weight(name="q", shape=(1,), initializer=keras.initializers.Constant(self.initial_q))

    def filterbank(self) -> tf.Tensor:
        """``[n_fft // 2 + 1, n_harmonic * levels]`` triangles of the current ``Q``."""
        bw = (_ERB_ALPHA * self._centres + _ERB_BETA) / tf.cast(self.q, tf.float32)
        rising = self._bins * (2.0 / bw) + 1.0 - 2.0 * self._centres / bw
        falling = self._bins * (-2.0 / bw) + 1.0 + 2.0 * self._centres / bw
        return tf.maximum(0.0, tf.minimum(rising, falling))

    def call(self, inputs):
        power = power_spectrogram(inputs[..., 0], self._real, self._imag, n_fft=self.n_fft, hop=self.hop,
                                  pad_mode="reflect")
        bands = to_db(power @ self.filterbank())  # [B, T, n_harmonic * levels]
        shape = tf.shape(bands)
        bands = tf.reshape(bands, [shape[0], shape[1], self.n_harmonic, self.levels])
        return tf.transpose(bands, [0, 1, 3, 2])

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        return (input_shape[0], None if t is None else 1 + t // self.hop, self.levels, self.n_harmonic)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"sample_rate": self.sample_rate, "n_fft": self.n_fft, "hop": self.hop,
                       "n_harmonic": self.n_harmonic, "semitone_scale": self.semitone_scale,
                       "initial_q": self.initial_q})
        return config


def _res_mp(x, filters: int, pool: tuple[int, int], name: str):
    """``Res_2d_mp``: conv -> BN -> ReLU -> conv -> BN, + x, ReLU, maxpool ``pool`` = (freq, time)."""
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(x)
    y = layers.ReLU(name=f"{name}_relu1")(_bn(f"{name}_bn1")(y))
    y = _bn(f"{name}_bn2")(layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(y))
    y = layers.ReLU(name=f"{name}_relu")(layers.Add(name=f"{name}_add")([x, y]))
    return layers.MaxPooling2D((pool[1], pool[0]), name=f"{name}_pool")(y)


def harmonic_cnn(num_classes: int = 50, segment: int | None = 80000, *, sample_rate: int = 16000,
                 activation: str = "sigmoid", dropout: float = 0.5, n_channels: int = 128, n_harmonic: int = 6,
                 semitone_scale: int = 2, name: str = "harmonic_cnn") -> keras.Model:
    """HarmonicCNN over waveforms ``[B, segment, 1]`` (5 s at 16 kHz in the paper)."""
    waveform = keras.Input((segment, 1), name="waveform")
    x = HarmonicFilterbank(sample_rate, n_harmonic=n_harmonic, semitone_scale=semitone_scale, name="hstft")(waveform)
    x = _bn("hstft_bn")(x)
    x = _conv_block(x, n_channels, (2, 2), "layer1")
    for k in (2, 3, 4):
        x = _res_mp(x, n_channels, (2, 2), f"layer{k}")
    x = _conv_block(x, 2 * n_channels, (2, 2), "layer5")
    for k in (6, 7):
        x = _res_mp(x, 2 * n_channels, (2, 3), f"layer{k}")
    x = layers.GlobalMaxPooling2D(name="global_pool")(x)  # frequency is 1 here; the max over time
    return keras.Model(waveform, _head(x, num_classes, activation, 2 * n_channels, dropout, name), name=name)
