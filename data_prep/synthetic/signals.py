"""Signal helpers the synthetic proxies share (background noise of ``mini-speech-commands`` and ``mini-dcase``).

Pure numpy, seeded by the caller's generator: the same generator state gives the same samples, so the proxies'
stores stay byte-identical whichever proxy module draws the noise.
"""

from __future__ import annotations

import numpy as np

__all__ = ["colored_noise"]


def colored_noise(n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS white, pink (1/f) or brown (1/f^2) noise, shaped in the frequency domain.

    >>> x = colored_noise(4096, "pink", np.random.default_rng(0))
    >>> x.dtype, x.shape, round(float(np.sqrt(np.mean(x.astype(np.float64) ** 2))), 3)
    (dtype('float32'), (4096,), 1.0)
    """
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spectrum.shape[0], dtype=np.float64)
    f[0] = 1.0
    exponent = {"white": 0.0, "pink": 0.5, "brown": 1.0}[kind]
    noise = np.fft.irfft(spectrum / f ** exponent, n)
    return (noise / (np.sqrt(np.mean(noise ** 2)) + 1e-12)).astype(np.float32)
