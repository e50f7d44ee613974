"""A run folder and its files, without TensorFlow: the one place that names, writes and reads them.

A run folder (written by :func:`sampleaudio.train.train`)::

    config.json        the configuration (:class:`~sampleaudio.config.ExperimentConfig`), written first
    environment.json   versions, git commit, CPU settings
    state.json         the last committed epoch: stage, epoch, best-so-far, the checkpoint files it names
    history.csv        one row per committed epoch
    tensorboard/       TensorBoard logs
    checkpoints/       epoch-<n>.keras (model + optimizer), best-<n>.weights.h5 (the stage's best)
    best.keras         the finished model (what tag / embed / export / evaluate use)
    model_card.json    what the model needs and gives (labels, input, embeddings), written once at the end
    final_metrics.json the final scores; its presence means the run has finished

The model card (:class:`ModelCard`) says what a model takes and gives: its labels, every input with its spec (the
waveform's segment, standardisation, rate, chunking and pooling, :class:`InputSpec`; an image's size and
preprocessing, :class:`ImageSpec`), its named embeddings, and where it comes from. It is written once (by the
trainer, or returned by a pretrained model's loader), validated once (:meth:`ModelCard.validate`), and read by every
entry point (evaluate, tag, embed, export). Old folders (configurations and cards of earlier versions) read through
:mod:`sampleaudio.migrate`.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from sampleaudio.config import ExperimentConfig
from sampleaudio.errors import ParameterError
from sampleaudio.fileio import atomic_open, write_json_atomic

__all__ = ["RunDir", "ModelCard", "InputSpec", "ImageSpec", "write_json", "CHUNKINGS", "POOLINGS",
           "DEFAULT_SAMPLE_RATE", "WON2020_CHUNKS", "IMAGE_PREPROCESSING"]

#: How a clip becomes segments (:mod:`sampleaudio.segments`).
CHUNKINGS = ("consecutive", "evenly-spaced")
#: How segment outputs become a clip output (:mod:`sampleaudio.segments`).
POOLINGS = ("mean", "max-then-mean", "first")
#: The rate of every store and model card written before the card recorded its rate.
DEFAULT_SAMPLE_RATE = 22050
#: Won et al. 2020's evaluation chunks per clip.
WON2020_CHUNKS = 16
#: How an image is scaled before a network sees it (``keras.applications``' conventions): ``caffe`` (BGR, ImageNet
#: mean subtracted: ResNet50, VGG), ``torch`` (RGB in [0, 1], ImageNet mean/std), ``tf`` (RGB in [-1, 1]).
IMAGE_PREPROCESSING = ("caffe", "torch", "tf")


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """Everything the input path needs to turn a waveform into model inputs and outputs into clip outputs.

    A model card (``model_card.json`` of a run, or a pretrained model's card) carries these fields; a card written
    before a field existed reads as its default (22,050 Hz, consecutive segments, mean pooling).
    """

    segment: int
    mean: float = 0.0
    std: float = 1.0
    sample_rate: int = DEFAULT_SAMPLE_RATE
    chunking: str = "consecutive"
    chunks: int = WON2020_CHUNKS
    pooling: str = "mean"
    embedding_layer: str | None = None

    def __post_init__(self):
        if isinstance(self.segment, bool) or not isinstance(self.segment, (int, np.integer)) or self.segment < 1:
            raise ParameterError(f"segment must be a positive integer. Received: {self.segment!r}")
        if self.chunking not in CHUNKINGS:
            raise ParameterError(f"chunking must be one of {CHUNKINGS}. Received: {self.chunking!r}")
        if self.pooling not in POOLINGS:
            raise ParameterError(f"pooling must be one of {POOLINGS}. Received: {self.pooling!r}")
        if isinstance(self.chunks, bool) or not isinstance(self.chunks, (int, np.integer)) or self.chunks < 1:
            raise ParameterError(f"chunks must be a positive integer. Received: {self.chunks!r}")
        if not self.std > 0:
            raise ParameterError(f"std must be positive. Received: std={self.std}")

    #: card key -> field (the card's ``clip_pooling`` predates this module)
    _CARD_KEYS = {"segment": "segment", "mean": "mean", "std": "std", "sample_rate": "sample_rate",
                  "chunking": "chunking", "chunks": "chunks", "clip_pooling": "pooling",
                  "embedding_layer": "embedding_layer"}

    @classmethod
    def from_card(cls, card: Mapping) -> InputSpec:
        """The spec of a model card; fields an old card lacks take their defaults."""
        return cls(**{field: card[key] for key, field in cls._CARD_KEYS.items() if card.get(key) is not None})

    def card_fields(self) -> dict:
        """The fields as a model card records them."""
        return {key: getattr(self, field) for key, field in self._CARD_KEYS.items()}

    @staticmethod
    def card_defaults() -> dict:
        """The card fields (other than segment, mean, std) an old card lacks, with the values they then mean."""
        spec = InputSpec(segment=1)
        return {k: v for k, v in spec.card_fields().items() if k not in ("segment", "mean", "std")}

    @classmethod
    def complete(cls, card: Mapping) -> dict:
        """A copy of ``card`` with the input-path fields it lacks set to their defaults (an unset embedding layer
        stays unset), after checking that its fields make a valid spec."""
        cls.from_card(card)
        return {**{k: v for k, v in cls.card_defaults().items() if v is not None}, **card}



@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """An image a model takes: ``height`` x ``width`` RGB after resizing, scaled by ``preprocessing``
    (:data:`IMAGE_PREPROCESSING`)."""

    height: int
    width: int
    preprocessing: str = "caffe"

    def __post_init__(self):
        for name in ("height", "width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"image {name} must be a positive integer. Received: {value!r}")
        if self.preprocessing not in IMAGE_PREPROCESSING:
            raise ParameterError(f"image preprocessing must be one of {IMAGE_PREPROCESSING}. "
                                 f"Received: {self.preprocessing!r}")


#: the card's own keys (anything else an objective or a loader records is kept in ``extra``)
_CARD_FIELDS = ("labels", "embeddings", "image", "architecture", "objective", "task", "dataset", "synthetic",
                "precision", "source")


@dataclasses.dataclass
class ModelCard:
    """What a model takes and gives (see the module docstring).

    Attributes:
        labels: one per output (empty for an embedding model, whose ``embeddings`` name its output).
        audio: the waveform input's spec (``None``: the model takes no audio).
        image: the image input's spec, if the model takes one.
        embeddings: embedding name -> layer (``penultimate`` is the clip embedding every family has).
        architecture, objective, task, dataset, synthetic, precision: how a run made it (``precision``: what it
            trained in; it is used in float32).
        source: where a pretrained model's weights come from.
        extra: what else its objective or loader recorded (e.g. a co-embedding's word vectors).
    """

    labels: list[str]
    audio: InputSpec | None = None
    image: ImageSpec | None = None
    embeddings: dict[str, str] = dataclasses.field(default_factory=dict)
    architecture: str | None = None
    objective: str = "classification"
    task: dict | None = None
    dataset: str | None = None
    synthetic: bool = False
    precision: str | None = None
    source: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def embedding_layer(self, name: str = "penultimate") -> str:
        """The layer that gives the ``name`` embedding."""
        if name in self.embeddings:
            return self.embeddings[name]
        raise ParameterError(f"the model has no '{name}' embedding (it has {', '.join(self.embeddings) or 'none'})")

    # ------------------------------------------------------------------------------------- the JSON form
    def to_dict(self) -> dict[str, Any]:
        """``model_card.json``: the waveform's fields at the top level (as every card since the first), the
        image's under ``image``."""
        out: dict[str, Any] = {**self.extra, "labels": list(self.labels), "embeddings": dict(self.embeddings),
                               "objective": self.objective, "synthetic": self.synthetic}
        if self.audio is not None:
            out.update(self.audio.card_fields())
            out["embedding_layer"] = self.embeddings.get("penultimate", self.audio.embedding_layer)
        if self.image is not None:
            out["image"] = dataclasses.asdict(self.image)
        for key in ("architecture", "task", "dataset", "precision", "source"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str = "model card") -> ModelCard:
        """From a card of any version (:func:`sampleaudio.migrate.card_dict`), validated; a one-line error names
        ``where``."""
        from sampleaudio.migrate import card_dict

        if not isinstance(raw, Mapping):
            raise ParameterError(f"{where}: is not a JSON object")
        d = card_dict(raw)
        try:
            audio = InputSpec.from_card(d) if "segment" in d else None
            image = ImageSpec(**d["image"]) if d.get("image") else None
        except (ParameterError, TypeError) as exc:
            raise ParameterError(f"{where}: {exc}") from None
        card = cls(labels=d.get("labels"), audio=audio, image=image, embeddings=dict(d.get("embeddings") or {}),
                   **{k: d[k] for k in ("architecture", "objective", "task", "dataset", "synthetic", "precision",
                                        "source") if k in d},
                   extra={k: v for k, v in d.items() if k not in _CARD_FIELDS and k not in InputSpec._CARD_KEYS})
        return card.validate(where=where)

    @classmethod
    def read(cls, run_dir: str) -> ModelCard:
        """A finished run's ``model_card.json``."""
        path = os.path.join(run_dir, "model_card.json")
        try:
            with open(path, encoding="utf-8") as f:
                raw = json.load(f)
        except (OSError, ValueError) as exc:
            raise ParameterError(f"'{path}' is missing or not a model card ({exc})") from exc
        return cls.from_dict(raw, where=f"'{path}'")

    def write(self, run_dir: str) -> None:
        write_json(os.path.join(run_dir, "model_card.json"), self.to_dict())

    # ---------------------------------------------------------------------------------------- checking
    def validate(self, model=None, where: str = "model card") -> ModelCard:
        """Refuse a card that cannot describe ``model``: labels unique strings, one per model output (or none, for
        an embedding model that names its embedding); an input; standardisation finite with std > 0; embeddings
        that are layers of the model. Returns ``self``."""
        def bad(why: str) -> ParameterError:
            return ParameterError(f"{where}: {why}")

        labels = self.labels
        embedding_only = labels == [] and bool(self.embeddings)
        if not isinstance(labels, list) or not (labels or embedding_only) or not all(isinstance(x, str)
                                                                                     for x in labels):
            raise bad("'labels' must be a non-empty list of strings (or empty, for an embedding model whose card "
                      "names its embedding_layer)")
        if len(set(labels)) != len(labels):
            raise bad("'labels' are not unique")
        if self.audio is None and self.image is None:
            raise bad("names no input (a waveform's 'segment', or an 'image')")
        if self.audio is not None:
            for key in ("mean", "std"):
                value = getattr(self.audio, key)
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise bad(f"'{key}' must be a finite number, is {value!r}")
        if model is not None:
            outputs = model.output_shape[-1] if not isinstance(model.output_shape, list) else None
            if outputs is not None and outputs != len(labels) and not embedding_only:
                raise bad(f"names {len(labels)} labels but the model has {outputs} outputs")
            names = {layer.name for layer in model.layers}
            missing = sorted(set(self.embeddings.values()) - names)
            if missing:
                raise bad(f"names embedding layer '{missing[0]}', which model '{model.name}' lacks")
        return self


def write_json(path: str, obj) -> None:
    """A run file (config, state, card, metrics), written atomically."""
    write_json_atomic(path, obj, indent=2, sort_keys=True)


class RunDir:
    """The files of one run folder (see the module docstring)."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self.checkpoints = os.path.join(self.path, "checkpoints")
        self.tensorboard = os.path.join(self.path, "tensorboard")
        self.best_model = os.path.join(self.path, "best.keras")

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    # ------------------------------------------------------------------------------------- configuration
    def read_config(self) -> ExperimentConfig | None:
        """The run's configuration (of any version), or ``None`` before it was written; a one-line error names a
        file that is not a run configuration."""
        path = self.file("config.json")
        if not os.path.exists(path):
            return None
        try:
            with open(path, encoding="utf-8") as f:
                raw = json.load(f)
        except (OSError, ValueError) as exc:
            raise ParameterError(f"'{path}' is not a readable run configuration ({exc})") from exc
        try:
            from sampleaudio.migrate import config_dict

            return ExperimentConfig.from_dict(config_dict(raw))
        except ParameterError as exc:
            raise ParameterError(f"'{path}': {exc}") from exc

    def write_config(self, config: ExperimentConfig) -> None:
        os.makedirs(self.checkpoints, exist_ok=True)
        write_json(self.file("config.json"), config.to_dict())

    def begin(self, config: ExperimentConfig | None, environment: dict) -> None:
        """Start (``config``: a new run's configuration, written first) or resume (``None``) a run: the
        checkpoint folder, and the environment it runs in (``environment.json``, rewritten on every start)."""
        if config is not None:
            self.write_config(config)
        os.makedirs(self.checkpoints, exist_ok=True)
        write_json(self.file("environment.json"), environment)

    def mark_diverged(self, where: dict) -> None:
        """Record that training diverged (``diverged.json``: where, and the losses), so that a command asked for
        the run's model says so instead of advising a resume that would diverge again."""
        write_json(self.file("diverged.json"), where)

    def diverged(self) -> dict | None:
        path = self.file("diverged.json")
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def resume_state(self) -> dict:
        """The committed state to continue from (a new run's initial state), with the ``history.csv`` rows of an
        epoch that was never committed dropped."""
        state = self.read_state() or {"stage": 0, "epoch": 0, "global_epoch": 0, "best_val_loss": None, "wait": 0,
                                      "stage_started": False}
        if os.path.exists(self.file("diverged.json")):  # tried again (a resume): diverging again re-marks it
            os.remove(self.file("diverged.json"))
        self.rewind_history(state["global_epoch"])
        return state

    # ------------------------------------------------------------------------------------------ progress
    def read_state(self) -> dict | None:
        """The last committed epoch's state, if its checkpoint is there."""
        path = self.file("state.json")
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        ok = os.path.exists(os.path.join(self.checkpoints, state.get("checkpoint", "last.keras")))
        return state if ok else None

    def write_state(self, state: dict) -> None:
        write_json(self.file("state.json"), state)

    def save_best(self, save_weights: Callable[[str], None], name: str) -> None:
        """The stage's best weights, as ``checkpoints/<name>`` (written under a temporary name, then renamed)."""
        tmp = os.path.join(self.checkpoints, "tmp.weights.h5")
        save_weights(tmp)
        os.replace(tmp, os.path.join(self.checkpoints, name))

    def commit_epoch(self, state: dict, save_checkpoint: Callable[[str], None], history: dict) -> None:
        """Record a finished epoch: its ``history.csv`` row, its checkpoint (``save_checkpoint(path)`` writes the
        model and optimizer), then ``state.json`` naming that checkpoint, which commits it (the previous commit's
        state kept inside, so a multi-worker job can rewind one epoch); older epochs' files are deleted."""
        self.append_history(history)
        previous = self.read_state()
        if previous is not None:
            previous.pop("previous", None)
            if "checkpoint" not in previous:  # a run started before epoch-named checkpoints: cannot rewind to it
                previous = None
        name = f"epoch-{state['global_epoch']:05d}.keras"
        save_checkpoint(os.path.join(self.checkpoints, "tmp.keras"))
        os.replace(os.path.join(self.checkpoints, "tmp.keras"), os.path.join(self.checkpoints, name))
        state.update(checkpoint=name, previous=previous)
        self.write_state(state)
        keep = {s.get(k) for s in (state, previous or {}) for k in ("checkpoint", "best")}
        for f in os.listdir(self.checkpoints):
            if f.startswith(("epoch-", "best-")) and f not in keep:
                os.remove(os.path.join(self.checkpoints, f))

    def append_history(self, row: dict) -> None:
        path = self.file("history.csv")
        new = not os.path.exists(path)
        with open(path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow(row)

    def rewind_history(self, global_epoch: int) -> None:
        """Drop ``history.csv`` rows of epochs at or after ``global_epoch`` (written, never committed)."""
        path = self.file("history.csv")
        if not os.path.exists(path):
            return
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        kept = [r for r in rows if int(r["global_epoch"]) < global_epoch]
        if len(kept) < len(rows):
            with atomic_open(path, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(kept)

    # ------------------------------------------------------------------------------------------- results
    def is_finished(self) -> bool:
        """Whether the run has written its final metrics (its model and card are written before them)."""
        return os.path.exists(self.file("final_metrics.json"))

    def final_metrics(self) -> dict:
        with open(self.file("final_metrics.json"), encoding="utf-8") as f:
            return json.load(f)
