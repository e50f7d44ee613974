"""A constant-Q transform computed inside the model: librosa's recursive multirate algorithm, in TensorFlow.

Oramas et al.'s audio front end (``sergiooramas/tartarus``, ``src/audio-processing/create_spectrograms.py`` and
``create_patches.py``) is ``librosa.cqt(y, sr=22050, hop_length=1024, n_bins=96)`` with every other argument at
librosa 0.6.0's default (C1 = 32.70 Hz, 12 bins per octave, tuning 0, filter scale 1, L1-normalised Hann filters,
sparsity 0.01, ``scale=True``), then ``librosa.power_to_db(|C|**2, ref=np.max)`` (top_db 80).
:class:`ConstantQ` computes the same thing on ``[B, T, 1]`` waveforms, so the model takes audio and export carries
the front end:

1. the filters: for each bin ``k`` a Hann-windowed complex exponential at ``f_k = fmin 2^(k / bins_per_octave)``
   of ``Q sr / f_k`` samples, L1-normalised; ``Q = filter_scale / (2^(1/b) - 1)`` in librosa < 0.10
   (``convention="librosa0.6"``, the authors') or ``filter_scale / alpha`` with ``alpha = (2^(2/b) - 1) /
   (2^(2/b) + 1)`` in librosa >= 0.10 (``"librosa"``: 3 % longer filters). Built with numpy when the layer is made,
   as librosa's ``__vqt_filter_fft``: each octave's filters at that octave's rate, scaled by ``length / n_fft``,
   their FFT's non-negative half, the smallest coefficients holding 1 % of each row's mass dropped (sparsity);
2. octave by octave from the top: a centred STFT (``window="ones"``, padding ``n_fft // 2`` by zeros or
   reflection) of the signal at the octave's rate, times the octave's filters; then the signal is halved in rate
   (hop halved too) for the next octave;
3. the octaves stacked (trimmed to the shortest), divided by ``sqrt(filter length at sr)`` (``scale=True``).

The one step that cannot be librosa's bit for bit is the halving: librosa resamples with soxr (``soxr_hq``;
librosa 0.6 used resampy's ``kaiser_best``), here a 127-tap Kaiser-windowed sinc (cut-off at the new Nyquist,
beta 10) and decimation, then the same ``sqrt(2)`` energy scaling. Every octave's filters end at 0.75 of its
rate's Nyquist frequency, where this filter's gain is within 0.001 dB of 1, and what it lets alias from above
lands above 0.75 of the new Nyquist, outside the next octave's filters. The tests compare the layer with
``librosa.cqt`` on real recordings and state the tolerance.

:class:`ConstantQ` with ``compression="db"`` adds ``power_to_db(|C|^2, ref=max, amin=1e-10, top_db=80)`` with
the maximum taken over each example (the authors took it over the whole track, then cut a patch from it: here
the model sees one segment, so its own maximum is the reference).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from sampleaudio.errors import ParameterError

__all__ = ["CONVENTIONS", "C1", "OctaveBank", "cqt_filter_banks", "halving_filter", "ConstantQ", "cqt_frames"]

#: How the filter bandwidth follows from the bins per octave: the authors' librosa 0.6, or librosa >= 0.10.
CONVENTIONS = ("librosa0.6", "librosa")
#: librosa's default lowest frequency: note C1.
C1 = 440.0 * 2.0 ** ((24 - 69) / 12.0)
#: librosa's ``window_bandwidth("hann")``: the Hann window's equivalent noise bandwidth in FFT bins.
HANN_BANDWIDTH = 1.50018310546875
_HALVING_TAPS = 127
_HALVING_BETA = 10.0


def _alpha(bins_per_octave: int, convention: str) -> float:
    if convention == "librosa0.6":
        return 2.0 ** (1.0 / bins_per_octave) - 1.0
    r = 2.0 ** (2.0 / bins_per_octave)
    return (r - 1.0) / (r + 1.0)


def _lengths(freqs: np.ndarray, sr: float, filter_scale: float, alpha: float) -> np.ndarray:
    return (filter_scale / alpha) * sr / freqs


def _hann(n: int) -> np.ndarray:
    """A periodic Hann window of ``n`` points (``scipy.signal.get_window("hann", n)``)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n) if n > 1 else np.ones(n)


def _float_window(length: float) -> np.ndarray:
    """librosa's ``__float_window``: a Hann window of ``floor(length)`` points, zero-padded to ``ceil``."""
    n_min, n_max = int(np.floor(length)), int(np.ceil(length))
    window = np.zeros(n_max)
    window[:n_min] = _hann(n_min)
    return window


def _sparsify(rows: np.ndarray, quantile: float) -> np.ndarray:
    """librosa's ``util.sparsify_rows``: zero each row's smallest coefficients holding ``quantile`` of its L1
    mass."""
    mags = np.abs(rows)
    norms = np.sum(mags, axis=1, keepdims=True)
    mag_sort = np.sort(mags, axis=1)
    cumulative = np.cumsum(mag_sort / norms, axis=1)
    threshold = np.argmin(cumulative < quantile, axis=1)
    out = np.zeros_like(rows)
    for i, j in enumerate(threshold):
        keep = mags[i] >= mag_sort[i, j]
        out[i, keep] = rows[i, keep]
    return out


class OctaveBank:
    """One octave's filters in the frequency domain: ``basis [n_fft // 2 + 1, bins]`` (complex64) to multiply an
    STFT of ``n_fft`` points taken every ``hop`` samples of the signal at ``sr`` Hz; ``bins`` of the output,
    lowest first."""

    def __init__(self, basis: np.ndarray, n_fft: int, hop: int, sr: float, bins: slice):
        self.basis, self.n_fft, self.hop, self.sr, self.bins = basis, n_fft, hop, sr, bins


def cqt_filter_banks(*, sample_rate: float, hop: int, fmin: float, n_bins: int, bins_per_octave: int,
                     filter_scale: float = 1.0, sparsity: float = 0.01, convention: str = "librosa0.6"
                     ) -> tuple[list[OctaveBank], int, np.ndarray]:
    """The octaves' filter banks (top octave first), the number of early halvings (librosa's
    ``__early_downsample_count``: the signal is halved before the top octave when its filters end far below the
    Nyquist frequency) and each bin's filter length in samples at ``sample_rate``."""
    if convention not in CONVENTIONS:
        raise ParameterError(f"convention must be one of {CONVENTIONS}. Received: {convention!r}")
    if n_bins < 1 or bins_per_octave < 1 or hop < 1 or fmin <= 0:
        raise ParameterError(f"n_bins, bins_per_octave and hop must be >= 1 and fmin > 0. Received: n_bins={n_bins}, "
                             f"bins_per_octave={bins_per_octave}, hop={hop}, fmin={fmin}")
    freqs = fmin * 2.0 ** (np.arange(n_bins) / bins_per_octave)
    alpha = _alpha(bins_per_octave, convention)
    q = filter_scale / alpha
    n_octaves = int(math.ceil(n_bins / bins_per_octave))
    n_filters = min(bins_per_octave, n_bins)
    nyquist = sample_rate / 2.0
    cutoff = float(np.max(freqs * (1 + 0.5 * HANN_BANDWIDTH / q)))
    if cutoff > nyquist:
        raise ParameterError(f"the CQT's top filter reaches {cutoff:.0f} Hz, above the Nyquist frequency "
                             f"{nyquist:.0f} Hz: use fewer bins or a higher sample rate")
    twos = 0
    while hop % (2 ** (twos + 1)) == 0:
        twos += 1
    early = min(max(0, int(np.ceil(np.log2(nyquist / cutoff)) - 1) - 1), max(0, twos - n_octaves + 1))
    sr, my_hop = sample_rate / 2 ** early, hop // 2 ** early
    lengths = _lengths(freqs, sr, filter_scale, alpha)  # at the rate after the early halvings, as librosa
    banks = []
    for i in range(n_octaves):
        top = n_bins - n_filters * i
        low = max(0, top - n_filters)
        f = freqs[low:top]
        ilens = _lengths(f, sr, filter_scale, alpha)
        filters = []
        for ilen, freq in zip(ilens, f):
            t = np.arange(-ilen // 2, ilen // 2, dtype=float)
            sig = np.exp(1j * t * 2 * np.pi * freq / sr) * _float_window(len(t))
            filters.append(sig / np.sum(np.abs(sig)))
        n_fft = int(2.0 ** np.ceil(np.log2(max(ilens))))
        basis = np.zeros((len(f), n_fft), dtype=np.complex128)
        for k, sig in enumerate(filters):
            start = (n_fft - len(sig)) // 2
            basis[k, start:start + len(sig)] = sig
        basis *= ilens[:, None] / float(n_fft)
        fft_basis = np.fft.fft(basis, n=n_fft, axis=1)[:, :n_fft // 2 + 1]
        fft_basis = _sparsify(fft_basis, sparsity) * np.sqrt(sample_rate / 2 ** early / sr)
        banks.append(OctaveBank(fft_basis.T.astype(np.complex64), n_fft, my_hop, sr, slice(low, top)))
        if my_hop % 2 == 0:
            my_hop //= 2
            sr /= 2.0
    return banks, early, lengths


def halving_filter(taps: int = _HALVING_TAPS, beta: float = _HALVING_BETA) -> np.ndarray:
    """The anti-aliasing low-pass used before each halving: a Kaiser-windowed sinc, cut-off at the new Nyquist
    frequency, unit gain at DC."""
    n = np.arange(taps) - (taps - 1) / 2
    h = 0.5 * np.sinc(0.5 * n) * np.kaiser(taps, beta)
    return (h / h.sum()).astype(np.float32)


def cqt_frames(samples: int | None, hop: int) -> int | None:
    """Frames of a centred CQT of ``samples`` samples: ``1 + samples // hop``."""
    return None if samples is None else 1 + samples // hop


def _halve(y: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
    """``[B, T]`` -> ``[B, ceil(T / 2)]``: low-pass, keep every other sample (centred on the even ones), scale by
    sqrt(2) (librosa's ``resample(..., scale=True)``)."""
    taps = int(kernel.shape[0])
    half = (taps - 1) // 2
    x = tf.pad(y, [[0, 0], [half, half]])[..., None]
    out = tf.nn.conv1d(x, kernel[:, None, None], stride=2, padding="VALID")[..., 0]
    return out * math.sqrt(2.0)


@keras.saving.register_keras_serializable(package="sampleaudio")
class ConstantQ(keras.layers.Layer):
    """``[B, T, 1]`` waveform -> ``[B, 1 + T // hop, n_bins]`` constant-Q magnitude (or its dB, see the module
    docstring), lowest bin first.

    Args:
        sample_rate, hop, fmin, n_bins, bins_per_octave, filter_scale, sparsity: as ``librosa.cqt`` (``fmin``
            default C1); the defaults are Oramas et al.'s (22,050 Hz, hop 1024, 96 bins).
        convention: ``"librosa0.6"`` (the authors' filter bandwidth) or ``"librosa"`` (>= 0.10).
        pad_mode: ``"reflect"`` (librosa 0.6's default, the authors') or ``"constant"`` (librosa >= 0.10).
        compression: ``"db"`` (``power_to_db(|C|^2, ref=max, top_db=80)`` per example, the authors') or
            ``"magnitude"`` (``|C|``).
    """

    def __init__(self, sample_rate: int = 22050, hop: int = 1024, fmin: float | None = None, n_bins: int = 96,
                 bins_per_octave: int = 12, filter_scale: float = 1.0, sparsity: float = 0.01,
                 convention: str = "librosa0.6", pad_mode: str = "reflect", compression: str = "db", **kwargs):
        kwargs.setdefault("dtype", "float32")  # spectral maths stays in float32 under mixed precision
        super().__init__(**kwargs)
        if pad_mode not in ("constant", "reflect"):
            raise ParameterError(f"pad_mode must be 'constant' or 'reflect'. Received: pad_mode={pad_mode!r}")
        if compression not in ("db", "magnitude"):
            raise ParameterError(f"compression must be 'db' or 'magnitude'. Received: {compression!r}")
        self.sample_rate, self.hop, self.n_bins = int(sample_rate), int(hop), int(n_bins)
        self.fmin = float(fmin) if fmin else C1
        self.bins_per_octave, self.filter_scale, self.sparsity = int(bins_per_octave), float(filter_scale), float(sparsity)
        self.convention, self.pad_mode, self.compression = convention, pad_mode, compression
        banks, self._early, lengths = cqt_filter_banks(
            sample_rate=self.sample_rate, hop=self.hop, fmin=self.fmin, n_bins=self.n_bins,
            bins_per_octave=self.bins_per_octave, filter_scale=self.filter_scale, sparsity=self.sparsity,
            convention=convention)
        self._banks = [(tf.constant(b.basis), b.n_fft, b.hop, b.bins) for b in banks]
        self._scale = tf.constant((1.0 / np.sqrt(lengths)).astype(np.float32))
        self._kernel = tf.constant(halving_filter())

    def num_frames(self, samples: int | None) -> int | None:
        return cqt_frames(samples, self.hop)

    def magnitude(self, waveform: tf.Tensor) -> tf.Tensor:
        """``[B, T]`` -> ``[B, frames, n_bins]`` CQT magnitude."""
        y = tf.cast(waveform, tf.float32)
        for _ in range(self._early):
            y = _halve(y, self._kernel)
        outputs = []
        for k, (basis, n_fft, hop, _) in enumerate(self._banks):
            pad = n_fft // 2
            padded = tf.pad(y, [[0, 0], [pad, pad]], mode=self.pad_mode.upper())
            frames = tf.signal.frame(padded, n_fft, hop)
            spectrum = tf.signal.rfft(frames)
            outputs.append(tf.matmul(spectrum, basis))
            if k + 1 < len(self._banks) and hop % 2 == 0:
                y = _halve(y, self._kernel)
        shortest = tf.reduce_min(tf.stack([tf.shape(o)[1] for o in outputs]))
        stacked = tf.concat([o[:, :shortest] for o in reversed(outputs)], axis=-1)
        return tf.abs(stacked) * self._scale

    def call(self, inputs):
        mag = self.magnitude(inputs[..., 0])
        if self.compression == "magnitude":
            return mag
        db = 10.0 * tf.math.log(tf.maximum(tf.square(mag), 1e-10)) / math.log(10.0)
        ref = tf.reduce_max(db, axis=[1, 2], keepdims=True)
        db = db - tf.maximum(ref, -100.0)  # ref = max(amin, max power) in dB
        return tf.maximum(db, tf.reduce_max(db, axis=[1, 2], keepdims=True) - 80.0)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_frames(input_shape[1]), self.n_bins)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"sample_rate": self.sample_rate, "hop": self.hop, "fmin": self.fmin, "n_bins": self.n_bins,
                       "bins_per_octave": self.bins_per_octave, "filter_scale": self.filter_scale,
                       "sparsity": self.sparsity, "convention": self.convention, "pad_mode": self.pad_mode,
                       "compression": self.compression})
        return config
