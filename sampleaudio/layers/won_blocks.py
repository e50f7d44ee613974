"""Layers shared by the Won 2020 benchmark models (:mod:`sampleaudio.families.won2020`) and HarmonicCNN (:mod:`sampleaudio.families.harmonic_cnn`): the
PyTorch code's batch norm, 3x3 conv block and classifier head (``minzwon/sota-music-tagging-models``,
``training/modules.py``), with PyTorch's defaults translated to Keras."""

from __future__ import annotations

from keras import layers

__all__ = ["BN_EPSILON", "BN_MOMENTUM", "bn", "conv_block", "classifier_head"]

BN_EPSILON = 1e-5  # torch.nn.BatchNorm defaults
BN_MOMENTUM = 0.9  # = 1 - torch's momentum 0.1


def bn(name: str, axis: int = -1) -> layers.BatchNormalization:
    """``torch.nn.BatchNorm`` with its defaults (epsilon 1e-5, momentum 0.1 = Keras 0.9)."""
    return layers.BatchNormalization(axis=axis, epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name)


def conv_block(x, filters: int, pool: tuple[int, int], name: str):
    """``Conv_2d``: conv3x3 (padding 1) -> BN -> ReLU -> maxpool; ``pool`` is (freq, time) as in PyTorch."""
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv")(x)
    x = layers.ReLU(name=f"{name}_relu")(bn(f"{name}_bn")(x))
    return layers.MaxPooling2D((pool[1], pool[0]), name=f"{name}_pool")(x)


def classifier_head(x, num_classes: int, activation: str, hidden: int | None, dropout: float, name: str):
    """Optional Dense -> BN -> ReLU (``penultimate``), dropout, then the logit layer."""
    if hidden:
        x = layers.Dense(hidden, name="dense1")(x)
        x = layers.ReLU(name="penultimate")(bn("dense1_bn")(x))
    else:
        x = layers.Identity(name="penultimate")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    # float32 under mixed precision, as SampleCNN's head: the sigmoid/softmax and the loss stay in full precision
    return layers.Dense(num_classes, activation=activation, dtype="float32", name="logit")(x)
