"""Fixed time-frequency front ends computed inside the model (so export carries them along).

Kim, Lee, Nam (IEEE JSTSP 2019), Sec. V-A / Fig. 4 compare SampleCNN with a mel-spectrogram model whose
STFT window and hop are the filter and stride of SampleCNN's first layer. The layer here computes that
mel-spectrogram with ``tf.signal`` (kapre's approach: the saved config holds the recipe, never the matrix).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from sampleaudio.errors import ParameterError

__all__ = ["MelSpectrogram", "periodic_hann_window"]


def periodic_hann_window(window_length, dtype=tf.float32):
    """``0.5 - 0.5 cos(2 pi n / N)``, the periodic Hann window of librosa and scipy (``fftbins=True``).

    ``tf.signal.hann_window(periodic=True)`` is periodic only for even lengths: for odd ones (every power of
    3 used here) it returns the symmetric window.
    """
    n = tf.range(window_length, dtype=dtype)
    return 0.5 - 0.5 * tf.cos(2.0 * 3.141592653589793 * n / tf.cast(window_length, dtype))


@keras.saving.register_keras_serializable(package="sampleaudio")
class MelSpectrogram(keras.layers.Layer):
    """Log-compressed mel-spectrogram of a raw waveform.

    ``[B, T, 1]`` waveform -> ``[B, frames, n_mels]``, ``frames = 1 + T // hop`` (centred frames, zero
    padding of ``window // 2`` on both sides, periodic Hann window), magnitude STFT, HTK mel filterbank from
    ``tf.signal.linear_to_mel_weight_matrix``, then ``log10(1 + 10 * mel)``.

    Args:
        sample_rate: Hz.
        window: STFT window (frame) length in samples.
        hop: STFT hop in samples.
        n_mels: mel bands (128 in Kim 2019).
        fft_length: FFT size; default the smallest power of two >= ``max(window, 2 * n_mels)`` so that
            even short windows give every mel band some bins.
        fmin, fmax: band edges in Hz (``fmax`` default: Nyquist).

    Reference: Kim, Lee, Nam, IEEE JSTSP 2019, Sec. V-A.
    """

    def __init__(self, sample_rate: int = 22050, window: int = 729, hop: int = 243, n_mels: int = 128,
                 fft_length: int | None = None, fmin: float = 0.0, fmax: float | None = None, **kwargs):
        kwargs.setdefault("dtype", "float32")  # spectral maths stays in float32 under mixed precision
        super().__init__(**kwargs)
        if window < 1 or hop < 1 or n_mels < 1:
            raise ParameterError(f"window, hop and n_mels must be >= 1. Received: window={window}, hop={hop}, "
                             f"n_mels={n_mels}")
        self.sample_rate = int(sample_rate)
        self.window = int(window)
        self.hop = int(hop)
        self.n_mels = int(n_mels)
        need = max(self.window, 2 * self.n_mels)
        self.fft_length = int(fft_length) if fft_length else 1 << (need - 1).bit_length()
        if self.fft_length < self.window:
            raise ParameterError(f"fft_length must be >= window. Received: fft_length={fft_length}, window={window}")
        self.fmin = float(fmin)
        self.fmax = float(fmax) if fmax else self.sample_rate / 2.0

    def call(self, inputs):
        x = tf.cast(inputs[..., 0], tf.float32)
        pad = self.window // 2
        x = tf.pad(x, [[0, 0], [pad, pad]])
        stft = tf.signal.stft(x, frame_length=self.window, frame_step=self.hop, fft_length=self.fft_length,
                              window_fn=periodic_hann_window, pad_end=False)
        magnitude = tf.abs(stft)
        mel_matrix = tf.signal.linear_to_mel_weight_matrix(
            self.n_mels, self.fft_length // 2 + 1, self.sample_rate, self.fmin, self.fmax)
        mel = tf.matmul(magnitude, mel_matrix)
        return tf.math.log(1.0 + 10.0 * mel) / tf.math.log(10.0)

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        frames = None if t is None else 1 + t // self.hop
        return (input_shape[0], frames, self.n_mels)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"sample_rate": self.sample_rate, "window": self.window, "hop": self.hop,
                       "n_mels": self.n_mels, "fft_length": self.fft_length, "fmin": self.fmin, "fmax": self.fmax})
        return config
