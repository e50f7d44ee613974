"""The parameters of SampleCNN and of the baselines it is compared with (Lee et al., SMC 2017; Kim, Lee, Nam, IEEE
JSTSP 2019, Sec. III and Fig. 4; Dieleman and Schrauwen, ICASSP 2014), one class per architecture.

Kim 2019's input sizes live here too (:data:`KIM2019_SIZES`): they are this family's facts, not a dataset's.
"""

from __future__ import annotations

import dataclasses

from sampleaudio.families import ModelParams
from sampleaudio.params import param

__all__ = ["BLOCKS", "KIM2019_SIZES", "SampleCNNParams", "Lee2017Params", "RNNParams", "FrontEndParams",
           "FrameParams", "blocks_for_segment", "samplecnn_blocks"]

#: The blocks of Kim 2019 Sec. III (basic, squeeze-and-excitation, residual with 1 or 2 convs, both).
BLOCKS = ("basic", "se", "res1", "res2", "rese1", "rese2")
#: Kim, Lee, Nam (IEEE JSTSP 2019, Sec. IV-A; the authors' ``lib/data/config.py``; Table I): each task's SampleCNN
#: size, dataset -> (blocks after the stem, input segment, blocks before the recurrent layer of the "with RNN"
#: model). The segment is 3 ** (blocks + 1) for MTAT; 22,050 (1 s) for the others, as 3^9 = 19,683 would leave
#: Speech Commands' 1 s clips short, so the authors used 1 s with 8 blocks.
KIM2019_SIZES: dict[str, tuple[int, int, int]] = {
    "mtat": (9, 59049, 4), "speech-commands": (8, 22050, 4), "dcase2017": (8, 22050, 5)}

_DROPOUT = dict(help="dropout before the output layer", low=0, high=1, high_open=True)
_WIDTH = dict(help="width of the first layers (128 in the papers)", low=1, high=4096)
_BLOCKS = dict(help="blocks after the stem (default: Kim 2019's for the dataset: 9 MTAT, 8 Speech Commands and "
                    "DCASE; else the most the segment allows)", low=1, high=20)
_INIT = dict(help="conv initialiser: the JSTSP 2019 code's variance scaling, or he_uniform (ICASSP 2018 code)",
             choices=("jstsp", "he_uniform"))


@dataclasses.dataclass
class Lee2017Params(ModelParams):
    """SampleCNN 3^9 with the SMC 2017 head (always basic blocks, He uniform)."""

    architecture: str = "lee2017"
    num_blocks: int | None = param(None, **_BLOCKS)
    dropout: float = param(0.5, **_DROPOUT)
    init_features: int = param(128, **_WIDTH)


@dataclasses.dataclass
class FrameParams(ModelParams):
    """The frame-level CNN (Dieleman and Schrauwen, ICASSP 2014): a strided first layer of ``window`` samples."""

    architecture: str = "frame"
    window: int = param(3, "first-layer window in samples (mel / strided / frame)", low=1, high=1 << 20)
    dropout: float = param(0.5, **_DROPOUT)
    init_features: int = param(128, **_WIDTH)
    initializer: str = param("jstsp", **_INIT)


@dataclasses.dataclass
class RNNParams(ModelParams):
    """SampleCNN + RNN (Kim 2019 Table I)."""

    architecture: str = "samplecnn_rnn"
    block: str = param("se", "block type (Kim 2019 Sec. III)", choices=BLOCKS)
    num_blocks: int | None = param(None, **_BLOCKS)
    amplifying_ratio: float = param(0.125, "SE hidden width / channels (JSTSP code 0.125, ICASSP 2018 code 16)",
                                    low=0, low_open=True)
    dropout: float = param(0.5, **_DROPOUT)
    init_features: int = param(128, **_WIDTH)
    initializer: str = param("jstsp", **_INIT)


@dataclasses.dataclass
class SampleCNNParams(RNNParams):
    """SampleCNN with basic / SE / Res / ReSE blocks and multi-level aggregation (Kim 2019 Sec. III)."""

    architecture: str = "samplecnn"
    multi: bool = param(False, "multi-level aggregation of the last 3 blocks")


@dataclasses.dataclass
class FrontEndParams(SampleCNNParams):
    """A SampleCNN behind another first layer (Kim 2019 Fig. 4): a mel spectrogram or a strided conv."""

    architecture: str = "mel"
    window: int = param(3, "first-layer window in samples (mel / strided / frame)", low=1, high=1 << 20)
    hop: int = param(3, "first-layer hop in samples (mel / strided)", low=1, high=1 << 20)


def blocks_for_segment(segment: int) -> int:
    """The most SampleCNN blocks a segment allows: ``3 ** (blocks + 1) <= segment`` (8 for 22,050, 9 for 59,049)."""
    blocks = 0
    while 3 ** (blocks + 2) <= segment:
        blocks += 1
    return blocks


def samplecnn_blocks(params, dataset: str, segment: int) -> int:
    """SampleCNN blocks after the stem: ``params.num_blocks``; else Kim 2019's for the dataset; else the most the
    segment allows."""
    if getattr(params, "num_blocks", None):
        return params.num_blocks
    if dataset in KIM2019_SIZES:
        return KIM2019_SIZES[dataset][0]
    return blocks_for_segment(segment)
