"""The model registry (imports no model module until a model is built): one table from an architecture name to its builder and the facts every entry point needs.

The trainer builds ``ModelConfig.architecture`` through :func:`build`; the CLI offers :data:`ARCHITECTURES`' names;
the model card records the embedding layer :func:`embedding_layer` names, so export and inference never guess.
Adding a model family is its own module plus one :class:`ModelSpec` line here (and its test).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from sampleaudio.config import ModelConfig
from sampleaudio.errors import ParameterError
from sampleaudio.tasks import Task

if TYPE_CHECKING:  # keras is imported by the builders only: the CLI reads this table at start-up
    import keras

__all__ = ["ModelSpec", "ARCHITECTURES", "build", "embedding_layer", "spec"]


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One architecture: ``builder(cfg, task)`` makes the Keras model over waveform segments ``[N, samples, 1]``;
    ``embedding`` names the layer whose output is the clip embedding (a name, or a function of the built model);
    ``sample_rate``: the input rate the architecture was published at (``None``: the store's)."""

    name: str
    builder: Callable[[ModelConfig, Task], keras.Model]
    embedding: str | Callable[[keras.Model], str]
    paper: str
    sample_rate: int | None = None


def _common(cfg: ModelConfig, task: Task) -> dict:
    return {"num_classes": task.num_classes, "activation": task.activation, "dropout": cfg.dropout,
            "init_features": cfg.init_features, "initializer": cfg.initializer}


def _samplecnn(cfg, task):
    from sampleaudio.models.samplecnn import SampleCNN

    return SampleCNN(block=cfg.block, multi=cfg.multi, num_blocks=cfg.num_blocks or task.num_blocks,
                     amplifying_ratio=cfg.amplifying_ratio, **_common(cfg, task))


def _lee2017(cfg, task):  # the SMC 2017 code: He uniform on every conv
    from sampleaudio.models.samplecnn import SampleCNN

    return SampleCNN(block="basic", multi=False, num_blocks=cfg.num_blocks or task.num_blocks, head="smc2017",
                     **{**_common(cfg, task), "initializer": "he_uniform"})


def _samplecnn_rnn(cfg, task):
    from sampleaudio.models.presets import RNN_BLOCKS
    from sampleaudio.models.samplecnn import SampleCNNWithRNN

    return SampleCNNWithRNN(RNN_BLOCKS.get(task.name, 4), block=cfg.block,
                            num_blocks=cfg.num_blocks or task.num_blocks, amplifying_ratio=cfg.amplifying_ratio,
                            **_common(cfg, task))


def _mel(cfg, task):
    from sampleaudio.models.samplecnn import MelCNN

    return MelCNN(cfg.window, cfg.hop, block=cfg.block, multi=cfg.multi, num_blocks=cfg.num_blocks or task.num_blocks,
                  amplifying_ratio=cfg.amplifying_ratio, **_common(cfg, task))


def _strided(cfg, task):
    from sampleaudio.models.samplecnn import StridedSampleCNN

    return StridedSampleCNN(cfg.window, cfg.hop, block=cfg.block, multi=cfg.multi,
                            num_blocks=cfg.num_blocks or task.num_blocks, amplifying_ratio=cfg.amplifying_ratio,
                            **_common(cfg, task))


def _frame(cfg, task):
    from sampleaudio.models.samplecnn import FrameLevelCNN

    return FrameLevelCNN(cfg.window, segment=task.segment, **_common(cfg, task))


def _artist_cnn(cfg, task):  # any crop of at least 65,024 samples (128 frames)
    from sampleaudio.models.artist_cnn import ArtistBasicModel

    return ArtistBasicModel(task.num_classes, frames=None, waveform_input=True,
                            activation=task.activation)  # sigmoid over tags: Park 2018's tag model (msd-tags)


def _choi2019_audio(cfg, task):  # any crop of at least 128 mel frames; trained with the coembedding objective
    from sampleaudio.models.zeroshot import ZeroShotAudioBranch

    return ZeroShotAudioBranch(None, waveform_input=True)


def _before_global_pool(model: keras.Model) -> str:
    """The last conv block's ReLU: the layer feeding the model's global pooling (Park 2018's song feature)."""
    import keras

    for i, layer in enumerate(model.layers):
        if isinstance(layer, (keras.layers.GlobalAveragePooling1D, keras.layers.GlobalMaxPooling1D)):
            return model.layers[i - 1].name
    raise ParameterError(f"model '{model.name}' has no global pooling layer to take an embedding before")


def _last_layer(model: keras.Model) -> str:
    """An encoder whose output is the embedding."""
    return model.layers[-1].name


def _won(name: str):
    def builder(cfg, task):
        from sampleaudio.audio import SAMPLE_RATE
        from sampleaudio.models.won2020 import WON2020

        width = {"n_channels": cfg.init_features} if WON2020[name].scalable else {}
        # any input length; the front end runs at the stores' rate (the paper's 16 kHz is the card's fact)
        return WON2020[name].build(task.num_classes, segment=None, sample_rate=SAMPLE_RATE,
                                   activation=task.activation, dropout=cfg.dropout, **width)
    return builder


_KIM = "Kim, Lee, Nam, IEEE JSTSP 2019"
#: architecture name -> its spec
ARCHITECTURES: dict[str, ModelSpec] = {s.name: s for s in [
    ModelSpec("samplecnn", _samplecnn, "final_relu", f"SampleCNN with basic/SE/Res/ReSE blocks ({_KIM}, Sec. III)"),
    ModelSpec("lee2017", _lee2017, "final_relu", "SampleCNN 3^9 with the SMC 2017 head (Lee et al., SMC 2017)"),
    ModelSpec("samplecnn_rnn", _samplecnn_rnn, "final_relu", f"SampleCNN + RNN ({_KIM}, Table I)"),
    ModelSpec("mel", _mel, "final_relu", f"mel-spectrogram front end ({_KIM}, Fig. 4)"),
    ModelSpec("strided", _strided, "final_relu", f"strided first layer ({_KIM}, Fig. 4)"),
    ModelSpec("frame", _frame, "final_relu", "frame-level CNN (Dieleman and Schrauwen, ICASSP 2014)"),
    ModelSpec("artist_cnn", _artist_cnn, _before_global_pool,
              "1D CNN over mel frames, softmax over artists (Park et al., ISMIR 2018, Sec. 3)"),
    ModelSpec("choi2019_audio", _choi2019_audio, _last_layer,
              "audio branch of the audio-word co-embedding (Choi, Lee, Park, Nam, ISMIR 2019, Sec. 3)"),
    *[ModelSpec(n, _won(n), "penultimate", "Won, Ferraro, Bogdanov, Serra, SMC 2020", 16000)
      for n in ("fcn", "crnn", "won_musicnn", "short_chunk_cnn", "short_chunk_resnet")],
    ModelSpec("harmonic_cnn", _won("harmonic_cnn"), "penultimate", "Won, Chun, Nieto, Serra, ICASSP 2020", 16000),
]}


def spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of an architecture, or a one-line error listing the known ones."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ParameterError(f"unknown architecture {name!r} ({', '.join(ARCHITECTURES)})") from None


def build(cfg: ModelConfig, task: Task) -> keras.Model:
    """The network ``cfg.architecture`` names, sized for ``task``."""
    return spec(cfg.architecture).builder(cfg, task)


def embedding_layer(architecture: str, model: keras.Model) -> str:
    """The name of ``model``'s clip-embedding layer, as its architecture's spec says."""
    found = spec(architecture).embedding
    name = found(model) if callable(found) else found
    if name not in {layer.name for layer in model.layers}:
        raise ParameterError(f"model '{model.name}' has no layer '{name}' (the {architecture} embedding layer)")
    return name
