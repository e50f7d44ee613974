"""Choi, Lee, Park, Nam, "Zero-shot learning for audio-based music classification and tagging" (ISMIR 2019): an
audio branch (Park 2018's 1D CNN over 130 mel frames) and a word branch co-embedded with a max-margin loss over
(track, tag word vector) pairs, so that tags never seen in training can be scored, and text can search music.
"""

from __future__ import annotations

import dataclasses

from sampleaudio.families import Architecture, AudioInput, Family, ModelParams, Objective, ObjectiveParams
from sampleaudio.params import param

#: 128 mel frames of hop 512: the shortest crop the encoder's pools take
MIN_SEGMENT = 127 * 512

__all__ = ["FAMILY", "ZeroShotParams", "CoEmbeddingParams", "CHOI2019_SEGMENT"]

#: 130 mel frames of hop 512 (the authors' crop; the paper's text says ~3 s): 129 * 512 samples at 22,050 Hz
CHOI2019_SEGMENT = 66048


@dataclasses.dataclass
class ZeroShotParams(ModelParams):
    """The audio branch has no size parameters (Park 2018's encoder, a 256-d embedding)."""

    architecture: str = "choi2019_audio"


@dataclasses.dataclass
class CoEmbeddingParams(ObjectiveParams):
    """Choi 2019 Sec. 3: (track, tag) pairs of the seen tags against ``num_negatives`` tags the track does not
    have, a max-margin loss over cosine similarities between the audio and the word embeddings."""

    name: str = "coembedding"
    num_negatives: int = param(1, "negative tags per positive (1 in the authors' code)", low=1)
    margin: float = param(0.4, "margin of the max-margin loss (0.4 in the authors' code)", low=0, low_open=True)
    word_vectors: str = param("glove-6b-50d", "glove-6b-50d (the zeroshot extra's wheel), random:<dim> (the "
                                              "authors' control: a random vector per tag), random-words:<dim> (one "
                                              "per word, averaged) or a GloVe .txt file")
    unseen_fraction: float = param(0.2, "share of tags held out unseen", low=0, high=1, low_open=True,
                                   high_open=True)
    split_seed: int = param(0, "seed of the seen/unseen tag and track split", low=0, high=2 ** 31 - 1)
    oov_tags: str = param("error", "a tag without any word vector stops the run, or is dropped (and recorded)",
                          choices=("error", "drop"))


FAMILY = Family(
    name="zeroshot",
    paper="Choi, Lee, Park, Nam, ISMIR 2019",
    docs="papers/choi2019.md",
    architectures=(
        Architecture("choi2019_audio", ZeroShotParams, "sampleaudio.families.zeroshot.build:choi2019_audio",
                     "audio branch of the audio-word co-embedding (Choi, Lee, Park, Nam, ISMIR 2019, Sec. 3)",
                     AudioInput(sample_rate=22050, segment=CHOI2019_SEGMENT, min_segment=MIN_SEGMENT),
                     {"penultimate": "sampleaudio.families.zeroshot.build:last_layer"},
                     objectives=("coembedding",)),
    ),
    objectives=(Objective("coembedding", CoEmbeddingParams, "sampleaudio.families.zeroshot.coembedding:CoEmbeddingObjective",
                          "audio-word co-embedding, max-margin loss (Choi et al., ISMIR 2019, Sec. 3)"),),
)
