"""SampleCNN and the models the papers compare it with, as Keras 3 functional models.

References:
    Lee, Park, Kim, Nam, "Sample-level deep convolutional neural networks for music auto-tagging using raw
    waveforms", SMC 2017 (the 3^9 model and its head).
    Kim, Lee, Nam, "Comparison and analysis of SampleCNN architectures for audio classification", IEEE JSTSP
    2019 (blocks, multi-level aggregation, the two-layer head, Fig. 4 front ends, Table I "with RNN").
    Dieleman, Schrauwen, "End-to-end learning for music audio", ICASSP 2014 (frame-level raw-waveform CNN).

The topology and the layer names follow the authors' ``lib/model.py`` (``conv0``, ``norm0``, ``block{i}_*``,
``final_fc``, ``final_norm``, ``logit``) so the authors' released weights load by name
(:func:`sampleaudio.weights.load_keras2_weights`). Inputs are raw waveforms ``(batch, samples, 1)`` of
any length at least ``3 ** (num_blocks + 1)`` samples; global pooling at the end makes the length free.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from sampleaudio.errors import ParameterError
from sampleaudio.families.samplecnn.blocks import get_block
from sampleaudio.families.samplecnn.initializers import conv_initializer
from sampleaudio.layers.frontends import MelSpectrogram
from sampleaudio.layers.normalization import BatchNormalization

__all__ = [
    "block_widths",
    "SampleCNN",
    "StridedSampleCNN",
    "MelCNN",
    "FrameLevelCNN",
    "SampleCNNWithRNN",
]

_ACTIVATIONS = ("sigmoid", "softmax", "linear")


def block_widths(num_blocks: int, init_features: int = 128) -> list[int]:
    """Filters of each block: start at ``init_features``, double at block 2 and at the last block.

    >>> block_widths(9)
    [128, 128, 256, 256, 256, 256, 256, 256, 512]
    """
    widths, f = [], init_features
    for i in range(num_blocks):
        f *= 2 if (i == 2 or i == num_blocks - 1) else 1
        widths.append(f)
    return widths


def _check(num_blocks, num_classes, activation, dropout, init_features):
    if num_blocks < 1:
        raise ParameterError(f"num_blocks must be >= 1. Received: num_blocks={num_blocks}")
    if num_classes < 1:
        raise ParameterError(f"num_classes must be >= 1. Received: num_classes={num_classes}")
    if activation not in _ACTIVATIONS:
        raise ParameterError(f"activation must be one of {_ACTIVATIONS}. Received: activation={activation!r}")
    if not 0.0 <= dropout < 1.0:
        raise ParameterError(f"dropout must be in [0, 1). Received: dropout={dropout}")
    if init_features < 1:
        raise ParameterError(f"init_features must be >= 1. Received: init_features={init_features}")


def _conv_stem(x, filters: int, window: int, hop: int, weight_decay: float, initializer: str = "jstsp"):
    """``conv0`` (filter ``window``, stride ``hop``) -> ``norm0`` -> ``relu0``."""
    x = layers.Conv1D(filters, window, strides=hop, padding="same", use_bias=True,
                      kernel_initializer=conv_initializer(initializer, 1.0),
                      kernel_regularizer=keras.regularizers.L2(weight_decay) if weight_decay else None,
                      name="conv0")(x)
    x = BatchNormalization(name="norm0")(x)
    return layers.Activation("relu", name="relu0")(x)


def _blocks(x, indices, widths, block, amplifying_ratio, weight_decay, initializer="jstsp"):
    apply = get_block(block, amplifying_ratio, weight_decay, initializer)
    outputs = []
    for i in indices:
        x = apply(x, widths[i], f"block{i}")
        outputs.append(x)
    return outputs


def _pool(outputs, multi: bool):
    if multi:
        if len(outputs) < 3:
            raise ParameterError(f"multi-level aggregation needs at least 3 blocks. Received: {len(outputs)} blocks")
        return layers.Concatenate(name="multi")(
            [layers.GlobalMaxPooling1D(name=f"final_pool{i}")(o) for i, o in enumerate(outputs[-3:])])
    return layers.GlobalMaxPooling1D(name="final_pool")(outputs[-1])


def _head(x, num_classes: int, activation: str, dropout: float):
    """The JSTSP head: Dense(width) -> BN -> ReLU -> Dropout -> Dense(num_classes) -> activation (float32)."""
    x = layers.Dense(x.shape[-1], kernel_initializer="glorot_uniform", name="final_fc")(x)
    x = BatchNormalization(name="final_norm")(x)
    x = layers.Activation("relu", name="final_relu")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name="final_drop")(x)
    x = layers.Dense(num_classes, kernel_initializer="glorot_uniform", name="logit")(x)
    return layers.Activation(activation, dtype="float32", name="pred")(x)


def _smc2017_head(x, num_classes: int, activation: str, dropout: float, initializer: str = "jstsp"):
    """The SMC 2017 head: Conv(512, 1) -> BN -> ReLU -> Dropout -> (global max pool) -> Dense -> activation.

    The original flattened a single remaining frame; a global max pool is the same on that frame and keeps
    the input length free. With ``initializer="he_uniform"`` the 1x1 conv is He uniform too, as every conv of
    the SMC 2017 code was; otherwise Keras' Glorot uniform.
    """
    x = layers.Conv1D(512, 1, padding="same", use_bias=True, name="final_conv",
                      kernel_initializer="he_uniform" if initializer == "he_uniform" else "glorot_uniform")(x)
    x = BatchNormalization(name="final_norm")(x)
    x = layers.Activation("relu", name="final_relu")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name="final_drop")(x)
    x = layers.GlobalMaxPooling1D(name="final_pool")(x)
    x = layers.Dense(num_classes, kernel_initializer="glorot_uniform", name="logit")(x)
    return layers.Activation(activation, dtype="float32", name="pred")(x)


def SampleCNN(
    block: str = "se",
    *,
    multi: bool = False,
    num_blocks: int = 9,
    num_classes: int = 50,
    activation: str = "sigmoid",
    amplifying_ratio: float = 0.125,
    dropout: float = 0.5,
    init_features: int = 128,
    weight_decay: float = 0.0,
    head: str = "jstsp",
    input_length: int | None = None,
    initializer: str = "jstsp",
    name: str = "sample_cnn",
) -> keras.Model:
    """SampleCNN on raw waveforms (Lee 2017; Kim, Lee, Nam 2019).

    ``conv0`` (128 filters, size 3, stride 3) -> ``num_blocks`` blocks of the chosen type (each ending in
    ``MaxPool(3)``; widths from :func:`block_widths`) -> global max pool of the last block, or with ``multi``
    the concatenation of the last three blocks' global max pools -> head.

    Args:
        block: ``basic``, ``se``, ``res1``, ``res2``, ``rese1`` or ``rese2`` (Kim 2019 Fig. 2).
        multi: multi-level feature aggregation of the last three blocks.
        num_blocks: 9 for MTAT (59,049-sample input), 8 for Speech Commands and DCASE (22,050).
        num_classes: outputs.
        activation: ``sigmoid`` (multi-label), ``softmax`` (single-label) or ``linear`` (logits).
        amplifying_ratio: SE hidden width as a fraction of the channels (0.125 in the authors' code; their
            ICASSP 2018 code used 16, i.e. 16x the channels: which one the paper's table used is unresolved).
        dropout: dropout before the last dense layer.
        init_features: width of ``conv0`` and the first blocks (128 in the papers).
        weight_decay: L2 factor on conv kernels (the original's flag was never applied; default 0).
        head: ``jstsp`` (two-layer dense head, Kim 2019) or ``smc2017`` (Lee 2017).
        input_length: fix the input length (``None``: any length).
        initializer: conv kernels' initialiser: ``jstsp`` (the JSTSP 2019 code's variance scaling) or
            ``he_uniform`` (the ICASSP 2018 and SMC 2017 code; with ``head="smc2017"`` also the 1x1 conv).
        name: model name.

    Returns:
        A functional ``keras.Model`` mapping ``(batch, samples, 1)`` to ``(batch, num_classes)`` float32.

    Example:
        >>> model = SampleCNN(block="rese2", multi=True, num_blocks=3, num_classes=4, init_features=8)
        >>> tuple(model.output.shape)
        (None, 4)
    """
    _check(num_blocks, num_classes, activation, dropout, init_features)
    if head not in ("jstsp", "smc2017"):
        raise ParameterError(f"head must be 'jstsp' or 'smc2017'. Received: head={head!r}")
    inputs = keras.Input(shape=(input_length, 1), name="input")
    x = _conv_stem(inputs, init_features, 3, 3, weight_decay, initializer)
    outputs = _blocks(x, range(num_blocks), block_widths(num_blocks, init_features), block, amplifying_ratio,
                      weight_decay, initializer)
    if head == "smc2017":
        if multi:
            raise ParameterError("the SMC 2017 head takes the last block only; multi must be False")
        return keras.Model(inputs, _smc2017_head(outputs[-1], num_classes, activation, dropout, initializer),
                           name=name)
    return keras.Model(inputs, _head(_pool(outputs, multi), num_classes, activation, dropout), name=name)


def _remaining_blocks(num_blocks: int, hop: int) -> int:
    """Blocks left after a first layer of stride ``hop`` = 3^k: the total reduction 3^(num_blocks+1) is kept."""
    k = round(math.log(hop, 3))
    if 3 ** k != hop:
        raise ParameterError(f"hop must be a power of 3 so the remaining blocks reach one frame. Received: hop={hop}")
    remaining = num_blocks + 1 - k
    if remaining < 1:
        raise ParameterError(f"hop={hop} leaves no block of the {num_blocks}-block model")
    return remaining


def _trunk_and_head(inputs, x, remaining: int, *, block, multi, num_blocks, num_classes, activation,
                    amplifying_ratio, dropout, init_features, name, initializer="jstsp") -> keras.Model:
    """The last ``remaining`` blocks of the ``num_blocks`` model (widths and names kept), pooling and head."""
    outputs = _blocks(x, range(num_blocks - remaining, num_blocks), block_widths(num_blocks, init_features), block,
                      amplifying_ratio, 0.0, initializer)
    return keras.Model(inputs, _head(_pool(outputs, multi), num_classes, activation, dropout), name=name)


def StridedSampleCNN(
    window: int,
    hop: int,
    *,
    block: str = "basic",
    multi: bool = False,
    num_blocks: int = 9,
    num_classes: int = 50,
    activation: str = "sigmoid",
    amplifying_ratio: float = 0.125,
    dropout: float = 0.5,
    init_features: int = 128,
    initializer: str = "jstsp",
    name: str = "strided_sample_cnn",
) -> keras.Model:
    """SampleCNN whose first conv has filter ``window`` and stride ``hop`` (Kim 2019 Fig. 4, "raw" curve).

    With ``hop = 3^k`` the first ``k - 1`` blocks of the ``num_blocks`` model are dropped so the total
    reduction is unchanged; the remaining blocks keep their widths and names. ``window = hop = 3`` is SampleCNN.
    """
    _check(num_blocks, num_classes, activation, dropout, init_features)
    remaining = _remaining_blocks(num_blocks, hop)
    inputs = keras.Input(shape=(None, 1), name="input")
    x = _conv_stem(inputs, init_features, window, hop, 0.0, initializer)
    return _trunk_and_head(inputs, x, remaining, block=block, multi=multi, num_blocks=num_blocks,
                           num_classes=num_classes, activation=activation, amplifying_ratio=amplifying_ratio,
                           dropout=dropout, init_features=init_features, name=name, initializer=initializer)


def MelCNN(
    window: int,
    hop: int,
    *,
    block: str = "basic",
    multi: bool = False,
    num_blocks: int = 9,
    num_classes: int = 50,
    activation: str = "sigmoid",
    amplifying_ratio: float = 0.125,
    dropout: float = 0.5,
    init_features: int = 128,
    n_mels: int = 128,
    sample_rate: int = 22050,
    initializer: str = "jstsp",
    name: str = "mel_cnn",
) -> keras.Model:
    """Mel-spectrogram CNN on the SampleCNN trunk (Kim 2019 Fig. 4, "mel" curve).

    A :class:`MelSpectrogram` layer (window ``window``, hop ``hop``, ``n_mels`` bands, log compression) and a
    batch normalisation replace ``conv0``; the mel bands are the channels of the remaining blocks, which are the
    same blocks :func:`StridedSampleCNN` keeps for that hop.
    """
    _check(num_blocks, num_classes, activation, dropout, init_features)
    remaining = _remaining_blocks(num_blocks, hop)
    inputs = keras.Input(shape=(None, 1), name="input")
    x = MelSpectrogram(sample_rate=sample_rate, window=window, hop=hop, n_mels=n_mels, name="melspec")(inputs)
    x = BatchNormalization(name="norm0")(x)
    return _trunk_and_head(inputs, x, remaining, block=block, multi=multi, num_blocks=num_blocks,
                           num_classes=num_classes, activation=activation, amplifying_ratio=amplifying_ratio,
                           dropout=dropout, init_features=init_features, name=name, initializer=initializer)


def FrameLevelCNN(
    frame_size: int = 256,
    *,
    segment: int = 59049,
    num_blocks: int | None = None,
    num_classes: int = 50,
    activation: str = "sigmoid",
    dropout: float = 0.5,
    init_features: int = 128,
    initializer: str = "jstsp",
    name: str = "frame_level_cnn",
) -> keras.Model:
    """Frame-level raw-waveform CNN (Dieleman and Schrauwen, ICASSP 2014), on the SampleCNN trunk.

    The first conv has filter = stride = ``frame_size`` (256, 512 or 1024 in the paper); then basic blocks
    (conv 3, pool 3) until about one frame of ``segment`` remains: ``round(log3(segment / frame_size))`` blocks
    unless ``num_blocks`` is given. The last blocks of the 9-block width schedule are used.
    """
    if frame_size < 2:
        raise ParameterError(f"frame_size must be >= 2. Received: frame_size={frame_size}")
    if num_blocks is None:
        num_blocks = max(3, round(math.log(segment / frame_size, 3)))
    _check(num_blocks, num_classes, activation, dropout, init_features)
    full = max(9, num_blocks)
    inputs = keras.Input(shape=(None, 1), name="input")
    x = _conv_stem(inputs, init_features, frame_size, frame_size, 0.0, initializer)
    outputs = _blocks(x, range(full - num_blocks, full), block_widths(full, init_features), "basic", 0.125, 0.0,
                      initializer)
    return keras.Model(inputs, _head(_pool(outputs, False), num_classes, activation, dropout), name=name)


def SampleCNNWithRNN(
    rnn_blocks: int,
    *,
    block: str = "basic",
    num_blocks: int = 9,
    num_classes: int = 50,
    activation: str = "sigmoid",
    amplifying_ratio: float = 0.125,
    dropout: float = 0.5,
    init_features: int = 128,
    rnn: str = "lstm",
    rnn_units: int = 512,
    initializer: str = "jstsp",
    name: str = "sample_cnn_rnn",
) -> keras.Model:
    """SampleCNN "with RNN" (Kim 2019 Table I): the first ``rnn_blocks`` blocks, a recurrent layer, the head.

    The paper uses 4 blocks for MTAT and Speech Commands and 5 for DCASE. It does not fix the recurrent cell;
    here it is one ``rnn`` layer (``lstm`` or ``gru``) of ``rnn_units`` whose last state feeds the head.
    """
    _check(num_blocks, num_classes, activation, dropout, init_features)
    if not 1 <= rnn_blocks <= num_blocks:
        raise ParameterError(f"rnn_blocks must be in [1, num_blocks]. Received: rnn_blocks={rnn_blocks}")
    cells = {"lstm": layers.LSTM, "gru": layers.GRU}
    if rnn not in cells:
        raise ParameterError(f"rnn must be 'lstm' or 'gru'. Received: rnn={rnn!r}")
    inputs = keras.Input(shape=(None, 1), name="input")
    x = _conv_stem(inputs, init_features, 3, 3, 0.0, initializer)
    x = _blocks(x, range(rnn_blocks), block_widths(num_blocks, init_features), block, amplifying_ratio, 0.0,
                initializer)[-1]
    x = cells[rnn](rnn_units, name="rnn")(x)
    return keras.Model(inputs, _head(x, num_classes, activation, dropout), name=name)
