"""An opened store: a converted dataset folder (:mod:`sampleaudio.records`) whose manifest was read and checked once.

A training run opens its store once (:meth:`Store.open`) and hands the object to the pipelines, the trainer and
the evaluator, which take its facts from it (dataset, labels, multi-label, sample rate, splits and their counts,
training mean/std, format version) instead of reading ``manifest.json`` again. The functions that take a store's
path (``train_dataset(path, ...)``, ``evaluate_model(model, path, ...)``) still do: :func:`open_store` accepts a
path or an opened store.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

from sampleaudio.records import SPLITS, Manifest, read_index, read_manifest, shard_paths, verify_store

__all__ = ["Store", "open_store"]


class Store:
    """A converted store, its manifest read and checked once (format version included).

    Example (``path`` a folder written by ``sampleaudio prep``)::

        store = Store.open(path)
        store.labels, store.sample_rate, store.clips("train")
    """

    def __init__(self, path: str | os.PathLike, manifest: Manifest):
        self.path = os.fspath(path)
        self.manifest = manifest

    @classmethod
    def open(cls, path: str | os.PathLike, *, verify: bool = False, splits: Sequence[str] = SPLITS,
             checksum: bool = True, require: Sequence[str] = ()) -> Store:
        """Read and check ``path``'s manifest (:func:`sampleaudio.records.read_manifest`); with ``verify``, also
        its shards and required splits (:func:`sampleaudio.records.verify_store`).

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
    def task(self):
        """The dataset's task facts (labels count from the store)."""
        from sampleaudio.tasks import task_for

        return task_for(self.dataset, self.num_classes)

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
