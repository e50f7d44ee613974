"""Lee, Park, Kim, Nam (SMC 2017): SampleCNN 3^9 on MTAT as ``jongpillee/sampleCNN`` ran it (the ``smc2017``
protocol of :data:`sampleaudio.experiments.kim2019.PROTOCOLS`: the lee2017 model, He uniform on every conv, raw
waveform input, Keras 1 early stopping)."""

from __future__ import annotations

from sampleaudio.config import ExperimentConfig
from sampleaudio.experiments.kim2019 import experiment

__all__ = ["config"]


def config(profile: str, data_dir: str, seed: int = 0) -> ExperimentConfig:
    """The one run of the SMC 2017 table under ``profile``."""
    cfg = experiment("mtat", profile, data_dir, seed=seed, protocol="smc2017")
    cfg.name = f"mtat-lee2017-{profile}"
    return cfg
