"""Reading a converted store: its manifest read and checked, its shards checked against what the manifest
recorded, and :class:`Store`, the store opened once and handed around.

The manifest records every shard's clip count, size and SHA-256 (as tensorflow-datasets records checksums):
:func:`shard_paths` refuses a store whose shards are missing or have another size than recorded, and
:func:`verify_store` also checks the checksums (training does so before it starts). From format 3 on it also
records the features of the store's clips and the facts of its task; older stores are read with what
:mod:`sampleaudio.migrate` knows about them.

A training run opens its store once (:meth:`Store.open`) and hands the object to the pipelines, the trainer and
the evaluator, which take its facts from it (dataset, labels, task, features, sample rate, splits and their
counts, training mean/std, format version) instead of reading ``manifest.json`` again. The functions that take a
store's path (``train_dataset(path, ...)``, ``evaluate_model(model, path, ...)``) still do: :func:`open_store`
accepts a path or an opened store.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import stat
from collections.abc import Sequence
from typing import Any

from sampleaudio import migrate
from sampleaudio.errors import DatasetLayoutError, ParameterError
from sampleaudio.stores.schema import SPLITS, STANDARD_FEATURES, Feature, Task

__all__ = ["FORMAT_VERSION", "MANIFEST", "INDEX", "Manifest", "read_manifest", "read_index", "shard_paths",
           "verify_store", "file_digest", "Store", "open_store"]

MANIFEST = "manifest.json"
INDEX = "clips.csv"
#: 2: the manifest records each shard's clip count, byte size and SHA-256 (``shards``). 3: it also records the
#: features of the clips (``features``), the dataset's task (``task``) and its sources (``info``). Older stores
#: are still read (:mod:`sampleaudio.migrate`); version-1 shard sizes and checksums cannot be checked.
FORMAT_VERSION = 3


@dataclasses.dataclass
class Manifest:
    """What a converted store holds (``manifest.json``)."""

    dataset: str
    labels: list[str]
    multi_label: bool
    sample_rate: int
    splits: dict[str, dict[str, Any]]
    mean: float
    std: float
    skipped: list[dict[str, str]]
    converter: str
    converter_version: str
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    shards: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    #: every feature of the clips (:meth:`sampleaudio.stores.Feature.to_dict`); ``None`` in stores before format 3
    features: list[dict[str, Any]] | None = None
    #: the dataset's task with this store's label count (:class:`sampleaudio.stores.Task`); ``None`` before format 3
    task: dict[str, Any] | None = None
    #: description, citation, homepage, proxy relation (:meth:`sampleaudio.stores.DatasetInfo.sources`)
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Manifest:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in fields})


def read_manifest(data_dir: str | os.PathLike) -> Manifest:
    """Read ``manifest.json`` of a converted store, with a clear error when it is not one (missing, corrupt,
    written by a newer format, or inconsistent)."""
    path = os.path.join(os.fspath(data_dir), MANIFEST)
    if not os.path.exists(path):
        raise DatasetLayoutError(f"'{data_dir}' is not a converted sampleaudio store: no {MANIFEST} "
                                 "(run `sampleaudio prep` first, or the conversion did not finish)")
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        if not isinstance(raw, dict):
            raise ParameterError("not a JSON object")
        manifest = Manifest.from_dict(raw)
    except (ValueError, TypeError, UnicodeDecodeError, OSError) as exc:
        raise DatasetLayoutError(f"'{path}' is not a readable sampleaudio manifest ({exc})") from exc
    _check_manifest(manifest, path)
    return manifest


def _check_manifest(m: Manifest, path: str) -> None:
    def bad(why: str) -> DatasetLayoutError:
        return DatasetLayoutError(f"'{path}' is corrupt: {why}")

    if not isinstance(m.format_version, int) or m.format_version < 1:
        raise bad(f"format_version {m.format_version!r}")
    if m.format_version > FORMAT_VERSION:
        raise DatasetLayoutError(f"'{path}' has format_version {m.format_version}, newer than this sampleaudio "
                                 f"reads ({FORMAT_VERSION}); upgrade sampleaudio or convert again")
    if not isinstance(m.labels, list) or not m.labels or not all(isinstance(x, str) for x in m.labels):
        raise bad("labels must be a non-empty list of strings")
    if len(set(m.labels)) != len(m.labels):
        raise bad("labels are not unique")
    for name, value in (("mean", m.mean), ("std", m.std)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad(f"{name} is {value!r}")
    if m.std <= 0:
        raise bad(f"std must be positive, is {m.std}")
    if isinstance(m.sample_rate, bool) or not isinstance(m.sample_rate, int) or m.sample_rate < 1:
        raise bad(f"sample_rate {m.sample_rate!r} (a positive number of samples per second)")
    if not isinstance(m.splits, dict) or not set(m.splits) <= set(SPLITS):
        raise bad(f"splits must be a subset of {SPLITS}")
    for split, info in m.splits.items():
        if not isinstance(info, dict) or not isinstance(info.get("shards"), list) or \
                not isinstance(info.get("clips"), int) or info["clips"] < 0:
            raise bad(f"split '{split}' needs a list of shards and a clip count")
        for name in info["shards"]:
            if not isinstance(name, str) or os.path.basename(name) != name or name in ("", ".", "..") or \
                    not name.startswith(f"{split}-"):
                raise bad(f"shard name {name!r} of split '{split}'")
        if m.shards:
            recorded = [m.shards.get(n) for n in info["shards"]]
            if any(not isinstance(r, dict) for r in recorded):
                raise bad(f"split '{split}' names shards without a recorded size and checksum")
            if sum(int(r.get("clips", -1)) for r in recorded) != info["clips"]:
                raise bad(f"split '{split}' counts {info['clips']} clips, its shards {sum(r['clips'] for r in recorded)}")
    if m.format_version >= 3:
        _check_declarations(m, bad)


def _check_declarations(m: Manifest, bad) -> None:
    """A format-3 manifest's features (the standard ones among them, unchanged) and task (matching its labels)."""
    try:
        features = [Feature.from_dict(d) for d in m.features]
        task = Task.from_dict(m.task)
    except (TypeError, KeyError, AttributeError, ParameterError) as exc:
        raise bad(f"its features or task cannot be read ({exc})") from exc
    names = [f.name for f in features]
    if len(set(names)) != len(names) or any((f.name, f.kind) not in {(g.name, g.kind) for g in features}
                                            for f in STANDARD_FEATURES):
        raise bad(f"features {names} must name each feature once, the standard ones included")
    if (task.num_classes, task.multi_label) != (len(m.labels), m.multi_label):
        raise bad(f"its task ({task.num_classes} classes, multi_label={task.multi_label}) does not match its "
                  f"{len(m.labels)} labels, multi_label={m.multi_label}")


def read_index(data_dir: str | os.PathLike):
    """The per-clip index (``clips.csv``) as a pandas DataFrame."""
    import pandas as pd

    path = os.path.join(os.fspath(data_dir), INDEX)
    try:
        index = pd.read_csv(path, dtype={"clip_id": str, "labels": str}, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DatasetLayoutError(f"'{path}' is missing or not a readable clip index ({exc})") from exc
    missing = {"clip_id", "split", "shard", "num_samples", "labels"} - set(index.columns)
    if missing or not pd.api.types.is_integer_dtype(index["num_samples"]):
        raise DatasetLayoutError(f"'{path}' is not a sampleaudio clip index (columns {sorted(index.columns)})")
    return index


def file_digest(path: str) -> tuple[int, str]:
    """``(size in bytes, SHA-256 hex)`` of a file, read in 1 MiB blocks."""
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return size, h.hexdigest()


def shard_paths(data_dir: str | os.PathLike, split: str, *, manifest: Manifest | None = None) -> list[str]:
    """Paths of one split's shards, in order, after checking that each is there with its recorded size
    (``manifest``: the store's, when already read)."""
    manifest = read_manifest(data_dir) if manifest is None else manifest
    if split not in manifest.splits:
        raise DatasetLayoutError(f"'{data_dir}' has no '{split}' split (it has {sorted(manifest.splits)})")
    paths = []
    for name in manifest.splits[split]["shards"]:
        path = os.path.join(os.fspath(data_dir), name)
        _check_shard(path, manifest.shards.get(name), checksum=False)
        paths.append(path)
    return paths


def _check_shard(path: str, recorded: dict[str, Any] | None, *, checksum: bool) -> None:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise DatasetLayoutError(f"shard '{path}' named by the manifest is missing or unreadable ({exc.strerror})") \
            from exc
    if not stat.S_ISREG(st.st_mode):
        raise DatasetLayoutError(f"shard '{path}' is not a regular file")
    if not recorded or recorded.get("bytes") is None:
        return  # a format-1 store: nothing recorded to compare with
    if st.st_size != recorded["bytes"]:
        raise DatasetLayoutError(f"shard '{path}' has {st.st_size} bytes, the manifest recorded {recorded['bytes']}: "
                                 "it is truncated or was replaced; convert the store again")
    if checksum:
        try:
            _, digest = file_digest(path)
        except OSError as exc:
            raise DatasetLayoutError(f"shard '{path}' cannot be read ({exc.strerror})") from exc
        if digest != recorded.get("sha256"):
            raise DatasetLayoutError(f"shard '{path}' does not match the SHA-256 recorded in the manifest: it is "
                                     "corrupt or was replaced; convert the store again")


def verify_store(data_dir: str | os.PathLike, splits: Sequence[str] = SPLITS, *, checksum: bool = True,
                 require: Sequence[str] = (), manifest: Manifest | None = None) -> Manifest:
    """Check a store before it is used: a readable manifest, every shard of ``splits`` present with its recorded
    size (and SHA-256 when ``checksum``), and each split of ``require`` present with at least one clip
    (``manifest``: the store's, when already read).

    Raises:
        DatasetLayoutError: naming the store, the shard or the split and what is wrong.
    """
    manifest = read_manifest(data_dir) if manifest is None else manifest
    for split in require:
        if manifest.splits.get(split, {}).get("clips", 0) < 1:
            counts = ", ".join(f"{k}: {v['clips']}" for k, v in manifest.splits.items())
            raise DatasetLayoutError(f"store '{data_dir}' has no clips in its '{split}' split, which this task needs "
                                     f"(it has {counts or 'no splits'})")
    for split in splits:
        for name in manifest.splits.get(split, {}).get("shards", []):
            _check_shard(os.path.join(os.fspath(data_dir), name), manifest.shards.get(name), checksum=checksum)
    return manifest


class Store:
    """A converted store, its manifest read and checked once (format version included).

    Example (``path`` a folder written by ``sampleaudio prep``)::

        store = Store.open(path)
        store.labels, store.sample_rate, store.clips("train"), store.task.metric, store.features
    """

    def __init__(self, path: str | os.PathLike, manifest: Manifest):
        self.path = os.fspath(path)
        self.manifest = manifest

    @classmethod
    def open(cls, path: str | os.PathLike, *, verify: bool = False, splits: Sequence[str] = SPLITS,
             checksum: bool = True, require: Sequence[str] = ()) -> Store:
        """Read and check ``path``'s manifest (:func:`read_manifest`); with ``verify``, also its shards and
        required splits (:func:`verify_store`).

        Raises:
            DatasetLayoutError: not a store, a corrupt manifest or one of a newer ``format_version``, a missing or
                altered shard, an empty required split (naming the file or split).
        """
        manifest = read_manifest(path)
        if verify:
            verify_store(path, splits, checksum=checksum, require=require, manifest=manifest)
        return cls(path, manifest)

    def __repr__(self) -> str:
        return f"Store({self.path!r}, dataset={self.dataset!r}, clips={self.counts()})"

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:  # messages name the store by its folder, as before
        return self.path

    # the manifest's facts
    @property
    def dataset(self) -> str:
        return self.manifest.dataset

    @property
    def labels(self) -> list[str]:
        return self.manifest.labels

    @property
    def num_classes(self) -> int:
        return self.manifest.num_classes

    @property
    def multi_label(self) -> bool:
        return self.manifest.multi_label

    @property
    def sample_rate(self) -> int:
        return int(self.manifest.sample_rate)

    @property
    def mean(self) -> float:
        return float(self.manifest.mean)

    @property
    def std(self) -> float:
        return float(self.manifest.std)

    @property
    def splits(self) -> dict:
        return self.manifest.splits

    @property
    def format_version(self) -> int:
        return self.manifest.format_version

    @property
    def extra(self) -> dict:
        return self.manifest.extra

    @property
    def synthetic(self) -> bool:
        return "synthetic" in self.manifest.extra

    @functools.cached_property
    def features(self) -> tuple[Feature, ...]:
        """Every feature of the clips, the standard ones first (:func:`sampleaudio.stores.parse_example` parses
        by them); those of a store before format 3 are :data:`sampleaudio.migrate.V2_FEATURES`."""
        if self.manifest.features is None:
            return migrate.V2_FEATURES
        return tuple(Feature.from_dict(d) for d in self.manifest.features)

    @property
    def declared_features(self) -> tuple[Feature, ...]:
        """The features the dataset declared beyond the standard ones (an image, a text, a fold, ...)."""
        standard = {f.name for f in STANDARD_FEATURES}
        return tuple(f for f in self.features if f.name not in standard)

    @functools.cached_property
    def task(self) -> Task:
        """The dataset's task with this store's label count (from the manifest; a store before format 3 has the
        task :func:`sampleaudio.migrate.v2_task` knows for its dataset).

        Raises:
            UnknownNameError: a store before format 3 of a dataset without a task (a ``KeyError`` as well).
        """
        if self.manifest.task is None:
            return migrate.v2_task(self.dataset, self.num_classes)
        return Task.from_dict(self.manifest.task)

    @property
    def info(self) -> dict:
        """Description, citation, homepage and, for a synthetic proxy, the real dataset it stands for (``{}``
        before format 3)."""
        return self.manifest.info

    def counts(self) -> dict[str, int]:
        """Clips per split."""
        return {split: int(info.get("clips", 0)) for split, info in self.manifest.splits.items()}

    def clips(self, split: str) -> int:
        return self.counts().get(split, 0)

    def seconds(self, split: str) -> float:
        return float(self.manifest.splits.get(split, {}).get("seconds", 0.0))

    # the files
    @functools.cached_property
    def index(self):
        """The per-clip index (``clips.csv``), read on first use."""
        return read_index(self.path)

    def shard_paths(self, split: str) -> list[str]:
        """One split's shards, in order, each checked to be there with its recorded size."""
        return shard_paths(self.path, split, manifest=self.manifest)

    def num_samples(self, split: str):
        """Samples of each clip of ``split``, in index order (a numpy array)."""
        index = self.index
        return index.loc[index["split"] == split, "num_samples"].to_numpy()


def open_store(store: str | os.PathLike | Store) -> Store:
    """``store`` itself when already opened, else :meth:`Store.open` of the path."""
    return store if isinstance(store, Store) else Store.open(store)
