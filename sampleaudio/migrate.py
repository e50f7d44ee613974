"""Every read of an older on-disk format, in one place: what sampleaudio knows about files it no longer writes.

Nothing else in the package reads an old format; each reader asks this module when a file lacks what the current
format records. The knowledge here is frozen: it describes files already on users' disks, so it never follows
later changes of the current declarations; a format that changes adds its old reading here, once.

Stores (``manifest.json`` ``format_version`` 1 and 2; version 3 records its features and its task):

- :data:`V2_FEATURES`: the features every clip of a format-1/2 store carries (a format-1 manifest lacks only the
  shards' sizes and checksums, which :mod:`sampleaudio.stores.reader` then does not check).
- :data:`V2_TASKS` and :func:`v2_task`: the dataset table those stores were written under, for the task facts
  their manifests do not hold (looked up by the manifest's dataset name, an alias or a synthetic proxy's name).

Run folders:

- ``config.json`` (:func:`config_dict`): before per-architecture parameters, the model section was one flat union
  of every architecture's fields; before objectives had their own section, their parameters (``num_negatives``,
  ``margin``, the co-embedding's word vectors and split) sat in the training section beside ``objective``; before
  ``train_examples`` existed, runs trained on random crops.
- ``model_card.json`` (:func:`card_dict`): before cards recorded them, a card meant 22,050 Hz, consecutive segments
  and mean pooling; its one ``embedding_layer`` is the ``penultimate`` embedding; its task held SampleCNN sizes
  (``num_blocks``, ``segment``) before the dataset table lost them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sampleaudio.errors import ParameterError, UnknownNameError
from sampleaudio.stores.schema import Feature, Task

__all__ = ["V2_FEATURES", "V2_TASKS", "v2_task", "config_dict", "card_dict"]

#: The features of every clip of a format-1/2 store, in its record: a frozen copy of what
#: :data:`sampleaudio.stores.schema.STANDARD_FEATURES` was then (that list may grow; a format-2 record does not).
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


#: training-section fields that belonged to an objective before objectives had a section
_OBJECTIVE_FIELDS = ("num_negatives", "margin", "word_vectors", "unseen_fraction", "split_seed", "oov_tags")


def config_dict(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A ``config.json`` of any version in the current form (:meth:`sampleaudio.config.ExperimentConfig.to_dict`);
    a current one is returned as it is (copied)."""
    from sampleaudio import families

    if not isinstance(raw, Mapping):
        raise ParameterError("config.json is not a JSON object")
    d = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in raw.items()}
    data = d.setdefault("data", {})
    if isinstance(data, dict):
        data.setdefault("train_examples", "random_crop")  # configurations written before it trained on crops
    train = d.get("train")
    if isinstance(train, dict) and "objective" in train and "objective" not in d:
        name = train.pop("objective") or "classification"
        fields = {k: train.pop(k) for k in _OBJECTIVE_FIELDS if k in train}
        taken = {f.name for f in dataclasses.fields(families.objective(name).params)} - {"name"}
        d["objective"] = {"name": name, **{k: v for k, v in fields.items() if k in taken}}
    objective = d.get("objective")
    if isinstance(objective, dict) and objective.get("name") == "siamese":
        objective.setdefault("anchors", "uniform")  # written before `anchors` existed: anchors drawn uniformly
    model = d.get("model")
    if isinstance(model, dict):
        name = model.get("architecture") or families.DEFAULT_ARCHITECTURE
        taken = {f.name for f in dataclasses.fields(families.architecture(name).params)}
        d["model"] = {"architecture": name, **{k: v for k, v in model.items() if k in taken}}
    return d


#: what a card's input path meant before the card recorded it (frozen: cards of any later version record it)
_OLD_CARD_INPUT = {"sample_rate": 22050, "chunking": "consecutive", "chunks": 16, "clip_pooling": "mean"}


def card_dict(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A model card of any version in the current form (:meth:`sampleaudio.cards.ModelCard.to_dict`)."""
    d = dict(raw)
    if "segment" in d:  # a waveform model: the input-path fields an old card lacks, as they then were
        d = {**_OLD_CARD_INPUT, **d}
    if not d.get("embeddings") and d.get("embedding_layer"):
        d["embeddings"] = {"penultimate": d["embedding_layer"]}
    if isinstance(d.get("task"), Mapping):
        d["task"] = {k: v for k, v in d["task"].items() if k not in ("num_blocks", "segment")}
    return d
