"""Park, Lee, Park, Ha, Nam (ISMIR 2018) experiments: the artist basic model (softmax over artists), the artist
Siamese model (anchor, positive, 4 negatives; max-margin 0.4) and the tag model (sigmoid over the songs' tags), and
how the demo and smoke profiles shrink them.

As the authors' code (``jongpillee/ismir2018-artist``) trains them: SGD lr 0.1, Nesterov 0.9, Keras 2 time decay
1e-6, batch 15; every model sees one random 129-frame crop per training song per epoch (``train_generator_basic``
and ``train_generator_siamese``; Siamese: each song an anchor once) and is validated on one random crop (and, for
the Siamese model, one random positive and 4 negatives) per validation song, drawn once for the whole run.

Schedules (``SCHEDULES``): ``release`` (the paper profile's) is the one that produced the released Siamese model:
its stored optimizer is ``SGD(lr = 2.56e-7 = 0.1 x 0.2^8, decay 1e-6)`` after 521,318 iterations, i.e. one
optimizer whose rate ``ReduceLROnPlateau(factor=0.2, patience=1)`` (the public ``train.py``'s commented callback,
Keras 2.1) cut eight times, with no restart and a floor at or below 2.56e-7 (the script's ``min_lr=1.6e-5`` would
have stopped it at 1.6e-5; here Keras' default 0), ended by the commented ``EarlyStopping(patience=6)``;
521,318 = 46 x 11,333 epochs of ``int(songs / 15)`` steps. ``public`` is the public ``train.py`` as committed: 1,000
epochs at lr 0.1 with time decay only (its released basic-model checkpoints are epochs 889 and 999).
"""

from __future__ import annotations

import dataclasses
import os

from sampleaudio.config import (
    DataConfig,
    EvalConfig,
    ExperimentConfig,
    TrainConfig,
    model_params,
    objective_params,
)
from sampleaudio.errors import ParameterError

__all__ = ["ParkProfile", "PROFILES", "SCHEDULES", "describe", "configs", "schedule_fields"]


@dataclasses.dataclass(frozen=True)
class ParkProfile:
    synthetic: bool
    size: str
    lr: float
    max_epochs: int
    patience: int  # epochs without improvement that end the run
    steps_per_epoch: int | None
    segments: int  # 129-frame segments per song for the song feature
    trials: int  # linear softmax trials
    bn_momentum: float | None = None


PROFILES = {
    "paper": ParkProfile(False, "default", 0.1, 1000, 6, None, 10, 10),
    # 24 steps an epoch (360 training songs, batch 15), the paper's lr and plateau rule; at most 20 epochs,
    # ending after 4 without improvement; batch-norm momentum 0.9 so that evaluation statistics are not still
    # dominated by their initial values after a few hundred steps.
    "demo": ParkProfile(True, "default", 0.1, 20, 4, None, 2, 10, bn_momentum=0.9),
    "smoke": ParkProfile(True, "small", 0.05, 1, 1, 2, 1, 2, bn_momentum=0.9),
}

#: name -> what it is; the fields of each are :func:`schedule_fields`'
SCHEDULES = {
    "release": "the plateau schedule that produced the released Siamese model",
    "public": "the public train.py as committed: a fixed number of epochs, time decay only",
}


def schedule_fields(profile: str, schedule: str = "release") -> dict:
    """The :class:`~sampleaudio.config.TrainConfig` fields of ``schedule`` under ``profile``."""
    p = PROFILES[profile]
    # the basic and tag models' cross-entropy is Keras 2's (probabilities clipped) in the paper profile; the demos
    # keep the unclipped one their published figures were measured with
    common = {"optimizer": "sgd", "lr": p.lr, "momentum": 0.9, "time_decay": 1e-6,
              "loss": "keras" if p.synthetic else "clipped"}
    if schedule == "public":  # fit_generator(epochs=1000) with a checkpoint every 10 epochs and no callback else
        return {**common, "schedule": "staged", "num_stages": 1, "max_epochs_per_stage": p.max_epochs,
                "patience": p.max_epochs}
    if schedule != "release":
        raise ParameterError(f"schedule must be one of {', '.join(SCHEDULES)}. Received: {schedule!r}")
    return {**common, "schedule": "plateau", "lr_decay": 0.2, "plateau_patience": 1, "min_lr": 0.0,
            "max_epochs_per_stage": p.max_epochs, "patience": p.patience}


def describe(name: str, schedule: str = "release") -> str:
    """One line saying what the profile runs, derived from its configuration."""
    from sampleaudio.schedule import describe as describe_schedule

    p = PROFILES[name]
    train = describe_schedule(TrainConfig(**schedule_fields(name, schedule)))
    sampling = ("one random 129-frame crop per training song per epoch for every model (Siamese: each song an "
                "anchor once), validation on one random crop (and triplet) per validation song drawn once")
    loss = ("basic and tag models: Keras 2's clipped cross-entropy" if not p.synthetic else
            "basic and tag models: Keras 3's unclipped cross-entropy instead of the authors' clipped one")
    if not p.synthetic:
        return (f"paper profile: real stores; {schedule} schedule: {train}; batch 15; {loss}; {sampling}; song "
                f"feature over 10 segments of 129 frames; {p.trials} linear-classifier trials")
    return (f"{name} profile: SYNTHETIC proxies mini-artists and mini-artists-tags -> mini-artists-genres "
            f"({p.size} size), NOT comparable to published numbers; {schedule} schedule shrunk: {train}"
            + (f", {p.steps_per_epoch} steps per epoch" if p.steps_per_epoch else "")
            + f"; batch 15; {loss}; {sampling}; {p.segments} segment(s) of 129 frames per song instead of 10 (the "
              "proxy's songs are shorter)"
            + (f", batch-norm momentum {p.bn_momentum}" if p.bn_momentum is not None else "")
            + f", {p.trials} linear-classifier trials")


def configs(profile: str, source: str, seed: int, tags: str | None = None, *,
            schedule: str = "release") -> list[tuple[dict, ExperimentConfig]]:
    """The runs: artist basic and Siamese on ``source``, and the tag model on ``tags`` when given."""
    from sampleaudio.families.artist_cnn.model import crop_samples

    p = PROFILES[profile]
    out = []
    runs = [("basic", "classification", source), ("siamese", "siamese", source)]
    runs += [("tag", "classification", tags)] if tags else []
    suffix = "" if schedule == "release" else f"-{schedule}"
    for model, objective, data_dir in runs:
        out.append(({"model": model}, ExperimentConfig(
            name=f"park2018-{model}-{profile}{suffix}",
            data=DataConfig(data_dir=os.path.abspath(data_dir), segment=crop_samples(), batch_size=15,
                            standardize="paper", train_examples="random_crop", epoch="clips",
                            valid_examples="random_crop", max_eval_segments=p.segments),
            model=model_params("artist_cnn", bn_momentum=p.bn_momentum),
            objective=objective_params(objective, **({"num_negatives": 4, "margin": 0.4, "anchors": "each"}
                                                     if objective == "siamese" else {})),
            train=TrainConfig(**schedule_fields(profile, schedule), steps_per_epoch=p.steps_per_epoch, seed=seed),
            eval=EvalConfig(), notes=describe(profile, schedule))))
    return out
