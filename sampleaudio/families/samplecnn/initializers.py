"""The original SampleCNN weight initialiser.

Reference: Kim, Lee, Nam, "Comparison and analysis of SampleCNN architectures for audio classification",
IEEE JSTSP 2019; authors' ``lib/initialization.py`` (``taejun_uniform``).
"""

from __future__ import annotations

import math

import keras

from sampleaudio.errors import ParameterError

__all__ = ["AudioVarianceScaling", "taejun_uniform", "INITIALIZERS", "conv_initializer"]

#: Conv initialisers of the three code bases: ``jstsp`` (``tae-jun/sampleaudio``, IEEE JSTSP 2019) and
#: ``he_uniform`` (``tae-jun/resemul``, ICASSP 2018, and ``jongpillee/sampleCNN``, SMC 2017).
INITIALIZERS = ("jstsp", "he_uniform")


@keras.saving.register_keras_serializable(package="sampleaudio")
class AudioVarianceScaling(keras.initializers.Initializer):
    """Uniform variance scaling for Conv1D kernels as the authors computed it.

    The original takes ``fan_in = in_channels * (kernel_size * in_channels)`` (its comment notes the
    receptive field should have been ``kernel_size`` alone); this quirk is kept so trained statistics match.
    The scale is ``scale / fan_in`` and values are drawn from ``U(-sqrt(3 * scale'), sqrt(3 * scale'))``.

    Args:
        scale: variance scale (2.0 for the blocks, 1.0 for ``conv0`` in the original).
        seed: random seed.
    """

    def __init__(self, scale: float = 2.0, seed: int | None = None):
        if scale <= 0:
            raise ParameterError(f"`scale` must be positive. Received: scale={scale}")
        self.scale = float(scale)
        self.seed = seed

    def __call__(self, shape, dtype=None):
        if len(shape) != 3:
            raise ParameterError(f"AudioVarianceScaling is for Conv1D kernels (rank 3). Received: shape={shape}")
        kernel_size, in_channels, _ = shape
        fan_in = in_channels * kernel_size * in_channels
        limit = math.sqrt(3.0 * self.scale / max(1.0, fan_in))
        return keras.random.uniform(shape, -limit, limit, dtype=dtype, seed=self.seed)

    def get_config(self) -> dict:
        return {"scale": self.scale, "seed": self.seed}


def taejun_uniform(scale: float = 2.0, seed: int | None = None) -> AudioVarianceScaling:
    """The authors' name for :class:`AudioVarianceScaling`."""
    return AudioVarianceScaling(scale=scale, seed=seed)


def conv_initializer(kind: str, scale: float = 2.0):
    """The kernel initialiser of a size-3 (or stem) conv under one of the original code bases.

    ``jstsp``: :class:`AudioVarianceScaling` with ``scale`` (2.0 for the blocks, 1.0 for ``conv0``);
    ``he_uniform``: Keras' He uniform, which the ICASSP 2018 code (``resemul`` ``model.py``) and the SMC 2017 code
    (``jongpillee/sampleCNN``, ``init='he_uniform'``) put on every such conv.
    """
    if kind == "jstsp":
        return AudioVarianceScaling(scale)
    if kind == "he_uniform":
        return "he_uniform"
    raise ParameterError(f"initializer must be one of {INITIALIZERS}. Received: initializer={kind!r}")
