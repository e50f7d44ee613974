"""Choi, Lee, Park, Nam (ISMIR 2019) experiments: the zero-shot audio-word co-embedding trained with word vectors
and, as a control, with random vectors of the same size (130-frame crops, 1 negative tag, margin 0.4), and how the
demo and smoke profiles shrink it."""

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

__all__ = ["ZeroShotProfile", "PROFILES", "describe", "configs"]


@dataclasses.dataclass(frozen=True)
class ZeroShotProfile:
    synthetic: bool
    size: str
    word_vectors: str
    optimizer: str
    lr: float
    batch_size: int
    num_stages: int
    max_epochs_per_stage: int
    patience: int
    steps_per_epoch: int | None
    max_eval_segments: int | None = None


PROFILES = {
    # the authors' train.py: SGD lr 0.001 (Nesterov 0.9, decay 1e-6), batch 64, plateau factor 0.2 / patience 5
    # (here: stages of patience 5 with lr x 0.2 between them), early stopping 20 (here: at most 6 stages).
    "paper": ZeroShotProfile(False, "default", "", "sgd", 0.001, 64, 6, 100, 5, None),
    # mini-mtat (1,198 clips, 37 tags; 8.1 s each, so 2 crops of 130 frames): Adam at 1e-3 for a budget of a few
    # minutes (the authors' SGD 0.001 trains for hours); at most 30 epochs of one example per AB-train track, an
    # epoch ~5 s on a busy 2-core machine; the table and its wall time are in docs/papers/choi2019.md.
    "demo": ZeroShotProfile(True, "default", "glove-6b-50d", "adam", 0.001, 64, 1, 30, 6, None),
    "smoke": ZeroShotProfile(True, "small", "glove-6b-50d", "adam", 0.001, 16, 1, 1, 1, 2, 1),
}


def describe(name: str, word_vectors: str) -> str:
    p = PROFILES[name]
    if not p.synthetic:
        return (f"paper profile: store from --data-root, word vectors {word_vectors} vs a random vector per tag of "
                "the same size, SGD lr 0.001 (Nesterov 0.9, "
                "time decay 1e-6), batch 64, 130-frame crops, 1 negative, margin 0.4; the authors' plateau schedule "
                "as up to 6 stages of patience 5 (lr x 0.2)")
    return (f"{name} profile: SYNTHETIC proxy mini-mtat ({p.size} size), NOT comparable to published numbers; word "
            f"vectors {word_vectors} (GloVe 6B 50-d, the paper used 300-d) vs random:50 (one random vector per tag, "
            f"the authors' control); {p.optimizer} lr {p.lr} "
            f"instead of SGD 0.001, batch {p.batch_size}, up to {p.max_epochs_per_stage} epoch(s)"
            + (f" of {p.steps_per_epoch} steps" if p.steps_per_epoch else " of one example per AB-train track")
            + "; otherwise the authors' model, sampling and metrics (130-frame crops, 1 negative, margin 0.4)")


def configs(profile: str, data_dir: str, seed: int, word_vectors: str, split_seed: int) -> list[tuple[dict,
                                                                                                      ExperimentConfig]]:
    from sampleaudio.families.zeroshot.model import CHOI2019_FRAMES
    from sampleaudio.layers.filterbanks import crop_samples
    from sampleaudio.wordvectors import vector_dim

    p = PROFILES[profile]
    dim = vector_dim(word_vectors)
    out = []
    for key, vectors in (("word vectors", word_vectors), ("random control", f"random:{dim}")):
        slug = "glove" if key == "word vectors" else "random"
        out.append(({"vectors": key, "source": vectors}, ExperimentConfig(
            name=f"choi2019-{slug}-{profile}-seed{seed}",
            data=DataConfig(data_dir=os.path.abspath(data_dir), segment=crop_samples(CHOI2019_FRAMES),
                            batch_size=p.batch_size, standardize="none", max_eval_segments=p.max_eval_segments),
            model=model_params("choi2019_audio"),
            objective=objective_params("coembedding", num_negatives=1, margin=0.4, word_vectors=vectors,
                                       split_seed=split_seed),
            train=TrainConfig(optimizer=p.optimizer, lr=p.lr, momentum=0.9, lr_decay=0.2, num_stages=p.num_stages,
                              patience=p.patience, time_decay=1e-6 if p.optimizer == "sgd" else 0.0,
                              max_epochs_per_stage=p.max_epochs_per_stage, steps_per_epoch=p.steps_per_epoch,
                              seed=seed),
            eval=EvalConfig(), notes=describe(profile, word_vectors))))
    return out
