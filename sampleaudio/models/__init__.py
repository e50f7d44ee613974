"""Every model family's public builders in one import (``from sampleaudio.models import SampleCNN, from_preset``),
and the registration of the package's custom Keras objects for ``keras.saving.load_model``.

Each family's code lives in its folder (:mod:`sampleaudio.families`): SampleCNN, its blocks and baselines (Lee 2017;
Kim, Lee, Nam 2019; Dieleman 2014) in ``families/samplecnn``; Park 2018's artist models in ``families/artist_cnn``;
the Choi 2019 zero-shot co-embedding in ``families/zeroshot``; the Won 2020 benchmark models in ``families/won2020``;
HarmonicCNN in ``families/harmonic_cnn``; musicnn (Pons and Serra) in ``families/musicnn``; Choi 2017's transfer
convnet in ``families/choi2017``. Layers shared by several
families (mel front ends, the fused batch norm, the 16-bit dropout, the sota-music-tagging building blocks) are in
:mod:`sampleaudio.layers`.
"""

from sampleaudio.families.artist_cnn.model import (
    ArtistBasicModel,
    ArtistEncoder,
    ArtistSiameseModel,
    ArtistSongEmbedder,
)
from sampleaudio.families.choi2017.model import Choi2017Melgram, choi2017_convnet, convnet_feature
from sampleaudio.families.harmonic_cnn.model import HarmonicFilterbank
from sampleaudio.families.samplecnn.blocks import (
    BLOCKS,
    basic_block,
    rese_block,
    se_block,
    squeeze_excitation,
)
from sampleaudio.families.samplecnn.initializers import AudioVarianceScaling, taejun_uniform
from sampleaudio.families.samplecnn.model import (
    FrameLevelCNN,
    MelCNN,
    SampleCNN,
    SampleCNNWithRNN,
    StridedSampleCNN,
    block_widths,
)
from sampleaudio.families.samplecnn.presets import PRESETS, RNN_BLOCKS, from_preset, rnn_from_preset
from sampleaudio.families.won2020.model import WON2020
from sampleaudio.families.zeroshot.model import (
    CoEmbeddingModel,
    CosineScores,
    WordBranch,
    ZeroShotAudioBranch,
)
from sampleaudio.layers.dropout import Dropout
from sampleaudio.layers.filterbanks import SlaneyMelSpectrogram, slaney_mel_matrix
from sampleaudio.layers.frontends import MelSpectrogram
from sampleaudio.layers.normalization import BatchNormalization
from sampleaudio.layers.optimizers import AdamWithL2, SGDWithL2
from sampleaudio.layers.spectral import MelFrontEnd
from sampleaudio.weights import LoadReport, load_keras2_weights, read_keras2_weights

__all__ = [
    "ArtistEncoder", "ArtistBasicModel", "ArtistSiameseModel", "ArtistSongEmbedder",
    "BLOCKS", "basic_block", "se_block", "rese_block", "squeeze_excitation", "MelSpectrogram",
    "SlaneyMelSpectrogram", "slaney_mel_matrix",
    "AudioVarianceScaling", "taejun_uniform", "BatchNormalization", "Dropout", "PRESETS", "RNN_BLOCKS", "from_preset",
    "rnn_from_preset",
    "SampleCNN", "StridedSampleCNN", "MelCNN", "FrameLevelCNN", "SampleCNNWithRNN", "block_widths",
    "LoadReport", "load_keras2_weights", "read_keras2_weights",
    "MelFrontEnd", "HarmonicFilterbank", "WON2020", "SGDWithL2", "AdamWithL2",
    "Choi2017Melgram", "choi2017_convnet", "convnet_feature",
    "ZeroShotAudioBranch", "WordBranch", "CoEmbeddingModel", "CosineScores",
]
