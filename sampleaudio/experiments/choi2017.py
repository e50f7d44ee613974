"""Choi, Fazekas, Sandler, Cho (ISMIR 2017) experiments: the source convnet trained on tags (``choi2017_convnet``),
whose layers are then transferred (:mod:`sampleaudio.transfer`, ``reproductions/choi2017_transfer.py``), and the
targets and evaluation protocol of each profile.

Training: the public code compiles the convnet with ``Adam(lr=5e-3)`` and binary cross-entropy
(``models_transfer.build_convnet_model``); the rest of the source training (batch, epochs, stopping) is not in
it, so the paper profile takes a batch of 16 and early stopping after 5 epochs without improvement, as stated in
:func:`describe`. Inputs are 29 s at 12 kHz (a tag store resampled to 12 kHz; a 22,050 Hz store is refused, as
the front end would be another).
"""

from __future__ import annotations

import dataclasses
import os

from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, TrainConfig, model_params
from sampleaudio.errors import ParameterError

__all__ = ["SourceProfile", "PROFILES", "PAPER_TARGETS", "DEMO_TARGETS", "describe", "source_config",
           "source_store"]

#: the rate of the convnet (``easy_feature_extraction.py``: ``SR = 12000``)
RATE = 12000
#: target store -> the dataset's name in published_results.csv
PAPER_TARGETS = {"gtzan": "GTZAN", "ballroom": "Ballroom extended", "urbansound8k": "UrbanSound8K"}
#: demo target -> the task its proxy stands for
DEMO_TARGETS = {"mini-speech-commands": "speech-commands", "mini-dcase": "dcase2017"}


@dataclasses.dataclass(frozen=True)
class SourceProfile:
    synthetic: bool
    lr: float
    batch: int
    max_epochs: int
    patience: int
    steps_per_epoch: int | None
    max_train: int | None  # target clips used for the held-out SVM's training (None: all)
    bn_momentum: float | None = None


PROFILES = {
    "paper": SourceProfile(False, 5e-3, 16, 100, 5, None, None),
    # 4 epochs of 25 steps of batch 16 on mini-mtat at 12 kHz (its 8 s clips tiled to 29 s); batch-norm momentum
    # 0.9 so that 100 steps move the statistics used at evaluation
    "demo": SourceProfile(True, 5e-3, 16, 4, 4, 25, 700, bn_momentum=0.9),
    "smoke": SourceProfile(True, 5e-3, 2, 1, 1, 2, None, bn_momentum=0.9),
}


def describe(profile: str) -> str:
    p = PROFILES[profile]
    train = (f"Adam lr {p.lr:g} (the public code's), binary cross-entropy, batch {p.batch}, at most {p.max_epochs} "
             f"epochs" + (f" of {p.steps_per_epoch} steps" if p.steps_per_epoch else "")
             + f", ending after {p.patience} without improvement (batch and stopping: not in the public code)")
    if not p.synthetic:
        return (f"paper profile: the source convnet on a 12 kHz tag store, {train}; targets GTZAN, Extended "
                "Ballroom, UrbanSound8K")
    return (f"{profile} profile: SYNTHETIC proxies, NOT comparable to published numbers; the source convnet trained "
            f"on mini-mtat resampled to 12 kHz (8 s clips tiled to 29 s), {train}"
            + (f", batch-norm momentum {p.bn_momentum}" if p.bn_momentum is not None else ""))


def source_store(profile: str, data_dir: str) -> str:
    """The tag store the convnet trains on: a real one must be at 12 kHz; a proxy is resampled once."""
    from sampleaudio.stores import read_manifest

    if profile == "paper":
        rate = read_manifest(data_dir).sample_rate
        if rate != RATE:
            raise ParameterError(f"store '{data_dir}' is at {rate} Hz: Choi 2017's convnet runs at 12 kHz; convert "
                                 "the tag dataset at 12 kHz (e.g. sampleaudio.data_prep.mtat.convert(SRC, OUT, "
                                 "sample_rate=12000))")
        return data_dir
    from sampleaudio.experiments.resample import store_at_rate

    return store_at_rate(data_dir, RATE)


def source_config(profile: str, data_dir: str, seed: int = 0) -> ExperimentConfig:
    """The run that trains the source convnet on ``data_dir``'s tags."""
    p = PROFILES[profile]
    return ExperimentConfig(
        name=f"choi2017-convnet-{profile}" + (f"-seed{seed}" if seed else ""),
        data=DataConfig(data_dir=os.path.abspath(data_dir), batch_size=p.batch, standardize="none",
                        train_examples="random_crop", epoch="clips",
                        max_valid_segments=1 if p.synthetic else None),
        model=model_params("choi2017_convnet", bn_momentum=p.bn_momentum),
        train=TrainConfig(optimizer="adam", lr=p.lr, num_stages=1, max_epochs_per_stage=p.max_epochs,
                          patience=p.patience, time_decay=0.0, steps_per_epoch=p.steps_per_epoch, seed=seed),
        eval=EvalConfig(), notes=describe(profile))
