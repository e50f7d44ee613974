"""Won, Chun, Nieto, Serra, "Data-driven harmonic filters for audio representation learning" (ICASSP 2020):
HarmonicCNN, learnable harmonic band-pass filters over an STFT and a 2D CNN, at 16 kHz on 5 s inputs, scored as
the Won 2020 benchmark scores every model (16 evenly spaced chunks).
"""

from __future__ import annotations

import dataclasses

from sampleaudio.families import WON2020_CHUNKS, Architecture, AudioInput, Family, ModelParams
from sampleaudio.params import param

__all__ = ["FAMILY", "HarmonicParams"]


@dataclasses.dataclass
class HarmonicParams(ModelParams):
    architecture: str = "harmonic_cnn"
    dropout: float = param(0.5, "dropout before the output layer", low=0, high=1, high_open=True)
    init_features: int = param(128, "width (n_channels; 128 in the paper)", low=1, high=4096)


FAMILY = Family(
    name="harmonic_cnn",
    paper="Won, Chun, Nieto, Serra, ICASSP 2020",
    docs="papers/won2020.md",
    architectures=(
        Architecture("harmonic_cnn", HarmonicParams, "sampleaudio.families.harmonic_cnn.build:harmonic_cnn",
                     "Won, Chun, Nieto, Serra, ICASSP 2020",
                     AudioInput(sample_rate=16000, segment=80000, chunking="evenly-spaced", chunks=WON2020_CHUNKS),
                     {"penultimate": "penultimate"}),
    ),
)
