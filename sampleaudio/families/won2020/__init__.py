"""Won, Ferraro, Bogdanov, Serra, "Evaluation of CNN-based automatic music tagging models" (SMC 2020; code
``minzwon/sota-music-tagging-models``): FCN, CRNN, their Musicnn, the short-chunk CNN and ResNet, each at its paper
input (16 kHz), scored on 16 evenly spaced chunks per clip (``training/eval.py``).
"""

from __future__ import annotations

import dataclasses

from sampleaudio.families import WON2020_CHUNKS, Architecture, AudioInput, Family, ModelParams
from sampleaudio.params import param

__all__ = ["FAMILY", "WonParams", "ScalableWonParams", "WON2020_INPUTS"]

#: architecture -> its paper input in samples at 16 kHz (``training/main.py``'s input lengths)
WON2020_INPUTS = {"fcn": 464000, "crnn": 464000, "won_musicnn": 48000, "short_chunk_cnn": 59049,
                  "short_chunk_resnet": 59049}


@dataclasses.dataclass
class WonParams(ModelParams):
    """The fixed-width models (FCN, CRNN, Musicnn)."""

    architecture: str = "fcn"
    dropout: float = param(0.5, "dropout before the output layer", low=0, high=1, high_open=True)


@dataclasses.dataclass
class ScalableWonParams(WonParams):
    """The short-chunk models, whose width is a parameter (``n_channels``, 128 in the paper)."""

    architecture: str = "short_chunk_cnn"
    init_features: int = param(128, "width (n_channels; 128 in the paper)", low=1, high=4096)


_PAPER = "Won, Ferraro, Bogdanov, Serra, SMC 2020"


def _architecture(name: str, params: type, title: str) -> Architecture:
    return Architecture(name, params, f"sampleaudio.families.won2020.build:{name}", f"{title} ({_PAPER})",
                        AudioInput(sample_rate=16000, segment=WON2020_INPUTS[name], chunking="evenly-spaced",
                                   chunks=WON2020_CHUNKS),
                        {"penultimate": "penultimate"})


FAMILY = Family(
    name="won2020",
    paper=_PAPER,
    docs="papers/won2020.md",
    architectures=(
        _architecture("fcn", WonParams, "FCN"),
        _architecture("crnn", WonParams, "CRNN"),
        _architecture("won_musicnn", WonParams, "their Musicnn"),
        _architecture("short_chunk_cnn", ScalableWonParams, "short-chunk CNN"),
        _architecture("short_chunk_resnet", ScalableWonParams, "short-chunk ResNet"),
    ),
)
