"""The model registry (imports no model module until a model is built): one table from an architecture name to its builder and the facts every entry point needs.

The trainer builds ``ModelConfig.architecture`` through :func:`build`; the CLI offers :data:`ARCHITECTURES`' names;
the model card records the embedding layer :func:`embedding_layer` names, so export and inference never guess.
A spec also says which :class:`~sampleaudio.config.ModelConfig` fields the architecture takes (a run's config.json
records only those, and :func:`check_params` refuses the others) and its input length per dataset when none is
given (:func:`default_segment`; the SampleCNN sizes of Kim 2019 live here, not in the dataset table).
Adding a model family is its own module plus one :class:`ModelSpec` line here (and its test).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from sampleaudio.config import ModelConfig
from sampleaudio.errors import ParameterError
from sampleaudio.stores import Task

if TYPE_CHECKING:  # keras is imported by the builders only: the CLI reads this table at start-up
    import keras

__all__ = ["ModelSpec", "ARCHITECTURES", "KIM2019_SIZES", "PARK2018_SEGMENT", "COMMON_PARAMS", "WON2020_CHUNKS", "build",
           "check_params", "default_segment", "embedding_layer", "model_dict", "normalized", "samplecnn_blocks", "signature",
           "spec"]


#: Kim, Lee, Nam (IEEE JSTSP 2019, Sec. IV-A; the authors' ``lib/data/config.py``; Table I): each task's SampleCNN
#: size, dataset -> (blocks after the stem, input segment, blocks before the recurrent layer of the "with RNN"
#: model). The segment is 3 ** (blocks + 1) for MTAT; 22,050 (1 s) for the others, as 3^9 = 19,683 would leave
#: Speech Commands' 1 s clips short, so the authors used 1 s with 8 blocks.
KIM2019_SIZES: dict[str, tuple[int, int, int]] = {
    "mtat": (9, 59049, 4), "speech-commands": (8, 22050, 4), "dcase2017": (8, 22050, 5)}
#: Park et al. (ISMIR 2018, Sec. 3): 129 mel frames of hop 512 (65,536 samples at 22,050 Hz) per example.
PARK2018_SEGMENT = 65536
#: the ModelConfig fields every architecture takes (applied to the built model's batch norms)
COMMON_PARAMS = ("bn_momentum",)
#: Won et al. (SMC 2020; ``training/eval.py`` of ``minzwon/sota-music-tagging-models``): evenly spaced chunks per
#: clip at evaluation (the same number as :data:`sampleaudio.segments.WON2020_CHUNKS`, which imports TensorFlow)
WON2020_CHUNKS = 16
#: the Won 2020 evaluation protocol, as :class:`ModelSpec` fields
_WON_EVAL = {"chunking": "evenly-spaced", "chunks": WON2020_CHUNKS}
_SAMPLECNN = ("block", "multi", "num_blocks", "amplifying_ratio", "dropout", "init_features", "initializer")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One architecture: ``builder(cfg, task, segment, sample_rate)`` makes the Keras model over waveform segments
    ``[N, samples, 1]`` of audio at ``sample_rate`` Hz (the store's: a front end in samples-per-second terms, as the
    mel spectrogram's, is built for it); ``embedding`` names the layer whose output is the clip embedding (a name, or
    a function of the built model); ``sample_rate``: the input rate the architecture was published at (``None``:
    any; a store written at it, ``stores.write_dataset(..., sample_rate=)``, reproduces the paper's input).

    ``params``: the :class:`ModelConfig` fields the architecture takes besides ``architecture`` and
    :data:`COMMON_PARAMS` (a run's config.json records only these; :func:`check_params` refuses the others).
    ``segments``: its input length on each dataset when ``data.segment`` is not given; ``segment``: on any other
    dataset (``None``: ``3 ** (num_blocks + 1)`` for the SampleCNN family; else ``data.segment`` must be given).
    See :func:`default_segment`.

    ``chunking``, ``chunks``: how a clip is cut into segments when the model is scored or used (the model card
    records them; :mod:`sampleaudio.segments`): every consecutive segment (Kim 2019 Sec. IV-C), or ``chunks``
    evenly spaced ones (Won 2020's evaluation: 16).

    ``signature``: the part of a run's name that says which model it is (:func:`signature`; ``None``:
    ``<name>_w<init_features>``). Finished runs are found by name, so a family's signature never changes."""

    name: str
    builder: Callable[[ModelConfig, Task, int, int], keras.Model]
    embedding: str | Callable[[keras.Model], str]
    paper: str
    sample_rate: int | None = None
    params: tuple[str, ...] = ()
    segments: Mapping[str, int] = dataclasses.field(default_factory=dict)
    segment: int | None = None
    chunking: str = "consecutive"
    chunks: int = WON2020_CHUNKS
    signature: Callable[[ModelConfig], str] | None = None


def samplecnn_blocks(cfg: ModelConfig, task: Task, segment: int) -> int:
    """SampleCNN blocks after the stem: ``cfg.num_blocks``; else Kim 2019's for the task; else the most blocks the
    segment allows (``3 ** (blocks + 1) <= segment``: 8 for 22,050 samples, 9 for 59,049)."""
    if cfg.num_blocks:
        return cfg.num_blocks
    if task.name in KIM2019_SIZES:
        return KIM2019_SIZES[task.name][0]
    blocks = 0
    while 3 ** (blocks + 2) <= segment:
        blocks += 1
    if blocks < 1:
        raise ParameterError(f"a segment of {segment} samples is too short for a SampleCNN (at least 9)")
    return blocks


def _common(cfg: ModelConfig, task: Task) -> dict:
    return {"num_classes": task.num_classes, "activation": task.activation, "dropout": cfg.dropout,
            "init_features": cfg.init_features, "initializer": cfg.initializer}


def _samplecnn(cfg, task, segment, sample_rate):
    from sampleaudio.models.samplecnn import SampleCNN

    return SampleCNN(block=cfg.block, multi=cfg.multi, num_blocks=samplecnn_blocks(cfg, task, segment),
                     amplifying_ratio=cfg.amplifying_ratio, **_common(cfg, task))


def _lee2017(cfg, task, segment, sample_rate):  # the SMC 2017 code: He uniform on every conv
    from sampleaudio.models.samplecnn import SampleCNN

    return SampleCNN(block="basic", multi=False, num_blocks=samplecnn_blocks(cfg, task, segment), head="smc2017",
                     **{**_common(cfg, task), "initializer": "he_uniform"})


def _samplecnn_rnn(cfg, task, segment, sample_rate):
    from sampleaudio.models.samplecnn import SampleCNNWithRNN

    return SampleCNNWithRNN(KIM2019_SIZES.get(task.name, (0, 0, 4))[2], block=cfg.block,
                            num_blocks=samplecnn_blocks(cfg, task, segment), amplifying_ratio=cfg.amplifying_ratio,
                            **_common(cfg, task))


def _mel(cfg, task, segment, sample_rate):
    from sampleaudio.models.samplecnn import MelCNN

    return MelCNN(cfg.window, cfg.hop, block=cfg.block, multi=cfg.multi,
                  num_blocks=samplecnn_blocks(cfg, task, segment), amplifying_ratio=cfg.amplifying_ratio,
                  sample_rate=sample_rate, **_common(cfg, task))


def _strided(cfg, task, segment, sample_rate):
    from sampleaudio.models.samplecnn import StridedSampleCNN

    return StridedSampleCNN(cfg.window, cfg.hop, block=cfg.block, multi=cfg.multi,
                            num_blocks=samplecnn_blocks(cfg, task, segment), amplifying_ratio=cfg.amplifying_ratio,
                            **_common(cfg, task))


def _frame(cfg, task, segment, sample_rate):
    from sampleaudio.models.samplecnn import FrameLevelCNN

    return FrameLevelCNN(cfg.window, segment=segment, **_common(cfg, task))


def _artist_cnn(cfg, task, segment, sample_rate):  # any crop of at least 65,024 samples (128 frames)
    from sampleaudio.models.artist_cnn import ArtistBasicModel

    return ArtistBasicModel(task.num_classes, frames=None, waveform_input=True,
                            activation=task.activation)  # sigmoid over tags: Park 2018's tag model (msd-tags)


def _choi2019_audio(cfg, task, segment, sample_rate):  # any crop of at least 128 mel frames; trained with the coembedding objective
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
    def builder(cfg, task, segment, sample_rate):
        from sampleaudio.models.won2020 import WON2020

        width = {"n_channels": cfg.init_features} if WON2020[name].scalable else {}
        # any input length; the front end runs at the store's rate (the paper's: 16 kHz)
        return WON2020[name].build(task.num_classes, segment=None, sample_rate=sample_rate,
                                   activation=task.activation, dropout=cfg.dropout, **width)
    return builder


def _front_end_signature(cfg: ModelConfig) -> str:  # mel, strided
    return f"{cfg.architecture}_w{cfg.window}_h{cfg.hop}_{cfg.block}"


_KIM = "Kim, Lee, Nam, IEEE JSTSP 2019"
_KIM_SEGMENTS = {name: size[1] for name, size in KIM2019_SIZES.items()}
# The families without a size of their own run at the lengths every family ran at before the sizes left the
# dataset table: Kim 2019's segments on its datasets, Park 2018's crop on any other. A paper's own input length is
# data.segment (the reproductions give it: Won 2020's per model, Choi 2019's 130 frames).
_UNSIZED = {"segments": _KIM_SEGMENTS, "segment": PARK2018_SEGMENT}
_FRONT_END = ("window", "hop", *_SAMPLECNN)
#: Won 2020's models whose width is a parameter (``WonModel.scalable``)
_WON_SCALABLE = ("short_chunk_cnn", "short_chunk_resnet", "harmonic_cnn")
#: architecture name -> its spec
ARCHITECTURES: dict[str, ModelSpec] = {s.name: s for s in [
    ModelSpec("samplecnn", _samplecnn, "final_relu", f"SampleCNN with basic/SE/Res/ReSE blocks ({_KIM}, Sec. III)",
              params=_SAMPLECNN, segments=_KIM_SEGMENTS, signature=lambda c: c.block + ("_multi" if c.multi else "")),
    ModelSpec("lee2017", _lee2017, "final_relu", "SampleCNN 3^9 with the SMC 2017 head (Lee et al., SMC 2017)",
              params=("num_blocks", "dropout", "init_features"), segments=_KIM_SEGMENTS,
              signature=lambda c: "lee2017"),  # always basic blocks, no multi-level features
    ModelSpec("samplecnn_rnn", _samplecnn_rnn, "final_relu", f"SampleCNN + RNN ({_KIM}, Table I)",
              params=tuple(p for p in _SAMPLECNN if p != "multi"), segments=_KIM_SEGMENTS,
              signature=lambda c: f"rnn_{c.block}"),
    ModelSpec("mel", _mel, "final_relu", f"mel-spectrogram front end ({_KIM}, Fig. 4)", params=_FRONT_END,
              segments=_KIM_SEGMENTS, signature=_front_end_signature),
    ModelSpec("strided", _strided, "final_relu", f"strided first layer ({_KIM}, Fig. 4)", params=_FRONT_END,
              segments=_KIM_SEGMENTS, signature=_front_end_signature),
    ModelSpec("frame", _frame, "final_relu", "frame-level CNN (Dieleman and Schrauwen, ICASSP 2014)",
              params=("window", "dropout", "init_features", "initializer"), segments=_KIM_SEGMENTS,
              signature=lambda c: f"frame_w{c.window}"),
    ModelSpec("artist_cnn", _artist_cnn, _before_global_pool,
              "1D CNN over mel frames, softmax over artists (Park et al., ISMIR 2018, Sec. 3)",
              **_UNSIZED),
    ModelSpec("choi2019_audio", _choi2019_audio, _last_layer,
              "audio branch of the audio-word co-embedding (Choi, Lee, Park, Nam, ISMIR 2019, Sec. 3)",
              **_UNSIZED),
    *[ModelSpec(n, _won(n), "penultimate", "Won, Ferraro, Bogdanov, Serra, SMC 2020", 16000,
                ("dropout", "init_features") if n in _WON_SCALABLE else ("dropout",), **_UNSIZED, **_WON_EVAL)
      for n in ("fcn", "crnn", "won_musicnn", "short_chunk_cnn", "short_chunk_resnet")],
    ModelSpec("harmonic_cnn", _won("harmonic_cnn"), "penultimate", "Won, Chun, Nieto, Serra, ICASSP 2020", 16000,
              ("dropout", "init_features"), **_UNSIZED, **_WON_EVAL),
]}


def spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of an architecture, or a one-line error listing the known ones."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ParameterError(f"unknown architecture {name!r} ({', '.join(ARCHITECTURES)})") from None


def signature(cfg: ModelConfig) -> str:
    """The model part of a run's name (e.g. ``se_multi``, ``mel_w729_h729_se``, ``short_chunk_cnn_w128``): the
    spec's ``signature``, else ``<architecture>_w<init_features>``."""
    s = spec(cfg.architecture)
    return s.signature(cfg) if s.signature else f"{cfg.architecture}_w{cfg.init_features}"


def default_segment(cfg: ModelConfig, task: Task) -> int:
    """The input length ``cfg``'s architecture trains on for ``task`` when ``data.segment`` is not given (see
    :class:`ModelSpec`): e.g. 59,049 samples for a SampleCNN on MTAT, 22,050 on Speech Commands."""
    s = spec(cfg.architecture)
    if task.name in s.segments:
        return s.segments[task.name]
    if s.segment:
        return s.segment
    if "num_blocks" in s.params and cfg.num_blocks:
        return 3 ** (cfg.num_blocks + 1)
    raise ParameterError(f"architecture {cfg.architecture!r} has no input length for dataset '{task.name}': give "
                         "data.segment (--segment)" + (" or model.num_blocks" if "num_blocks" in s.params else ""))


def check_params(cfg: ModelConfig) -> ModelConfig:
    """Refuse a :class:`ModelConfig` field set (to other than its default) that ``cfg.architecture`` does not take,
    with one line naming it and the fields it does take; return ``cfg``."""
    s = spec(cfg.architecture)
    taken = {"architecture", *COMMON_PARAMS, *s.params}
    for f in dataclasses.fields(ModelConfig):
        if f.name not in taken and getattr(cfg, f.name) != f.default:
            raise ParameterError(f"model.{f.name} is not a parameter of architecture {cfg.architecture!r} (it takes "
                                 f"{', '.join(sorted(taken - {'architecture'}))}). Received: {getattr(cfg, f.name)!r}")
    return cfg


def model_dict(cfg: ModelConfig) -> dict:
    """``cfg`` as a run's config.json records it: the architecture and only the parameters it takes."""
    s = spec(cfg.architecture)
    return {"architecture": cfg.architecture, **{k: getattr(cfg, k) for k in (*COMMON_PARAMS, *s.params)}}


def normalized(cfg: ModelConfig) -> ModelConfig:
    """``cfg`` with the fields its architecture does not take at their defaults: how a configuration recorded as one
    flat union of every architecture's fields (config.json files written before :func:`model_dict`) reads back."""
    return ModelConfig(**model_dict(cfg))


def build(cfg: ModelConfig, task: Task, segment: int | None = None, *, sample_rate: int | None = None) -> keras.Model:
    """The network ``cfg.architecture`` names, sized for ``task`` and input ``segment`` (``None``:
    :func:`default_segment`) of audio at ``sample_rate`` Hz (the store's; ``None``: 22,050, the project's rate)."""
    if sample_rate is None:
        from sampleaudio.audio import SAMPLE_RATE

        sample_rate = SAMPLE_RATE
    return spec(cfg.architecture).builder(cfg, task, segment or default_segment(cfg, task), sample_rate)


def embedding_layer(architecture: str, model: keras.Model) -> str:
    """The name of ``model``'s clip-embedding layer, as its architecture's spec says."""
    found = spec(architecture).embedding
    name = found(model) if callable(found) else found
    if name not in {layer.name for layer in model.layers}:
        raise ParameterError(f"model '{model.name}' has no layer '{name}' (the {architecture} embedding layer)")
    return name
