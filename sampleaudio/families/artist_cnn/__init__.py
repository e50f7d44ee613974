"""Park, Lee, Park, Ha, Nam, "Representation learning of music using artist labels" (ISMIR 2018): a 1D CNN over
129 mel frames (~3 s at 22,050 Hz, hop 512) trained with a softmax over artists (the basic model), sigmoid over tags
(the tag model, on a multi-label store) or the Siamese objective (artist triplets and a max-margin loss), and the
authors' released Siamese model as the pretrained name ``park2018-artist``.

A clip's feature is the last conv block's output, max over time, mean over segments (Sec. 3.3).
"""

from __future__ import annotations

import dataclasses

from sampleaudio.families import (
    Architecture,
    AudioInput,
    Family,
    ModelParams,
    Objective,
    ObjectiveParams,
    Pretrained,
)
from sampleaudio.params import param

#: 128 mel frames of hop 512: the shortest crop the encoder's pools take
MIN_SEGMENT = 127 * 512

__all__ = ["FAMILY", "ArtistParams", "SiameseParams", "PARK2018_SEGMENT"]

#: 129 mel frames of hop 512: 128 * 512 = 65,536 samples at 22,050 Hz per example (Sec. 3)
PARK2018_SEGMENT = 65536


@dataclasses.dataclass
class ArtistParams(ModelParams):
    """Park 2018's 1D CNN has no size parameters (five conv blocks of 128/128/128/128/256 filters)."""

    architecture: str = "artist_cnn"


@dataclasses.dataclass
class SiameseParams(ObjectiveParams):
    """Park 2018 Sec. 3.2: an anchor song, a song of the same artist and ``num_negatives`` songs of other artists
    through the shared encoder; the max-margin loss over cosine similarities."""

    name: str = "siamese"
    num_negatives: int = param(4, "negatives per anchor (4 in Park 2018)", low=1)
    margin: float = param(0.4, "margin of the max-margin loss (0.4 in Park 2018)", low=0, low_open=True)
    anchors: str = param("each", "each: every song of the split is an anchor once per epoch (training) or once in "
                                 "the fixed validation set, as the authors' generators; uniform: anchors drawn "
                                 "uniformly with replacement", choices=("each", "uniform"))


FAMILY = Family(
    name="artist_cnn",
    paper="Park, Lee, Park, Ha, Nam, ISMIR 2018",
    docs="papers/park2018.md",
    architectures=(
        Architecture("artist_cnn", ArtistParams, "sampleaudio.families.artist_cnn.build:artist_cnn",
                     "1D CNN over mel frames, softmax over artists (Park et al., ISMIR 2018, Sec. 3)",
                     AudioInput(sample_rate=22050, segment=PARK2018_SEGMENT, pooling="mean", min_segment=MIN_SEGMENT),
                     {"penultimate": "sampleaudio.families.artist_cnn.build:before_global_pool"},
                     objectives=("classification", "siamese")),
    ),
    objectives=(Objective("siamese", SiameseParams, "sampleaudio.families.artist_cnn.siamese:SiameseObjective",
                          "artist triplets, max-margin loss (Park et al., ISMIR 2018, Sec. 3.2)"),),
    pretrained=(
        Pretrained("park2018-artist", "sampleaudio.families.artist_cnn.model:load_park2018_artist",
                   "Park et al., ISMIR 2018 (the authors' Siamese model)",
                   needs="--weights model_siamese_10000.h5 (the authors' release, jongpillee/ismir2018-artist, MIT)",
                   sample_rate=22050, segment=660480, outputs="256-d song embedding (first 30 s of a file)"),
    ),
)
