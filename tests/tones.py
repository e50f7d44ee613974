"""The tone store's dataset (``tests/conftest.py``'s ``tone_store``): two tones in noise, 3,000-sample clips.

It is added to the dataset table the way any new dataset is, with one :data:`sampleaudio.tasks.TASKS` entry and no
model size (the tests give their segment and depth), instead of pretending to be Speech Commands. Processes the
tests start (``sampleaudio train`` in a subprocess) register it with :data:`CLI`.
"""

from __future__ import annotations

import os

from sampleaudio.tasks import TASKS, Task

TONES = Task("tones", num_classes=2, multi_label=False, threshold=0.5, metric="accuracy", clip_seconds=3000 / 22050)

#: ``python -c`` program: the `sampleaudio` command line with the tone dataset in the table
CLI = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); import tones; "
       "tones.register(); from sampleaudio.cli import main; sys.exit(main(sys.argv[1:]))")


def register() -> None:
    """Add :data:`TONES` to the dataset table (idempotent)."""
    TASKS.setdefault(TONES.name, TONES)
