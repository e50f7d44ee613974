"""Pure numpy filterbank matrices shared by the spectrogram front ends.

Two mel recipes appear in the papers ported here, and they are not interchangeable:

- **Slaney** (librosa's default, ``htk=False, norm="slaney"``): linear below 1 kHz, logarithmic above, each
  triangle scaled to unit area. musicnn (Pons and Serra) computes its input with it.
- **HTK without normalisation** (torchaudio's ``MelSpectrogram`` default): ``2595 log10(1 + f / 700)``,
  triangles of peak 1. Won et al. (SMC 2020) use it for every model of their benchmark.

Both return ``[n_fft // 2 + 1, n_mels]`` so that ``power @ matrix`` maps a power spectrum to mel bands.
"""

from __future__ import annotations

import numpy as np

__all__ = ["hz_to_mel", "mel_to_hz", "mel_matrix", "dft_matrices"]

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
