"""Hand-crafted clip features computed with ``tf.signal`` (for sanity baselines, not for the CNNs)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["mfcc_statistics"]


def mfcc_statistics(audio: np.ndarray | tf.Tensor, sr: int = 22050, n_mfcc: int = 20, n_mels: int = 64,
                    n_fft: int = 1024, hop: int = 512) -> np.ndarray:
    """Mean and standard deviation over time of MFCCs and their first differences: ``4 * n_mfcc`` values.

    Magnitude STFT (Hann, ``n_fft``/``hop``) -> ``n_mels`` mel bands (20 Hz - Nyquist) -> log(mel + 1e-6) ->
    DCT (``tf.signal.mfccs_from_log_mel_spectrograms``).
    """
    x = tf.convert_to_tensor(audio, tf.float32)
    if x.shape[0] is not None and x.shape[0] < n_fft:
        x = tf.pad(x, [[0, n_fft - x.shape[0]]])
    stft = tf.abs(tf.signal.stft(x, n_fft, hop, n_fft))
    mel = tf.matmul(stft, tf.signal.linear_to_mel_weight_matrix(n_mels, n_fft // 2 + 1, sr, 20.0, sr / 2))
    mfcc = tf.signal.mfccs_from_log_mel_spectrograms(tf.math.log(mel + 1e-6))[:, :n_mfcc]
    delta = mfcc[1:] - mfcc[:-1]
    parts = [tf.reduce_mean(mfcc, 0), tf.math.reduce_std(mfcc, 0), tf.reduce_mean(delta, 0),
             tf.math.reduce_std(delta, 0)]
    return tf.concat(parts, 0).numpy()
