"""Named experiments, one module per paper; the reproduction scripts pick, run and tabulate them.

- :mod:`~sampleaudio.experiments.kim2019`: the paper / demo / smoke profiles and the original code bases' protocols
  (re-exported here), the block table, Fig. 4 and the figure analyses' runs;
- :mod:`~sampleaudio.experiments.lee2017`: SampleCNN 3^9 (SMC 2017);
- :mod:`~sampleaudio.experiments.park2018`: the artist basic / Siamese / tag models;
- :mod:`~sampleaudio.experiments.choi2019`: the zero-shot co-embedding, word vectors vs a random control;
- :mod:`~sampleaudio.experiments.won2020`: the SMC 2020 tagging models side by side.

Each module's profiles say how its family shrinks from the paper's protocol for the synthetic ``demo`` and
``smoke`` runs. :func:`~sampleaudio.experiments.runner.run_experiments` trains a list of them.
"""

from sampleaudio.experiments.kim2019 import (
    PROFILES,
    PROTOCOLS,
    TASK_DATASETS,
    Profile,
    data_dir_for,
    experiment,
    profile_description,
    protocol_description,
)
from sampleaudio.experiments.runner import run_experiments

__all__ = ["PROFILES", "Profile", "profile_description", "data_dir_for", "experiment", "TASK_DATASETS",
           "PROTOCOLS", "protocol_description", "run_experiments"]
