"""Registered pretrained models: names that ``tag``, ``embed`` and ``export`` accept in place of a run folder.

Each entry maps a public name (``musicnn-mtt``, ``park2018-artist``, ...) to a loader, given as
``"module:function"`` so that nothing is imported until the name is used. A loader takes the user-supplied
weights path (``None`` when the weights come from an installed package) and returns ``(model, card)``: a Keras
model taking segments ``[N, segment, 1]`` and a model card with the same keys as a training run's
``model_card.json`` (``labels``, ``segment``, ``mean``, ``std``, and optionally ``sample_rate``,
``embedding_layer``, ``chunking``, ``chunks`` and ``clip_pooling``: ``mean`` over segments (default),
``max-then-mean`` or the ``first`` segment only; :class:`sampleaudio.segments.InputSpec`, whose defaults fill what a
card leaves out). Adding a pretrained model is one line here and its loader in the family's own module.
"""

from __future__ import annotations

import importlib
from typing import Any

from sampleaudio.errors import ParameterError
from sampleaudio.segments import InputSpec

__all__ = ["PRETRAINED", "is_pretrained", "load_pretrained"]

#: name -> "module:function" of its loader (see the module docstring for the loader's contract).
PRETRAINED: dict[str, str] = {
    "park2018-artist": "sampleaudio.families.artist_cnn.model:load_park2018_artist",
    # musicnn (Pons and Serra): released MTAT / MSD taggers, weights from the `musicnn` wheel (--no-deps)
    "musicnn-mtt": "sampleaudio.families.musicnn.model:load_mtt_musicnn",
    "musicnn-msd": "sampleaudio.families.musicnn.model:load_msd_musicnn",
    "musicnn-mtt-vgg": "sampleaudio.families.musicnn.model:load_mtt_vgg",
    "musicnn-msd-vgg": "sampleaudio.families.musicnn.model:load_msd_vgg",
}


def is_pretrained(name: str) -> bool:
    """Whether ``name`` is a registered pretrained model name (and not a path)."""
    return str(name) in PRETRAINED


def load_pretrained(name: str, weights: str | None = None) -> tuple[Any, dict]:
    """The Keras model and model card of the registered pretrained model ``name``."""
    if name not in PRETRAINED:
        raise ParameterError(f"unknown pretrained model '{name}'; registered: {', '.join(sorted(PRETRAINED)) or 'none'}")
    module, function = PRETRAINED[name].split(":")
    model, card = getattr(importlib.import_module(module), function)(weights)
    missing = {"labels", "segment", "mean", "std"} - set(card)
    if missing:
        raise ParameterError(f"pretrained model '{name}': its card lacks {sorted(missing)}")
    try:
        return model, InputSpec.complete(card)  # the input-path fields it leaves out, at their defaults
    except (ParameterError, TypeError) as exc:
        raise ParameterError(f"pretrained model '{name}': {exc}") from exc
