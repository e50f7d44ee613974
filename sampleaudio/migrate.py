"""Every read of an older on-disk format, in one place: what sampleaudio knows about files it no longer writes.

Nothing else in the package reads an old format; each reader asks this module when a file lacks what the current
format records. The knowledge here is frozen: it describes files already on users' disks, so it never follows
later changes of the current declarations.

Stores (``manifest.json`` ``format_version`` 1 and 2; version 3 records its features and its task):

- :data:`V2_FEATURES`: the features every clip of a format-1/2 store carries (a format-1 manifest lacks only the
  shards' sizes and checksums, which :mod:`sampleaudio.stores.reader` then does not check).
- :data:`V2_TASKS` and :func:`v2_task`: the dataset table those stores were written under, for the task facts
  their manifests do not hold (looked up by the manifest's dataset name, an alias or a synthetic proxy's name).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from sampleaudio.errors import UnknownNameError
from sampleaudio.stores.schema import Feature, Task

__all__ = ["V2_FEATURES", "V2_TASKS", "v2_task"]

#: The features of every clip of a format-1/2 store, in its record.
V2_FEATURES: tuple[Feature, ...] = (
    Feature("clip_id", "string", doc="the dataset's own stable clip id"),
    Feature("audio", "bytes", doc="16-bit little-endian PCM, mono, at sample_rate"),
    Feature("num_samples", "int", doc="samples of audio"),
    Feature("sample_rate", "int", doc="samples per second of audio"),
    Feature("labels", "int_list", doc="label indices into the manifest's labels"),
    Feature("split", "string", doc="train, valid or test"),
    Feature("artist_id", "string", default="", doc="who produced the audio (artist, speaker), or ''"),
    Feature("track_id", "string", default="", doc="the recording the clip was cut from, or ''"),
)

#: The dataset table format-1/2 stores were written under (``sampleaudio/tasks.py`` until format 3).
V2_TASKS: dict[str, Task] = {t.name: t for t in [
    Task("mtat", 50, True, 0.5, "roc_auc", 29.0, -1.650025e-4, 0.1551194, "mini-mtat", ("mtt",)),
    Task("speech-commands", 35, False, 0.5, "accuracy", 1.0, -8.520474e-5, 0.18, "mini-speech-commands", ("scd",)),
    Task("dcase2017", 17, True, 0.1, "instance_f1", 10.0, -3.320680e-4, 0.2051463, "mini-dcase", ("dcs",)),
    Task("msd-artist", 2, False, 0.5, "accuracy", 30.0, 0.0, 1.0, "mini-artists"),
    Task("gtzan", 10, False, 0.5, "accuracy", 30.0, 0.0, 1.0, "mini-artists-genres"),
    Task("fma-small", 8, False, 0.5, "accuracy", 30.0, 0.0, 1.0),
    Task("msd-tags", 50, True, 0.5, "roc_auc", 30.0, 0.0, 1.0, "mini-artists-tags"),
]}


def _names(tasks: Mapping[str, Task]) -> dict[str, str]:
    out = {}
    for key, task in tasks.items():
        out.update({name: key for name in (*task.aliases, *((task.proxy,) if task.proxy else ()))})
    out.update({key: key for key in tasks})
    return out


def v2_task(dataset: str, num_classes: int) -> Task:
    """The task of a format-1/2 store of ``dataset`` (a name, alias or proxy of :data:`V2_TASKS`) with its
    ``num_classes`` labels.

    Raises:
        UnknownNameError: a dataset those stores had no task for.
    """
    names = _names(V2_TASKS)
    if dataset not in names:
        raise UnknownNameError(f"no task for dataset '{dataset}': its store was written before stores recorded "
                               f"their task (format 2), which knew {sorted(names)}; convert it again")
    return dataclasses.replace(V2_TASKS[names[dataset]], num_classes=num_classes)
