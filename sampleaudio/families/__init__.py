"""Model families: each one a folder that owns its facts, registered by one line here.

A family (``samplecnn``, ``artist_cnn``, ``zeroshot``, ``won2020``, ``harmonic_cnn``, ``musicnn``, ``choi2017``) declares, in its
own ``__init__.py`` and without importing TensorFlow, a :class:`Family`: its paper, its architectures (each with
its parameters as a :class:`ModelParams` dataclass, a builder imported when a model is built, its paper input:
sample rate, length, evaluation chunking and pooling, its named embeddings and its run-name signature), the
training objectives it brings, and its pretrained names. Everything else is generated from these declarations:
``sampleaudio train --architecture`` and its flags, ``sampleaudio models``, the trainer's defaults, the model card's
input and embedding fields. keras-hub's ``register_presets`` and the transformers model
folders work the same way.

Adding a family: its folder ``sampleaudio/families/<name>/`` and one name in :data:`FAMILY_MODULES`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sampleaudio.errors import ParameterError, UnknownNameError
from sampleaudio.params import Params, closest, param

if TYPE_CHECKING:  # the declarations stay TensorFlow-free: builders import keras when they run
    import keras

__all__ = ["FAMILY_MODULES", "DEFAULT_ARCHITECTURE", "ModelParams", "ObjectiveParams", "ClassificationParams", "AudioInput", "Architecture",
           "Objective", "Pretrained", "Family", "CLASSIFICATION", "families", "architectures", "architecture",
           "family_of", "objectives", "objective", "pretrained_models", "pretrained", "model_params",
           "objective_params", "parameter_names", "objective_parameter_names", "default_segment", "signature", "embedding_layer"]

#: The registered families, one line each: the package ``sampleaudio.families.<name>`` declares ``FAMILY``.
FAMILY_MODULES = (
    "samplecnn",
    "artist_cnn",
    "zeroshot",
    "won2020",
    "harmonic_cnn",
    "musicnn",
    "oramas2018",
    "choi2017",
)

#: The architecture a configuration names when it names none (``sampleaudio train`` without --architecture).
DEFAULT_ARCHITECTURE = "samplecnn"
#: Won et al. (SMC 2020; ``training/eval.py``): evenly spaced chunks per clip at evaluation.
WON2020_CHUNKS = 16


@dataclasses.dataclass
class ModelParams(Params):
    """The parameters every architecture takes; each architecture's class adds its own.

    ``architecture`` names the network (it selects the class); ``bn_momentum`` is applied to every batch norm of
    the built model.
    """

    architecture: str = ""
    bn_momentum: float | None = param(
        None, "momentum of every batch norm's moving statistics (default: Keras' 0.99); short runs need less "
              "(0.9), since evaluation uses these statistics", low=0, high=1, high_open=True)


@dataclasses.dataclass
class ObjectiveParams(Params):
    """The parameters of a training objective; each objective's class adds its own. ``name`` selects it."""

    name: str = ""


@dataclasses.dataclass
class ClassificationParams(ObjectiveParams):
    """Classification with the dataset's loss (softmax or sigmoid cross-entropy): no parameters of its own."""

    name: str = "classification"


@dataclasses.dataclass(frozen=True)
class Objective:
    """A training objective: its parameters and its implementation (``"module:Class"`` of a
    :class:`sampleaudio.objectives.Objective`, imported when a run trains with it)."""

    name: str
    params: type[ObjectiveParams]
    impl: str
    paper: str


#: everyone's objective (the trainer's default)
CLASSIFICATION = Objective("classification", ClassificationParams,
                           "sampleaudio.objectives.classification:Classification",
                           "the dataset's labels and loss (softmax or sigmoid cross-entropy)")


@dataclasses.dataclass(frozen=True)
class AudioInput:
    """The waveform an architecture takes, as its paper fed it.

    Attributes:
        sample_rate: the rate it was published at (``None``: any; a store converted at it reproduces the paper).
        segment: its input length in samples at ``sample_rate`` on any dataset (``None``: see ``segments`` and
            ``segment_rule``).
        segments: its input length per dataset (Kim 2019's SampleCNN sizes), before ``segment``.
        segment_rule: the length from the parameters when neither gives one (SampleCNN: ``3 ** (blocks + 1)``).
        min_segment: the shortest input it takes (``None``: any its layers accept).
        chunking, chunks, pooling: how a clip is cut for scoring and use, and how segment outputs are pooled
            (:mod:`sampleaudio.segments`): consecutive segments and their mean (Kim 2019), 16 evenly spaced
            chunks (Won 2020), max over time then mean (Park 2018).
    """

    sample_rate: int | None = None
    segment: int | None = None
    segments: Mapping[str, int] = dataclasses.field(default_factory=dict)
    segment_rule: Callable[[Any], int | None] | None = None
    min_segment: int | None = None
    chunking: str = "consecutive"
    chunks: int = WON2020_CHUNKS
    pooling: str = "mean"


@dataclasses.dataclass(frozen=True)
class Architecture:
    """One trainable network of a family.

    Attributes:
        name: what ``--architecture`` and a run's ``config.json`` call it.
        params: its :class:`ModelParams` subclass.
        builder: ``"module:function"`` taking ``(params, task, segment, sample_rate)`` and returning the Keras model
            over waveform segments ``[N, segment, 1]`` of audio at ``sample_rate`` Hz (imported when called).
        paper: the reference, as the help and ``sampleaudio models`` print it.
        input: its paper input (:class:`AudioInput`).
        embeddings: embedding name -> the layer that gives it (a name, or ``"module:function"`` of the built model
            returning one); ``penultimate`` is the clip embedding every family has.
        signature: the part of a run's name that says which model it is (``None``: ``<name>_w<init_features>``).
            Finished runs are found by name, so a signature never changes.
        objectives: the training objectives it trains with (the first is the default).
        cpu_bfloat16: ``mixed_precision="auto"`` trains it in bfloat16 on a CPU with bfloat16 dot products: the
            speed and quality were measured for it (:func:`sampleaudio.cpu.auto_mixed_precision`); float32 otherwise.
    """

    name: str
    params: type[ModelParams]
    builder: str
    paper: str
    input: AudioInput = dataclasses.field(default_factory=AudioInput)
    embeddings: Mapping[str, str] = dataclasses.field(default_factory=dict)
    signature: Callable[[Any], str] | None = None
    objectives: tuple[str, ...] = ("classification",)
    cpu_bfloat16: bool = False

    def build(self, params: ModelParams, task, segment: int, sample_rate: int) -> keras.Model:
        return _resolve(self.builder)(params, task, segment, sample_rate)


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """A released model usable by name (``sampleaudio tag NAME``).

    Attributes:
        name: the public name (``musicnn-mtt``).
        loader: ``"module:function"`` taking the user's weights path (``None``: the weights come from an installed
            package) and returning ``(model, card)``.
        paper: its reference; ``needs``: what the user supplies or installs (``--weights FILE``, an extra).
        sample_rate, segment: its input, for listings (the card it returns is what counts).
        outputs: what it computes (tags and their vocabulary, or an embedding).
    """

    name: str
    loader: str
    paper: str
    needs: str = ""
    sample_rate: int | None = None
    segment: int | None = None
    outputs: str = ""

    @property
    def segment_seconds(self) -> float | None:
        return self.segment / self.sample_rate if self.segment and self.sample_rate else None

    def line(self) -> str:
        """One line for a listing: name, paper, input, outputs and what it needs."""
        window = f"{self.sample_rate:,} Hz, {round(self.segment_seconds, 2):g} s windows; " if self.segment_seconds \
            else ""
        needs = f"; needs {self.needs}" if self.needs else ""
        return f"{self.name}: {self.paper}; {window}{self.outputs}{needs}"


@dataclasses.dataclass(frozen=True)
class Family:
    """A model family: its architectures, objectives and pretrained names (see the module docstring).

    ``objectives``: the training objectives this family brings (classification is everyone's); ``docs``: its page
    in the documentation site.
    """

    name: str
    paper: str
    architectures: tuple[Architecture, ...] = ()
    objectives: tuple[Objective, ...] = ()
    pretrained: tuple[Pretrained, ...] = ()
    docs: str = ""


def _resolve(target: str):
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def families() -> dict[str, Family]:
    """Every registered family by name, in registration order."""
    out = {}
    for name in FAMILY_MODULES:
        family = importlib.import_module(f"{__name__}.{name}").FAMILY
        out[family.name] = family
    return out


def architectures() -> dict[str, Architecture]:
    """Every trainable architecture by name."""
    return {a.name: a for f in families().values() for a in f.architectures}


def family_of(name: str) -> Family:
    """The family an architecture or pretrained name belongs to."""
    for family in families().values():
        if any(a.name == name for a in family.architectures) or any(p.name == name for p in family.pretrained):
            return family
    raise UnknownNameError(f"no family has '{name}'")


def _named(kind: str, name: str, known: dict, listed: str = "known"):
    """``known[name]``, or a one-line error naming the closest of the known names and listing them."""
    if name not in known:
        raise UnknownNameError(f"unknown {kind} '{name}'{closest(name, known)}; {listed}: {', '.join(known)}")
    return known[name]


def architecture(name: str) -> Architecture:
    """An architecture by name, or a one-line error with the known names and the closest one."""
    return _named("architecture", name, architectures())


def objectives() -> dict[str, Objective]:
    """Every training objective by name: classification, then the families' own."""
    return {CLASSIFICATION.name: CLASSIFICATION, **{o.name: o for f in families().values() for o in f.objectives}}


def objective(name: str) -> Objective:
    return _named("objective", name, objectives())


def pretrained_models() -> dict[str, Pretrained]:
    """Every registered pretrained name."""
    return {p.name: p for f in families().values() for p in f.pretrained}


def pretrained(name: str) -> Pretrained:
    return _named("pretrained model", name, pretrained_models(), listed="registered")


def parameter_names(architecture_name: str) -> set[str]:
    """The parameters an architecture takes (its class's fields but ``architecture``)."""
    return {f.name for f in dataclasses.fields(architecture(architecture_name).params)} - {"architecture"}


def objective_parameter_names(name: str) -> set[str]:
    """The parameters an objective takes (its class's fields but ``name``)."""
    return {f.name for f in dataclasses.fields(objective(name).params)} - {"name"}


def model_params(architecture_name: str | None = None, **values) -> ModelParams:
    """The parameters of ``architecture_name`` (default :data:`DEFAULT_ARCHITECTURE`) with ``values`` set.

    A value the architecture does not take is one line naming it and the ones it takes (e.g. ``block`` for the
    frame-level CNN), as ``sampleaudio train`` says for a flag.
    """
    name = architecture_name or values.pop("architecture", None) or DEFAULT_ARCHITECTURE
    values.pop("architecture", None)
    cls = architecture(name).params
    taken = parameter_names(name)
    for key, value in values.items():
        if key not in taken:
            raise ParameterError(f"model.{key} is not a parameter of architecture '{name}' (it takes "
                                 f"{', '.join(sorted(taken))}){closest(key, taken)}. Received: {value!r}")
    return cls(architecture=name, **values)


def objective_params(name: str | None = None, **values) -> ObjectiveParams:
    """The parameters of objective ``name`` (default ``classification``) with ``values`` set; a value it does not
    take is one line naming it."""
    name = name or values.pop("name", None) or "classification"
    values.pop("name", None)
    cls = objective(name).params
    taken = objective_parameter_names(name)
    for key, value in values.items():
        if key not in taken:
            raise ParameterError(f"objective.{key} is not a parameter of objective '{name}' (it takes "
                                 f"{', '.join(sorted(taken)) or 'none'}){closest(key, taken)}. Received: {value!r}")
    return cls(name=name, **values)


def default_segment(params: ModelParams, dataset: str) -> int:
    """The input length ``params``' architecture trains on for ``dataset`` when none is given: its paper's for the
    dataset, else its paper's on any dataset, else what its parameters imply (:class:`AudioInput`)."""
    spec = architecture(params.architecture).input
    if dataset in spec.segments:
        return spec.segments[dataset]
    if spec.segment:
        return spec.segment
    found = spec.segment_rule(params) if spec.segment_rule else None
    if found:
        return found
    raise ParameterError(f"architecture '{params.architecture}' has no input length for dataset '{dataset}': give "
                         "data.segment (--segment)")


def signature(params: ModelParams) -> str:
    """The model part of a run's name (``se_multi``, ``mel_w729_h243_se``, ``short_chunk_cnn_w128``)."""
    spec = architecture(params.architecture)
    if spec.signature is not None:
        return spec.signature(params)
    return f"{params.architecture}_w{getattr(params, 'init_features', 128)}"


def embedding_layer(architecture_name: str, model: keras.Model, name: str = "penultimate") -> str:
    """The layer of ``model`` that gives its ``name`` embedding, as its architecture declares it."""
    spec = architecture(architecture_name)
    if name not in spec.embeddings:
        raise ParameterError(f"architecture '{architecture_name}' has no '{name}' embedding (it has "
                             f"{', '.join(spec.embeddings) or 'none'})")
    found = spec.embeddings[name]
    layer = _resolve(found)(model) if ":" in found else found
    if layer not in {x.name for x in model.layers}:
        raise ParameterError(f"model '{model.name}' has no layer '{layer}' (the {architecture_name} '{name}' "
                             "embedding)")
    return layer
