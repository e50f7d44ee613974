"""Registered pretrained models: names that ``tag``, ``embed``, ``index`` and ``export`` accept in place of a run
folder.

The names are the families' own declarations (:class:`sampleaudio.families.Pretrained`, in each family's folder:
``musicnn-mtt``, ``park2018-artist``, ``samplecnn-mtat-se-multi``, ...): each describes itself (its loader, given as
``"module:function"`` so that nothing is imported until the name is used; the paper; the input; what it outputs;
what the user must supply), and every listing (``sampleaudio models``, ``tag --help``, the error for an unknown
name) is generated from them.

A loader takes the user-supplied weights path (``None`` when the weights come from an installed package) and
returns ``(model, card)``: a Keras model and its model card (:class:`sampleaudio.cards.ModelCard`, or a dict with
the keys of a run's ``model_card.json``, read through :mod:`sampleaudio.migrate`).
"""

from __future__ import annotations

import importlib
from typing import Any

from sampleaudio.errors import ParameterError
from sampleaudio.families import Pretrained, pretrained_models
from sampleaudio.params import closest

__all__ = ["Pretrained", "PRETRAINED", "is_pretrained", "load_pretrained", "describe", "summary"]

#: name -> its declaration (a plain ``"module:function"`` string is accepted too: a test's toy loader)
PRETRAINED: dict[str, Pretrained | str] = dict(pretrained_models())


def is_pretrained(name: str) -> bool:
    """Whether ``name`` is a registered pretrained model name (and not a path)."""
    return str(name) in PRETRAINED


def describe() -> str:
    """One line per registered name: paper, input, outputs and what it needs (``tag --help``)."""
    return "\n".join(entry.line() if isinstance(entry, Pretrained) else f"{name}: {entry}"
                     for name, entry in sorted(PRETRAINED.items()))


def summary() -> str:
    """The registered names with what each needs, on one line (for one-line errors)."""
    parts = []
    for name in sorted(PRETRAINED):
        entry = PRETRAINED[name]
        needs = entry.needs.split(" (")[0] if isinstance(entry, Pretrained) and entry.needs else ""
        parts.append(f"{name} ({needs})" if needs else name)
    return "; ".join(parts)


def load_pretrained(name: str, weights: str | None = None) -> tuple[Any, dict]:
    """The Keras model and model card (a dict, its input-path fields completed) of the registered name ``name``."""
    if name not in PRETRAINED:
        raise ParameterError(f"unknown pretrained model '{name}'{closest(name, PRETRAINED)}; registered: "
                             f"{summary() or 'none'}")
    entry = PRETRAINED[name]
    module, function = (entry.loader if isinstance(entry, Pretrained) else entry).split(":")
    model, card = getattr(importlib.import_module(module), function)(weights)
    from sampleaudio.cards import ModelCard

    if isinstance(card, ModelCard):
        card = card.to_dict()
    missing = {"labels", "segment", "mean", "std"} - set(card)
    if missing:
        raise ParameterError(f"pretrained model '{name}': its card lacks {sorted(missing)}")
    return model, ModelCard.from_dict(card, where=f"pretrained model '{name}'").to_dict()
