"""Every read of an older on-disk format, in one place: old run configurations, model cards and stores read as the
current code writes them, so the rest of the package knows one format of each.

- ``config.json`` (:func:`config_dict`): before per-architecture parameters, the model section was one flat union
  of every architecture's fields; before objectives had their own section, their parameters (``num_negatives``,
  ``margin``, the co-embedding's word vectors and split) sat in the training section beside ``objective``; before
  ``train_examples`` existed, runs trained on random crops.
- ``model_card.json`` (:func:`card_dict`): before cards recorded them, a card meant 22,050 Hz, consecutive segments
  and mean pooling; its one ``embedding_layer`` is the ``penultimate`` embedding; its task held SampleCNN sizes
  (``num_blocks``, ``segment``) before the dataset table lost them.

Nothing here is extended for new features: a format that changes adds its old reading here, once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sampleaudio.errors import ParameterError

__all__ = ["config_dict", "card_dict"]

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
    model = d.get("model")
    if isinstance(model, dict):
        name = model.get("architecture") or families.DEFAULT_ARCHITECTURE
        taken = {f.name for f in dataclasses.fields(families.architecture(name).params)}
        d["model"] = {"architecture": name, **{k: v for k, v in model.items() if k in taken}}
    return d


def card_dict(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A model card of any version in the current form (:meth:`sampleaudio.cards.ModelCard.to_dict`)."""
    from sampleaudio.cards import InputSpec

    d = dict(raw)
    if "segment" in d:  # a waveform model: the input-path fields an old card lacks, as they then were
        d = {**{k: v for k, v in InputSpec.card_defaults().items() if v is not None}, **d}
    if not d.get("embeddings") and d.get("embedding_layer"):
        d["embeddings"] = {"penultimate": d["embedding_layer"]}
    if isinstance(d.get("task"), Mapping):
        d["task"] = {k: v for k, v in d["task"].items() if k not in ("num_blocks", "segment")}
    return d
