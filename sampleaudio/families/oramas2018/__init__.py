"""Oramas, Barbieri, Nieto, Serra, "Multimodal Deep Learning for Music Genre Classification" (TISMIR 1(1), 2018,
pp. 4-21): genre classification from the audio (a CNN on the constant-Q transform of the track) and the album
cover (an ImageNet-style ResNet), each trained on genres first, then co-embedded in one space with a triplet loss,
whose visually-informed audio and aurally-informed image embeddings feed the multimodal classifiers.

Architectures: ``oramas2018_audio`` (the audio CNN, classification), ``oramas2018_image`` (the cover CNN, objective
``cover_genres``), ``oramas2018`` (both towers and their projections to the shared space, objective
``album_triplets``). Which facts are the authors' code's, which the tutorial's and which this package's choices:
``docs/papers/oramas2018.md``.
"""

from __future__ import annotations

import dataclasses

from sampleaudio.families import Architecture, AudioInput, Family, ModelParams, Objective, ObjectiveParams
from sampleaudio.params import param

__all__ = ["FAMILY", "AudioCNNParams", "ImageCNNParams", "MultimodalParams", "CoverGenresParams",
           "AlbumTripletParams", "PAPER_SEGMENT", "MIN_SEGMENT"]

#: 322 CQT frames of hop 1024 (the authors' 15 s patch): 321 * 1024 samples at 22,050 Hz
PAPER_SEGMENT = 328704
#: 127 CQT frames: the shortest input the "mumu" audio CNN's valid convolutions and pools take
MIN_SEGMENT = 126 * 1024


@dataclasses.dataclass
class AudioCNNParams(ModelParams):
    """The audio CNN on the CQT (``tartarus`` ``get_model_1`` in two configurations of ``run_experiments.py``)."""

    architecture: str = "oramas2018_audio"
    variant: str = param("mumu", "audio CNN: mumu (MuMu multi-label, 4x70-low) or msdi (MSD-I single-label)",
                         choices=("mumu", "msdi"))
    audio_width: float = param(1.0, "multiplies the audio CNN's filters (1: the authors')", low=0, low_open=True)
    cqt: str = param("librosa0.6", "CQT filter bandwidth and padding: librosa0.6 (the authors') or librosa (>= 0.10)",
                     choices=("librosa0.6", "librosa"))


@dataclasses.dataclass
class ImageCNNParams(ModelParams):
    """The cover CNN: a keras.applications ResNet, or a small ResNet for CPU demos."""

    architecture: str = "oramas2018_image"
    image_network: str = param("resnet50", "cover CNN: resnet50, resnet101 (keras.applications) or small_resnet",
                               choices=("resnet50", "resnet101", "small_resnet"))
    image_size: int = param(224, "cover side in pixels after resizing", low=32)
    image_width: int = param(16, "small_resnet: filters of its first block", low=4)
    image_weights: str = param("", "a keras.applications ImageNet weight file (HDF5, no top) for the ResNet; "
                                   "empty: trained from scratch")


@dataclasses.dataclass
class MultimodalParams(AudioCNNParams, ImageCNNParams):
    """Both towers (their parameters as the towers') and a linear projection of each to the shared space."""

    architecture: str = "oramas2018"
    embedding_dim: int = param(128, "dimension of the shared audio-image space (this package's choice)", low=2)


@dataclasses.dataclass
class CoverGenresParams(ObjectiveParams):
    """The cover CNN trained on the albums' genres (one example per album and epoch, random horizontal flips)."""

    name: str = "cover_genres"


@dataclasses.dataclass
class AlbumTripletParams(ObjectiveParams):
    """Triplets of a track, its album's cover and ``num_negatives`` other albums' covers, and of the cover, the
    track and tracks of other albums; the triplet hinge on the shared space's cosines."""

    name: str = "album_triplets"
    margin: float = param(0.2, "margin of the triplet hinge on unit-embedding distances", low=0, low_open=True)
    num_negatives: int = param(4, "other albums per triplet, drawn uniformly", low=1)
    audio_run: str = param("", "a finished oramas2018_audio run whose audio CNN starts the audio tower")
    image_run: str = param("", "a finished oramas2018_image run whose cover CNN starts the image tower")
    train_towers: bool = param(False, "train the towers started from audio_run / image_run too (default: they "
                                      "stay as trained on genres; only the projections learn)")


_AUDIO = AudioInput(sample_rate=22050, segment=PAPER_SEGMENT, min_segment=MIN_SEGMENT)

FAMILY = Family(
    name="oramas2018",
    paper="Oramas, Barbieri, Nieto, Serra, TISMIR 2018",
    docs="papers/oramas2018.md",
    architectures=(
        Architecture("oramas2018_audio", AudioCNNParams, "sampleaudio.families.oramas2018.build:audio_cnn",
                     "audio CNN on the CQT, genres (Oramas et al., TISMIR 2018; tartarus get_model_1)", _AUDIO,
                     {"penultimate": "audio_features", "audio": "audio_features"},
                     signature=lambda p: f"oramas2018_audio_{p.variant}_w{p.audio_width:g}"),
        Architecture("oramas2018_image", ImageCNNParams, "sampleaudio.families.oramas2018.build:image_cnn",
                     "album-cover CNN, genres (Oramas et al., TISMIR 2018)", _AUDIO,
                     {"penultimate": "image_features", "image": "image_features"},
                     signature=lambda p: f"oramas2018_image_{p.image_network}_{p.image_size}",
                     objectives=("cover_genres",)),
        Architecture("oramas2018", MultimodalParams, "sampleaudio.families.oramas2018.build:multimodal",
                     "audio and cover towers co-embedded in one space (Oramas et al., TISMIR 2018)", _AUDIO,
                     {"penultimate": "audio_embedding", "audio": "audio_embedding", "image": "image_embedding"},
                     signature=lambda p: f"oramas2018_{p.variant}_{p.image_network}_d{p.embedding_dim}",
                     objectives=("album_triplets",)),
    ),
    objectives=(
        Objective("cover_genres", CoverGenresParams, "sampleaudio.families.oramas2018.covers:CoverGenres",
                  "album covers and their genres (Oramas et al., TISMIR 2018)"),
        Objective("album_triplets", AlbumTripletParams,
                  "sampleaudio.families.oramas2018.coembedding:AlbumTriplets",
                  "tracks and album covers in one space, triplet loss (Oramas et al., TISMIR 2018)"),
    ),
)
