"""SampleCNN, its blocks and baselines (Lee 2017; Kim, Lee, Nam 2019; Dieleman 2014); Park 2018 artist models
in ``artist_cnn.py``; musicnn (Pons and Serra) in ``musicnn.py``; the Won 2020 benchmark models in ``won2020.py``
and HarmonicCNN in ``harmonic_cnn.py``; the Choi 2019 zero-shot co-embedding in ``zeroshot.py``."""

from sampleaudio.models.artist_cnn import (
    ArtistBasicModel,
    ArtistEncoder,
    ArtistSiameseModel,
    ArtistSongEmbedder,
)
from sampleaudio.models.blocks import BLOCKS, basic_block, rese_block, se_block, squeeze_excitation
from sampleaudio.models.filterbanks import SlaneyMelSpectrogram, slaney_mel_matrix
from sampleaudio.models.frontends import MelSpectrogram
from sampleaudio.models.harmonic_cnn import HarmonicFilterbank
from sampleaudio.models.initializers import AudioVarianceScaling, taejun_uniform
from sampleaudio.models.normalization import BatchNormalization
from sampleaudio.models.presets import PRESETS, RNN_BLOCKS, from_preset, rnn_from_preset
from sampleaudio.models.samplecnn import (
    FrameLevelCNN,
    MelCNN,
    SampleCNN,
    SampleCNNWithRNN,
    StridedSampleCNN,
    block_widths,
)
from sampleaudio.models.spectral import MelFrontEnd
from sampleaudio.models.weights import LoadReport, load_keras2_weights, read_keras2_weights
from sampleaudio.models.won2020 import WON2020
from sampleaudio.models.zeroshot import CoEmbeddingModel, CosineScores, WordBranch, ZeroShotAudioBranch

__all__ = [
    "ArtistEncoder", "ArtistBasicModel", "ArtistSiameseModel", "ArtistSongEmbedder",
    "BLOCKS", "basic_block", "se_block", "rese_block", "squeeze_excitation", "MelSpectrogram",
    "SlaneyMelSpectrogram", "slaney_mel_matrix",
    "AudioVarianceScaling", "taejun_uniform", "BatchNormalization", "PRESETS", "RNN_BLOCKS", "from_preset",
    "rnn_from_preset",
    "SampleCNN", "StridedSampleCNN", "MelCNN", "FrameLevelCNN", "SampleCNNWithRNN", "block_widths",
    "LoadReport", "load_keras2_weights", "read_keras2_weights",
    "MelFrontEnd", "HarmonicFilterbank", "WON2020",
    "ZeroShotAudioBranch", "WordBranch", "CoEmbeddingModel", "CosineScores",
]
