"""Park, Lee, Park, Ha, Nam (ISMIR 2018) experiments: the artist basic model (softmax over artists), the artist
Siamese model (anchor, positive, 4 negatives; max-margin 0.4) and the tag model (sigmoid over the songs' tags), all
with the paper's SGD (lr 0.1, Nesterov 0.9, time decay 1e-6, batch 15, plateau factor 0.2), and how the demo and
smoke profiles shrink them."""

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

__all__ = ["ParkProfile", "PROFILES", "describe", "configs"]


@dataclasses.dataclass(frozen=True)
class ParkProfile:
    synthetic: bool
    size: str
    lr: float
    num_stages: int
    max_epochs_per_stage: int
    patience: int
    steps_per_epoch: int | None
    segments: int  # 129-frame segments per song for the song feature
    trials: int  # linear softmax trials
    bn_momentum: float | None = None
    max_valid_segments: int | None = None


PROFILES = {
    "paper": ParkProfile(False, "default", 0.1, 5, 100, 3, None, 10, 10),
    # 24 steps an epoch (360 training songs, batch 15), the paper's lr; one stage of up to 20 epochs (the
    # Siamese model's validation loss still fell after 8); batch-norm momentum 0.9 so that evaluation statistics
    # are not still dominated by their initial values after a few hundred steps.
    "demo": ParkProfile(True, "default", 0.1, 1, 20, 4, None, 2, 10, bn_momentum=0.9, max_valid_segments=1),
    "smoke": ParkProfile(True, "small", 0.05, 1, 1, 1, 2, 1, 2, bn_momentum=0.9, max_valid_segments=1),
}


def describe(name: str) -> str:
    p = PROFILES[name]
    if not p.synthetic:
        return ("paper profile: real stores, SGD lr 0.1 (Nesterov 0.9, time decay 1e-6), batch 15, up to 5 stages "
                "(factor 0.2), 10 segments of 129 frames per song, 10 linear-classifier trials")
    return (f"{name} profile: SYNTHETIC proxies mini-artists and mini-artists-tags -> mini-artists-genres ({p.size} size), NOT "
            f"comparable to published numbers; lr {p.lr}" + (" instead of 0.1" if p.lr != 0.1 else " as the paper")
            + f"; shrunk from the paper: {p.num_stages} "
            f"stage(s) of at most {p.max_epochs_per_stage} epochs"
            + (f", {p.steps_per_epoch} steps per epoch" if p.steps_per_epoch else ", one anchor per training song "
               "per epoch")
            + f", {p.segments} segment(s) of 129 frames per song instead of 10 (the proxy's songs are shorter)"
            + (f", batch-norm momentum {p.bn_momentum}" if p.bn_momentum is not None else "")
            + f", {p.trials} linear-classifier trials")


def configs(profile: str, source: str, seed: int, tags: str | None = None) -> list[tuple[dict, ExperimentConfig]]:
    """The runs: artist basic and Siamese on ``source``, and the tag model on ``tags`` when given."""
    from sampleaudio.families.artist_cnn.model import crop_samples

    p = PROFILES[profile]
    out = []
    runs = [("basic", "classification", source), ("siamese", "siamese", source)]
    runs += [("tag", "classification", tags)] if tags else []
    for model, objective, data_dir in runs:
        out.append(({"model": model}, ExperimentConfig(
            name=f"park2018-{model}-{profile}",
            data=DataConfig(data_dir=os.path.abspath(data_dir), segment=crop_samples(), batch_size=15,
                            standardize="paper", max_valid_segments=p.max_valid_segments,
                            max_eval_segments=p.segments),
            model=model_params("artist_cnn", bn_momentum=p.bn_momentum),
            objective=objective_params(objective, **({"num_negatives": 4, "margin": 0.4}
                                                     if objective == "siamese" else {})),
            train=TrainConfig(lr=p.lr, momentum=0.9, lr_decay=0.2, num_stages=p.num_stages, patience=p.patience,
                              time_decay=1e-6, max_epochs_per_stage=p.max_epochs_per_stage,
                              steps_per_epoch=p.steps_per_epoch, seed=seed),
            eval=EvalConfig(), notes=describe(profile))))
    return out
