"""Builders of the SampleCNN family's architectures: ``(params, task, segment, sample_rate) -> keras.Model``."""

from __future__ import annotations

import keras

from sampleaudio.errors import ParameterError
from sampleaudio.families.samplecnn.params import KIM2019_SIZES, samplecnn_blocks

__all__ = ["samplecnn", "lee2017", "samplecnn_rnn", "mel", "strided", "frame"]


def _blocks(params, task, segment: int) -> int:
    blocks = samplecnn_blocks(params, task.name, segment)
    if blocks < 1:
        raise ParameterError(f"a segment of {segment} samples is too short for a SampleCNN (at least 9)")
    return blocks


def _common(params, task) -> dict:
    return {"num_classes": task.num_classes, "activation": task.activation, "dropout": params.dropout,
            "init_features": params.init_features, "initializer": params.initializer}


def samplecnn(params, task, segment: int, sample_rate: int) -> keras.Model:
    from sampleaudio.families.samplecnn.model import SampleCNN

    return SampleCNN(block=params.block, multi=params.multi, num_blocks=_blocks(params, task, segment),
                     amplifying_ratio=params.amplifying_ratio, **_common(params, task))


def lee2017(params, task, segment: int, sample_rate: int) -> keras.Model:
    """The SMC 2017 code's model: He uniform on every conv."""
    from sampleaudio.families.samplecnn.model import SampleCNN

    return SampleCNN(block="basic", multi=False, num_blocks=_blocks(params, task, segment), head="smc2017",
                     num_classes=task.num_classes, activation=task.activation, dropout=params.dropout,
                     init_features=params.init_features, initializer="he_uniform")


def samplecnn_rnn(params, task, segment: int, sample_rate: int) -> keras.Model:
    from sampleaudio.families.samplecnn.model import SampleCNNWithRNN

    return SampleCNNWithRNN(KIM2019_SIZES.get(task.name, (0, 0, 4))[2], block=params.block,
                            num_blocks=_blocks(params, task, segment), amplifying_ratio=params.amplifying_ratio,
                            **_common(params, task))


def mel(params, task, segment: int, sample_rate: int) -> keras.Model:
    from sampleaudio.families.samplecnn.model import MelCNN

    return MelCNN(params.window, params.hop, block=params.block, multi=params.multi,
                  num_blocks=_blocks(params, task, segment), amplifying_ratio=params.amplifying_ratio,
                  sample_rate=sample_rate, **_common(params, task))


def strided(params, task, segment: int, sample_rate: int) -> keras.Model:
    from sampleaudio.families.samplecnn.model import StridedSampleCNN

    return StridedSampleCNN(params.window, params.hop, block=params.block, multi=params.multi,
                            num_blocks=_blocks(params, task, segment), amplifying_ratio=params.amplifying_ratio,
                            **_common(params, task))


def frame(params, task, segment: int, sample_rate: int) -> keras.Model:
    from sampleaudio.families.samplecnn.model import FrameLevelCNN

    return FrameLevelCNN(params.window, segment=segment, **_common(params, task))
