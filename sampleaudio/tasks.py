"""The table of dataset facts: one :class:`Task` per dataset (Kim, Lee, Nam, IEEE JSTSP 2019, Sec. IV-A and the
authors' ``lib/data/config.py``; Park et al., ISMIR 2018, Sec. 4).

A task says what the training objective and the protocol need to know about a dataset: its label count, single- or
multi-label (so the output activation and the loss), the decision threshold, the headline metric, the original's
input standardisation constants, its clip length, its other names and its synthetic proxy. It holds no model
sizes: a model's input length and depth for a dataset are the model family's facts
(:mod:`sampleaudio.model_registry`). Stores made by ``sampleaudio prep`` name their dataset; :func:`task_for` maps a
dataset, an alias or a synthetic proxy to its task.

Adding a dataset is one :data:`TASKS` entry (and its converter and fixture).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sampleaudio.errors import UnknownNameError

__all__ = ["Task", "TASKS", "task_for"]


@dataclasses.dataclass(frozen=True)
class Task:
    """One dataset's facts.

    Attributes:
        name: the dataset's name in stores (``mtat``, ``speech-commands``, ``dcase2017``, ...).
        num_classes: outputs (a store's own label count overrides it, :func:`task_for`).
        multi_label: sigmoid + binary cross-entropy when True, softmax + categorical cross-entropy otherwise.
        threshold: decision threshold of the thresholded metrics (0.1 for DCASE in the original).
        metric: the metric the papers report for this dataset.
        clip_seconds: clip length the original used (it caps the fixed training segments per clip).
        paper_mean, paper_std: the original's input standardisation constants for the real dataset (``None``:
            none published; ``standardize="paper"`` is then refused).
        proxy: the synthetic proxy of the real dataset (``data_prep.synthetic``), if any.
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
        """A task recorded in a model card; cards written before the table lost its SampleCNN sizes also hold
        ``num_blocks`` and ``segment`` (the card's own ``segment`` is the run's), which are dropped."""
        d = {k: v for k, v in d.items() if k not in ("num_blocks", "segment")}
        if "aliases" in d:
            d["aliases"] = tuple(d["aliases"])
        return cls(**d)


TASKS: dict[str, Task] = {t.name: t for t in [
    # Kim 2019's three tasks (paper constants: the authors' lib/data/config.py)
    Task("mtat", 50, True, 0.5, "roc_auc", 29.0, -1.650025e-4, 0.1551194, "mini-mtat", ("mtt",)),
    Task("speech-commands", 35, False, 0.5, "accuracy", 1.0, -8.520474e-5, 0.18, "mini-speech-commands", ("scd",)),
    Task("dcase2017", 17, True, 0.1, "instance_f1", 10.0, -3.320680e-4, 0.2051463, "mini-dcase", ("dcs",)),
    # Park 2018: no waveform standardisation (the mel front end standardises its log-mel output with the authors'
    # constants), so the "paper" constants are the identity; num_classes = artists, from the store.
    Task("msd-artist", 2, False, 0.5, "accuracy", 30.0, 0.0, 1.0, "mini-artists"),
    # Park 2018's genre targets (transfer evaluation; training on them is classification over 129-frame crops)
    Task("gtzan", 10, False, 0.5, "accuracy", 30.0, 0.0, 1.0, "mini-artists-genres"),
    Task("fma-small", 8, False, 0.5, "accuracy", 30.0, 0.0, 1.0),
    # Park 2018's tag model: the artist songs with their (top-50 Last.fm) tags, sigmoid + binary cross-entropy
    Task("msd-tags", 50, True, 0.5, "roc_auc", 30.0, 0.0, 1.0, "mini-artists-tags"),
]}


def _names(tasks: Mapping[str, Task]) -> dict[str, str]:
    """Every name a dataset goes by (its own, its aliases, its proxy) -> its task's key."""
    out = {}
    for key, task in tasks.items():
        out.update({name: key for name in (*task.aliases, *((task.proxy,) if task.proxy else ()))})
    out.update({key: key for key in tasks})
    return out


def task_for(dataset: str, num_classes: int | None = None) -> Task:
    """The task a dataset (an alias, or its synthetic proxy) belongs to; ``num_classes`` overrides the class
    count."""
    names = _names(TASKS)
    if dataset not in names:
        raise UnknownNameError(f"no task for dataset '{dataset}'; known: {sorted(names)}")
    task = TASKS[names[dataset]]
    if num_classes is not None and num_classes != task.num_classes:
        task = dataclasses.replace(task, num_classes=num_classes)
    return task
