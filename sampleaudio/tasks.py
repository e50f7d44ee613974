"""Per-task configuration of Kim, Lee, Nam (IEEE JSTSP 2019), Sec. IV-A and the authors' ``lib/data/config.py``.

A task fixes what the model and the protocol need to know about a dataset: how many blocks (so that the
segment shrinks to one sample), the segment length, the output activation and loss, the decision threshold and
the headline metric. Stores made by ``sampleaudio prep`` name their dataset; :func:`task_for` maps a dataset to
its task (a synthetic proxy maps to the task it mirrors).
"""

from __future__ import annotations

import dataclasses

from sampleaudio.errors import UnknownNameError

__all__ = ["Task", "TASKS", "task_for"]


@dataclasses.dataclass(frozen=True)
class Task:
    """One of the papers' three tasks.

    Attributes:
        name: ``mtat``, ``speech-commands`` or ``dcase2017``.
        num_blocks: SampleCNN blocks after the stem (segment = 3 ** (num_blocks + 1)).
        segment: input samples per example (59,049 for MTAT; 22,050 for the others: 3^9 = 19,683 would
            leave 1 s clips short, so the authors used 1 s with 8 blocks).
        num_classes: outputs.
        multi_label: sigmoid + binary cross-entropy when True, softmax + categorical cross-entropy otherwise.
        threshold: decision threshold of the thresholded metrics (0.1 for DCASE in the original).
        paper_mean, paper_std: the original's input standardisation constants for the real dataset.
        metric: the metric the paper reports for this task.
        clip_seconds: clip length the original used.
    """

    name: str
    num_blocks: int
    segment: int
    num_classes: int
    multi_label: bool
    threshold: float
    paper_mean: float
    paper_std: float
    metric: str
    clip_seconds: float

    @property
    def activation(self) -> str:
        return "sigmoid" if self.multi_label else "softmax"

    @property
    def loss(self) -> str:
        return "binary_crossentropy" if self.multi_label else "categorical_crossentropy"


TASKS: dict[str, Task] = {
    "mtat": Task("mtat", 9, 59049, 50, True, 0.5, -1.650025e-4, 0.1551194, "roc_auc", 29.0),
    "speech-commands": Task("speech-commands", 8, 22050, 35, False, 0.5, -8.520474e-5, 0.18, "accuracy", 1.0),
    "dcase2017": Task("dcase2017", 8, 22050, 17, True, 0.1, -3.320680e-4, 0.2051463, "instance_f1", 10.0),
    # Park 2018: 129 mel frames (65,536 samples) per example; no waveform standardisation (the mel front end
    # standardises its log-mel output with the authors' constants); num_classes = artists, from the store.
    "msd-artist": Task("msd-artist", 0, 65536, 2, False, 0.5, 0.0, 1.0, "accuracy", 30.0),
    # Park 2018's genre targets (transfer evaluation; training on them is classification over 129-frame crops)
    "gtzan": Task("gtzan", 0, 65536, 10, False, 0.5, 0.0, 1.0, "accuracy", 30.0),
    "fma-small": Task("fma-small", 0, 65536, 8, False, 0.5, 0.0, 1.0, "accuracy", 30.0),
    # Park 2018's tag model: the artist songs with their (top-50 Last.fm) tags, sigmoid + binary cross-entropy
    "msd-tags": Task("msd-tags", 0, 65536, 50, True, 0.5, 0.0, 1.0, "roc_auc", 30.0),
}

_ALIASES = {"mini-mtat": "mtat", "mini-speech-commands": "speech-commands", "mini-dcase": "dcase2017",
            "mini-artists": "msd-artist", "mini-artists-genres": "gtzan",
            "mini-artists-tags": "msd-tags", "mtt": "mtat", "scd": "speech-commands", "dcs": "dcase2017"}


def task_for(dataset: str, num_classes: int | None = None) -> Task:
    """The task a dataset (or its synthetic proxy) belongs to; ``num_classes`` overrides the class count."""
    key = _ALIASES.get(dataset, dataset)
    if key not in TASKS:
        raise UnknownNameError(f"no task for dataset '{dataset}'; known: {sorted(TASKS) + sorted(_ALIASES)}")
    task = TASKS[key]
    if num_classes is not None and num_classes != task.num_classes:
        task = dataclasses.replace(task, num_classes=num_classes)
    return task
