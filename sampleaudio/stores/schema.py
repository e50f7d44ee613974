"""What a store holds: the features of a clip, the facts of its task, and a dataset's declaration of both.

Every store's clips carry the standard features (:data:`STANDARD_FEATURES`: the clip id, the audio as 16-bit
little-endian PCM, its length and rate, the label indices, the split, the artist and the track). A dataset adds
its own as :class:`Feature` declarations in its :class:`DatasetInfo` (an album cover's encoded image, a text, a
fold number, ...), as a tensorflow-datasets dataset declares its ``FeaturesDict``: a new modality is a
declaration in the dataset's converter module, not a change of this module or of the store format. The manifest
records the declarations, so a reader needs nothing but the store (:mod:`sampleaudio.stores.reader`).

:func:`encode_example` and :func:`parse_example` are driven by the declarations: one ``tf.train.Example`` per
clip, serialised deterministically (the same clip gives the same bytes in every process).

:class:`Task` is what training and evaluation need to know about a dataset (Kim, Lee, Nam, IEEE JSTSP 2019,
Sec. IV-A and the authors' ``lib/data/config.py``; Park et al., ISMIR 2018, Sec. 4): its label count, single- or
multi-label (so the output activation and the loss), the decision threshold, the headline metric, the original's
input standardisation constants, its clip length, its other names and its synthetic proxy. It holds no model
sizes: a model's input length and depth for a dataset are the model family's facts.
"""

from __future__ import annotations

import dataclasses
import numbers
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sampleaudio.errors import ParameterError

__all__ = ["SPLITS", "FEATURE_KINDS", "Feature", "STANDARD_FEATURES", "Task", "DatasetInfo", "check_value",
           "encode_example", "parse_example"]

#: The three splits every store has, in this order.
SPLITS = ("train", "valid", "test")

#: What a feature's value can be: one byte string (an encoded image), one text, one integer or float, a list of
#: integers or floats.
FEATURE_KINDS = ("bytes", "string", "int", "float", "int_list", "float_list")
_LISTS = ("int_list", "float_list")
_EMPTY = {"bytes": b"", "string": "", "int": 0, "float": 0.0, "int_list": (), "float_list": ()}
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def check_value(feature: Feature, value: Any) -> Any:
    """``value`` as feature ``feature`` stores it (bytes, str, int, float, or a tuple of int/float).

    Raises:
        ParameterError: a value of another kind (naming the feature).
    """
    kind = feature.kind

    def wrong() -> ParameterError:
        return ParameterError(f"feature '{feature.name}' ({kind}) cannot hold a {type(value).__name__}: {value!r:.60}")

    if kind == "bytes":
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise wrong()
        return bytes(value)
    if kind == "string":
        if not isinstance(value, str):
            raise wrong()
        return value
    if kind in ("int", "float"):
        number = numbers.Integral if kind == "int" else numbers.Real
        if isinstance(value, bool) or not isinstance(value, number):
            raise wrong()
        return int(value) if kind == "int" else float(value)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise wrong()
    item = numbers.Integral if kind == "int_list" else numbers.Real
    items = tuple(value)
    if any(isinstance(v, bool) or not isinstance(v, item) for v in items):
        raise wrong()
    return tuple(int(v) if kind == "int_list" else float(v) for v in items)


@dataclasses.dataclass(frozen=True)
class Feature:
    """One feature a store's clips carry.

    Args:
        name: its key in every record and in what :func:`parse_example` returns (lower case, digits, ``_``).
        kind: one of :data:`FEATURE_KINDS`.
        default: what a clip without a value stores and what a record without the feature parses as; ``None``
            makes the feature required (list kinds default to the empty list).
        loader: turns a clip's source value (``Clip.features[name]``, e.g. an image file's path) into the
            stored value, in the conversion's worker processes (so a module-level function or another picklable
            callable); it raises :class:`~sampleaudio.errors.FeatureDecodeError` for a source it cannot use, and
            the clip is then skipped and listed with the reason, as undecodable audio is. ``None``: the source
            value is stored as it is.
        doc: what the feature is, in a few words (recorded in the manifest).

    Example::

        Feature("cover", "bytes", default=b"", loader=read_png, doc="album cover, PNG bytes")
    """

    name: str
    kind: str
    default: Any = None
    loader: Callable[[Any], Any] | None = dataclasses.field(default=None, compare=False)
    doc: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ParameterError(f"a feature name is lower case letters, digits and '_'. Received: name={self.name!r}")
        if self.kind not in FEATURE_KINDS:
            raise ParameterError(f"feature '{self.name}': kind must be one of {FEATURE_KINDS}. "
                                 f"Received: kind={self.kind!r}")
        if self.kind in _LISTS and self.default is None:
            object.__setattr__(self, "default", ())
        elif self.default is not None:
            object.__setattr__(self, "default", check_value(self, self.default))
        if self.loader is not None and not callable(self.loader):
            raise ParameterError(f"feature '{self.name}': loader must be callable. Received: {self.loader!r}")

    @property
    def required(self) -> bool:
        return self.default is None

    def to_dict(self) -> dict[str, Any]:
        """The declaration as the manifest records it (its loader stays with the converter)."""
        default = self.default
        if isinstance(default, bytes):
            default = default.hex()
        elif isinstance(default, tuple):
            default = list(default)
        return {"name": self.name, "kind": self.kind, "default": default, "doc": self.doc}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Feature:
        default = d.get("default")
        if d.get("kind") == "bytes" and isinstance(default, str):
            default = bytes.fromhex(default)
        return cls(name=d["name"], kind=d["kind"], default=default, doc=d.get("doc", ""))


#: The features every store's clips carry (all written by the writer itself, none declared by a dataset). The
#: parsed ``audio`` is float32 in [-1, 1] and the parsed ``labels`` a multi-hot vector over the vocabulary.
STANDARD_FEATURES: tuple[Feature, ...] = (
    Feature("clip_id", "string", doc="the dataset's own stable clip id"),
    Feature("audio", "bytes", doc="16-bit little-endian PCM, mono, at sample_rate"),
    Feature("num_samples", "int", doc="samples of audio"),
    Feature("sample_rate", "int", doc="samples per second of audio"),
    Feature("labels", "int_list", doc="label indices into the manifest's labels"),
    Feature("split", "string", doc="train, valid or test"),
    Feature("artist_id", "string", default="", doc="who produced the audio (artist, speaker), or ''"),
    Feature("track_id", "string", default="", doc="the recording the clip was cut from, or ''"),
)
_STANDARD_NAMES = frozenset(f.name for f in STANDARD_FEATURES)


@dataclasses.dataclass(frozen=True)
class Task:
    """One dataset's facts.

    Attributes:
        name: the dataset's name in stores (``mtat``, ``speech-commands``, ``dcase2017``, ...).
        num_classes: outputs (a store's own label count overrides it: a store records its task with its labels).
        multi_label: sigmoid + binary cross-entropy when True, softmax + categorical cross-entropy otherwise.
        threshold: decision threshold of the thresholded metrics (0.1 for DCASE in the original).
        metric: the metric the papers report for this dataset.
        clip_seconds: clip length the original used (it caps the fixed training segments per clip).
        paper_mean, paper_std: the original's input standardisation constants for the real dataset (``None``:
            none published; ``standardize="paper"`` is then refused).
        proxy: the synthetic proxy of the real dataset (``sampleaudio.data_prep.synthetic``), if any.
        aliases: other names of the dataset (a store or a command line may use them).
    """

    name: str
    num_classes: int
    multi_label: bool
    threshold: float
    metric: str
    clip_seconds: float
    paper_mean: float | None = None
    paper_std: float | None = None
    proxy: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def activation(self) -> str:
        return "sigmoid" if self.multi_label else "softmax"

    @property
    def loss(self) -> str:
        return "binary_crossentropy" if self.multi_label else "categorical_crossentropy"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Task:
        """A task recorded in a model card or a manifest; cards written before the table lost its SampleCNN sizes
        also hold ``num_blocks`` and ``segment`` (the card's own ``segment`` is the run's), which are dropped."""
        d = {k: v for k, v in d.items() if k not in ("num_blocks", "segment")}
        if "aliases" in d:
            d["aliases"] = tuple(d["aliases"])
        return cls(**d)


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is: its name in stores, its task, the features its clips carry beyond the standard ones,
    and where it comes from. Each converter module declares one as ``INFO`` (``sampleaudio.data_prep`` finds
    them there); :func:`sampleaudio.stores.write_dataset` records it in the store's manifest.

    Args:
        name: the dataset's name in stores and on the command line (``mtat``, ``mini-mtat``).
        task: its :class:`Task` (a proxy's is the task of the real dataset it stands for).
        description: one line: the on-disk layout a converter expects, or how a proxy is made.
        features: the features its clips carry beyond :data:`STANDARD_FEATURES`.
        citation, homepage: where the dataset is described and obtained.
        proxy_of: for a synthetic proxy, the real dataset it stands for (whose task names it as ``proxy``).
        requires: modules a proxy's generator imports (checked before generating, to name the extra to install).

    Example::

        INFO = DatasetInfo("covers", Task("covers", 10, False, 0.5, "accuracy", 30.0),
                           features=(Feature("cover", "bytes", default=b"", loader=read_png),))
    """

    name: str
    task: Task
    description: str = ""
    features: tuple[Feature, ...] = ()
    citation: str = ""
    homepage: str = ""
    proxy_of: str | None = None
    requires: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "requires", tuple(self.requires))
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError(f"a dataset needs a name. Received: name={self.name!r}")
        if not isinstance(self.task, Task):
            raise ParameterError(f"dataset '{self.name}': task must be a Task. Received: {self.task!r}")
        names = [f.name for f in self.features]
        clash = sorted({n for n in names if names.count(n) > 1} | (set(names) & _STANDARD_NAMES))
        if clash:
            raise ParameterError(f"dataset '{self.name}' declares the feature(s) {clash} twice or as a standard one")
        if self.proxy_of is None and self.task.name != self.name:
            raise ParameterError(f"dataset '{self.name}' has the task of '{self.task.name}' but is no proxy of it")
        if self.proxy_of is not None and (self.task.name, self.task.proxy) != (self.proxy_of, self.name):
            raise ParameterError(f"proxy '{self.name}' stands for '{self.proxy_of}', whose task must name it as its "
                                 f"proxy (it names {self.task.proxy!r})")

    @classmethod
    def proxy(cls, real: DatasetInfo, *, name: str, description: str, requires: Sequence[str] = (),
              citation: str = "") -> DatasetInfo:
        """The declaration of ``real``'s synthetic proxy ``name``: ``real``'s task and features, its own name,
        description and generator requirements."""
        return cls(name=name, task=real.task, description=description, features=real.features,
                   citation=citation, proxy_of=real.name, requires=tuple(requires))

    @property
    def schema(self) -> tuple[Feature, ...]:
        """Every feature of the dataset's clips: the standard ones, then its own."""
        return STANDARD_FEATURES + self.features

    def sources(self) -> dict[str, Any]:
        """Description, citation, homepage and proxy relation, as the manifest records them."""
        return {"description": self.description, "citation": self.citation, "homepage": self.homepage,
                "proxy_of": self.proxy_of}


def encode_example(values: Mapping[str, Any], features: Sequence[Feature] = STANDARD_FEATURES) -> bytes:
    """Serialise one clip's ``values`` (feature name -> value) as a ``tf.train.Example`` with ``features``.

    A feature without a value stores its default; a required one without a value, or a value of another kind,
    raises :class:`~sampleaudio.errors.ParameterError`.
    """
    import tensorflow as tf

    unknown = sorted(set(values) - {f.name for f in features})
    if unknown:
        raise ParameterError(f"values for undeclared feature(s) {unknown}")
    out = {}
    for f in features:
        if f.name in values:
            value = check_value(f, values[f.name])
        elif f.required:
            raise ParameterError(f"feature '{f.name}' is required and has no value")
        else:
            value = f.default
        if f.kind == "string":
            out[f.name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))
        elif f.kind == "bytes":
            out[f.name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
        elif f.kind in ("int", "int_list"):
            out[f.name] = tf.train.Feature(int64_list=tf.train.Int64List(
                value=[value] if f.kind == "int" else list(value)))
        else:
            out[f.name] = tf.train.Feature(float_list=tf.train.FloatList(
                value=[value] if f.kind == "float" else list(value)))
    # deterministic=True sorts the feature map: the same clip gives the same bytes in every process
    return tf.train.Example(features=tf.train.Features(feature=out)).SerializeToString(deterministic=True)


def parse_example(serialized, num_classes: int, *, features: Sequence[Feature] = STANDARD_FEATURES) -> dict:
    """Parse one serialised Example (a scalar string tensor) inside tf.data, by the store's ``features``.

    Returns a dict with ``clip_id`` (string), ``audio`` (float32 ``[num_samples]`` in [-1, 1]), ``labels``
    (float32 multi-hot ``[num_classes]``; one-hot for single-label data), ``num_samples``, ``split``,
    ``artist_id``, ``track_id``, and each declared feature by its name: ``bytes``/``string`` a string tensor,
    ``int`` an int64 scalar, ``float`` a float32 scalar, ``int_list``/``float_list`` a 1-D tensor.
    """
    import tensorflow as tf

    dtypes = {"bytes": tf.string, "string": tf.string, "int": tf.int64, "float": tf.float32,
              "int_list": tf.int64, "float_list": tf.float32}
    spec = {}
    for f in features:
        if f.kind in _LISTS:
            spec[f.name] = tf.io.VarLenFeature(dtypes[f.kind])
        elif f.required:
            spec[f.name] = tf.io.FixedLenFeature([], dtypes[f.kind])
        else:
            spec[f.name] = tf.io.FixedLenFeature([], dtypes[f.kind], default_value=f.default)
    ex = tf.io.parse_single_example(serialized, spec)
    pcm = tf.io.decode_raw(ex["audio"], tf.int16, little_endian=True)
    idx = tf.sparse.to_dense(ex["labels"])
    out = {
        "clip_id": ex["clip_id"],
        "audio": tf.cast(pcm, tf.float32) / 32767.0,
        "labels": tf.minimum(tf.reduce_sum(tf.one_hot(idx, num_classes, dtype=tf.float32), axis=0), 1.0),
        "num_samples": ex["num_samples"],
        "split": ex["split"],
        "artist_id": ex["artist_id"],
        "track_id": ex["track_id"],
    }
    for f in features:
        if f.name not in _STANDARD_NAMES:
            out[f.name] = tf.sparse.to_dense(ex[f.name]) if f.kind in _LISTS else ex[f.name]
    return out
