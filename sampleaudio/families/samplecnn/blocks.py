"""SampleCNN building blocks: basic, SE, Res-1/2 and ReSE-1/2.

Reference: Kim, Lee, Nam, "Comparison and analysis of SampleCNN architectures for audio classification",
IEEE JSTSP 2019, Sec. III-B and Fig. 2 (and ICASSP 2018); layer names follow the authors' ``lib/model.py``
so released weights load by name (``block{i}_conv``, ``block{i}_norm``, ``block{i}_ex0`` ...).

Every block ends in ``MaxPool1D(3)``, so each one divides the time axis by three.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers

from sampleaudio.errors import ParameterError
from sampleaudio.families.samplecnn.initializers import conv_initializer
from sampleaudio.layers.dropout import Dropout
from sampleaudio.layers.normalization import BatchNormalization

__all__ = ["BLOCKS", "squeeze_excitation", "basic_block", "se_block", "rese_block", "get_block"]


def _conv(filters: int, kernel_size: int, name: str, weight_decay: float, initializer, strides: int = 1):
    return layers.Conv1D(filters, kernel_size, strides=strides, padding="same", use_bias=True,
                         kernel_initializer=initializer,
                         kernel_regularizer=keras.regularizers.L2(weight_decay) if weight_decay else None,
                         name=name)


def squeeze_excitation(x, amplifying_ratio: float, name: str):
    """SE excitation of ``x`` (Hu et al., CVPR 2018), as a ``[B, 1, C]`` channel scale.

    GlobalAvgPool -> Dense(int(C * ratio), relu) -> Dense(C, sigmoid), layers ``{name}_squeeze``,
    ``{name}_ex0``, ``{name}_ex1``.
    """
    channels = x.shape[-1]
    s = layers.GlobalAveragePooling1D(name=f"{name}_squeeze")(x)
    s = layers.Reshape((1, channels), name=f"{name}_reshape")(s)
    s = layers.Dense(max(1, int(channels * amplifying_ratio)), activation="relu",
                     kernel_initializer="glorot_uniform", name=f"{name}_ex0")(s)
    return layers.Dense(channels, activation="sigmoid", kernel_initializer="glorot_uniform",
                        name=f"{name}_ex1")(s)


def basic_block(x, filters: int, name: str, *, weight_decay: float = 0.0, initializer: str = "jstsp", **_):
    """Conv(3) -> BN -> ReLU -> MaxPool(3)."""
    x = _conv(filters, 3, f"{name}_conv", weight_decay, conv_initializer(initializer, 2.0))(x)
    x = BatchNormalization(name=f"{name}_norm")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    return layers.MaxPooling1D(pool_size=3, name=f"{name}_pool")(x)


def se_block(x, filters: int, name: str, *, amplifying_ratio: float = 0.125, weight_decay: float = 0.0,
             initializer: str = "jstsp", **_):
    """A basic block whose output is scaled channel-wise by its SE excitation."""
    x = basic_block(x, filters, name, weight_decay=weight_decay, initializer=initializer)
    return layers.Multiply(name=f"{name}_scale")([x, squeeze_excitation(x, amplifying_ratio, name)])


def rese_block(x, filters: int, name: str, *, num_convs: int = 1, amplifying_ratio: float | None = None,
               weight_decay: float = 0.0, initializer: str = "jstsp", **_):
    """Res-N (``amplifying_ratio=None``) or ReSE-N block.

    shortcut (identity, or Conv(1) -> BN when the width changes); ``num_convs`` times Conv(3) -> BN with
    ReLU -> Dropout(0.2) between them; SE scale after the last BN (ReSE only); add -> ReLU -> MaxPool(3).
    """
    if num_convs not in (1, 2):
        raise ParameterError(f"num_convs must be 1 or 2. Received: num_convs={num_convs}")
    if filters != x.shape[-1]:
        shortcut = _conv(filters, 1, f"{name}_scut_conv", weight_decay, "glorot_uniform")(x)
        shortcut = BatchNormalization(name=f"{name}_scut_norm")(shortcut)
    else:
        shortcut = x
    for i in range(num_convs):
        if i > 0:
            x = layers.Activation("relu", name=f"{name}_relu{i - 1}")(x)
            x = Dropout(0.2, name=f"{name}_drop{i - 1}")(x)  # 16-bit draws: sampleaudio.layers.dropout
        x = _conv(filters, 3, f"{name}_conv{i}", weight_decay, conv_initializer(initializer, 2.0))(x)
        x = BatchNormalization(name=f"{name}_norm{i}")(x)
    if amplifying_ratio:
        x = layers.Multiply(name=f"{name}_scale")([x, squeeze_excitation(x, amplifying_ratio, name)])
    x = layers.Add(name=f"{name}_scut")([shortcut, x])
    x = layers.Activation("relu", name=f"{name}_relu1")(x)
    return layers.MaxPooling1D(pool_size=3, name=f"{name}_pool")(x)


#: Block name -> (function, fixed keyword arguments).
BLOCKS: dict[str, tuple[Callable, dict]] = {
    "basic": (basic_block, {}),
    "se": (se_block, {}),
    "res1": (rese_block, {"num_convs": 1, "amplifying_ratio": None}),
    "res2": (rese_block, {"num_convs": 2, "amplifying_ratio": None}),
    "rese1": (rese_block, {"num_convs": 1}),
    "rese2": (rese_block, {"num_convs": 2}),
}


def get_block(block: str, amplifying_ratio: float, weight_decay: float, initializer: str = "jstsp") -> Callable:
    """A ``fn(x, filters, name)`` applying the named block with its settings.

    ``initializer``: ``jstsp`` or ``he_uniform`` for the size-3 convs (:func:`conv_initializer`); the 1x1
    shortcut conv and the SE dense layers keep Glorot uniform, as in both of the authors' code bases.
    """
    if block not in BLOCKS:
        raise ParameterError(f"block must be one of {sorted(BLOCKS)}. Received: block={block!r}")
    conv_initializer(initializer)  # a bad name fails here, with the accepted ones
    fn, fixed = BLOCKS[block]
    kwargs = {"amplifying_ratio": amplifying_ratio, "weight_decay": weight_decay, "initializer": initializer,
              **fixed}

    def apply(x, filters: int, name: str):
        return fn(x, filters, name, **kwargs)

    return apply
