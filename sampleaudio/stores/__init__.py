"""The TFRecord store: one ``tf.train.Example`` per clip, sharded, checksummed, atomic and resumable.

- :mod:`~sampleaudio.stores.schema`: what a clip carries (the standard features and those a dataset declares in
  its :class:`DatasetInfo`), the dataset's :class:`Task`, and the generic :func:`encode_example` /
  :func:`parse_example`.
- :mod:`~sampleaudio.stores.writer`: :func:`write_dataset` (planning, sharding, locking, atomic writes, sidecars,
  the manifest).
- :mod:`~sampleaudio.stores.reader`: the manifest and its checks, verified shard paths, and :class:`Store`, a
  store opened once and handed to the pipelines, the trainer and the evaluation.

Stores written before format 3 are read with :mod:`sampleaudio.migrate`.
"""

from __future__ import annotations

from sampleaudio.stores.reader import (
    FORMAT_VERSION,
    Manifest,
    Store,
    open_store,
    read_index,
    read_manifest,
    shard_paths,
    verify_store,
)
from sampleaudio.stores.schema import (
    FEATURE_KINDS,
    SPLITS,
    STANDARD_FEATURES,
    DatasetInfo,
    Feature,
    Task,
    encode_example,
    parse_example,
)
from sampleaudio.stores.writer import (
    Clip,
    FileLoader,
    ShardWorkers,
    ShardWriter,
    is_disk_full,
    write_dataset,
    write_shard,
)

__all__ = [
    "SPLITS",
    "FEATURE_KINDS",
    "STANDARD_FEATURES",
    "FORMAT_VERSION",
    "Feature",
    "Task",
    "DatasetInfo",
    "encode_example",
    "parse_example",
    "Clip",
    "FileLoader",
    "ShardWriter",
    "ShardWorkers",
    "write_shard",
    "write_dataset",
    "is_disk_full",
    "Manifest",
    "read_manifest",
    "read_index",
    "shard_paths",
    "verify_store",
    "Store",
    "open_store",
]
