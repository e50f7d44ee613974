"""Choi, Fazekas, Sandler, Cho, "Transfer learning for music classification and regression tasks" (ISMIR 2017;
code ``keunwoochoi/transfer_learning_music``): the source convnet, a 5-layer 2D CNN over a 12 kHz log-mel
spectrogram trained on tags, whose every layer's output after batch norm, ELU and max-pooling, averaged over
time and frequency, is a 32-d feature; the five concatenated (160-d) are the "convnet feature" transferred to
other tasks (:mod:`sampleaudio.transfer`).
"""

from __future__ import annotations

import dataclasses

from sampleaudio.families import Architecture, AudioInput, Family, ModelParams

__all__ = ["FAMILY", "Choi2017Params", "CHOI2017_RATE", "CHOI2017_SEGMENT", "MIN_SEGMENT"]

#: 12 kHz, 29 s (``easy_feature_extraction.py``: ``SR = 12000``, ``LEN_SRC = 29.``)
CHOI2017_RATE = 12000
CHOI2017_SEGMENT = 12000 * 29
#: the pools take 4 x 4 x 5 x 4 x 4 = 1,280 frames of hop 256 (``ceil(samples / 256)`` frames)
MIN_SEGMENT = 1279 * 256 + 1


@dataclasses.dataclass
class Choi2017Params(ModelParams):
    """The convnet has no size parameters (5 x 32 channels, 96 mel bands)."""

    architecture: str = "choi2017_convnet"


FAMILY = Family(
    name="choi2017",
    paper="Choi, Fazekas, Sandler, Cho, ISMIR 2017",
    docs="papers/choi2017.md",
    architectures=(
        Architecture("choi2017_convnet", Choi2017Params, "sampleaudio.families.choi2017.build:choi2017_convnet",
                     "5-layer 2D convnet over a 12 kHz log-mel spectrogram, its layers transferred (Choi et al., "
                     "ISMIR 2017)",
                     AudioInput(sample_rate=CHOI2017_RATE, segment=CHOI2017_SEGMENT, min_segment=MIN_SEGMENT),
                     {"penultimate": "penultimate"}, signature=lambda params: "choi2017_convnet"),
    ),
)
