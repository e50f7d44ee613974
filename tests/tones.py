"""The tone store's dataset (``tests/conftest.py``'s ``tone_store``): two tones in noise, 3,000-sample clips.

It is declared the way any new dataset is, with a :class:`~sampleaudio.stores.DatasetInfo` holding its task and
no model size (the tests give their segment and depth), instead of pretending to be Speech Commands. The store
records the declaration, so every process that opens it (``sampleaudio train`` in a subprocess included) knows
the task without any table entry.
"""

from __future__ import annotations

from sampleaudio.stores import DatasetInfo, Task

TONES = Task("tones", num_classes=2, multi_label=False, threshold=0.5, metric="accuracy", clip_seconds=3000 / 22050)
INFO = DatasetInfo(TONES.name, TONES, description="two tones in noise, 3,000-sample clips (tests)")

#: ``python -c`` program: the `sampleaudio` command line, as the tests' subprocesses run it
CLI = "import sys; from sampleaudio.cli import main; sys.exit(main(sys.argv[1:]))"
