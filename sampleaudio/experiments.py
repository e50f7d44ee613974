"""Named experiment profiles for the reproduction scripts (tensorflow/models' ``exp_factory`` idea).

- ``paper``: the real datasets (converted with ``sampleaudio prep`` under ``--data-root``), the full protocol of
  Kim, Lee, Nam (2019): width 128, SGD lr 0.01 / 5 over 5 stages, patience 2, mixed precision on a GPU.
- ``demo``: the embedded synthetic benchmark on a 2-core CPU within about 30 minutes for the whole Kim 2019
  table, every model clearly above chance. It departs from the protocol (Adam with a cosine schedule, batch
  46, a few hundred steps); :func:`profile_description` states exactly how, and the tables print it.
- ``smoke``: the small synthetic sets and a few steps, to check the machinery in a minute or two.
"""

from __future__ import annotations

import dataclasses
import os

from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, ModelConfig, TrainConfig

__all__ = ["PROFILES", "Profile", "profile_description", "data_dir_for", "experiment", "TASK_DATASETS"]

#: task -> (real dataset name under --data-root, synthetic proxy)
TASK_DATASETS = {"mtat": ("mtat", "mini-mtat"), "speech-commands": ("speech-commands", "mini-speech-commands"),
                 "dcase2017": ("dcase2017", "mini-dcase")}


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    synthetic: bool
    size: str  # synthetic set size
    init_features: int
    lr: float
    num_stages: int
    max_epochs_per_stage: int
    patience: int
    steps_per_epoch: dict | None  # task -> steps; None: one pass over the training segments
    mixed_precision: str
    max_eval_segments: int | None = None
    max_valid_segments: int | None = None
    bn_momentum: float | None = None  # None: the architecture's (0.99)
    optimizer: str = "sgd"
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    time_decay: float = 1e-6
    batch_size: int = 23


PROFILES = {
    "paper": Profile("paper", False, "default", 128, 0.01, 5, 100, 2, None, "float16"),
    # 36 runs of 35-50 s each on 2 cores (measured, see README). SGD at lr 0.05 for 50-120 steps left every
    # cell near chance; Adam with a short warm-up and a cosine decay to 0 at the last step reaches the targets
    # of issue #18 in 165-330 steps (learning curves measured per task, SE and basic blocks). Batch 46: on 2
    # cores a batch of 23 often runs on one core (36-63 ms a step) while 46 keeps both busy (63-89 ms), so a
    # sample costs about 1.4x less. One stage: a second costs a retrace (~7 s a run). Three epochs: each costs
    # ~1-2 s besides its steps (validation, checkpoint). Batch-norm momentum 0.9: with 0.99, after a few
    # hundred steps the statistics used at evaluation still weigh their initial values.
    "demo": Profile("demo", True, "default", 16, 0.003, 1, 3, 100,
                    {"mtat": 55, "speech-commands": 100, "dcase2017": 110}, "off", max_valid_segments=1,
                    bn_momentum=0.9, optimizer="adam", lr_schedule="cosine", warmup_steps=20, time_decay=0.0,
                    batch_size=46),
    "smoke": Profile("smoke", True, "small", 8, 0.003, 1, 2, 2, {"mtat": 2, "speech-commands": 3, "dcase2017": 3},
                     "off", max_eval_segments=2, max_valid_segments=1, optimizer="adam", lr_schedule="cosine",
                     warmup_steps=1, time_decay=0.0),
}


def profile_description(name: str) -> str:
    """One line saying how a profile departs from the paper's protocol."""
    p = PROFILES[name]
    if name == "paper":
        return ("paper profile: real datasets, width 128, SGD (Nesterov 0.9) lr 0.01 divided by 5 over 5 stages, "
                "patience 2, batch 23, float16 mixed precision")
    steps = ", ".join(f"{k} {v}" for k, v in (p.steps_per_epoch or {}).items())
    paper = PROFILES["paper"]
    if p.optimizer == "adam":
        optimizer = (f"Adam lr {p.lr}" + (f" with {p.warmup_steps} warm-up steps and cosine decay to 0 at the "
                                           "stage's last step" if p.lr_schedule == "cosine" else "")
                     + f" instead of SGD (Nesterov 0.9) lr {paper.lr}")
    else:
        optimizer = f"SGD (Nesterov 0.9) lr {p.lr} instead of {paper.lr}"
    stop = (f"each stage ends after {p.max_epochs_per_stage} epochs (the best validation-loss epoch is kept)"
            if p.patience >= p.max_epochs_per_stage else f"patience {p.patience}")
    return (f"{name} profile: SYNTHETIC proxies ({p.size} size), NOT comparable to published numbers; shrunk "
            f"from the paper: width {p.init_features} instead of {paper.init_features}, {optimizer}, "
            f"{p.num_stages} stage(s) of at most {p.max_epochs_per_stage} epochs instead of up to "
            f"{paper.num_stages} stages of up to {paper.max_epochs_per_stage} epochs, "
            f"steps per epoch {steps} instead of a full pass, batch {p.batch_size}"
            + (f" instead of {paper.batch_size}" if p.batch_size != paper.batch_size else "")
            + ", training on one random crop per clip and step"
            + (f", validation on {p.max_valid_segments} segment(s) per clip" if p.max_valid_segments else "")
            + (f", test on {p.max_eval_segments} segment(s) per clip" if p.max_eval_segments else "")
            + (f", batch-norm momentum {p.bn_momentum} instead of 0.99" if p.bn_momentum is not None else "")
            + f"; {stop}")


def data_dir_for(task: str, profile: str, data_root: str | None = None, workers: int = 2) -> str:
    """The store a task uses under a profile; synthetic proxies are generated on first use."""
    real, proxy = TASK_DATASETS[task]
    p = PROFILES[profile]
    if p.synthetic:
        from data_prep.synthetic import ensure

        return ensure(proxy, size=p.size, seed=0, root=data_root, workers=workers)
    if not data_root:
        raise ValueError("the paper profile needs --data-root holding stores made by `sampleaudio prep` "
                         f"({', '.join(r for r, _ in TASK_DATASETS.values())})")
    return os.path.join(data_root, real)


def experiment(task: str, profile: str, data_dir: str, *, seed: int = 0, **model) -> ExperimentConfig:
    """The configuration of one run: ``model`` holds :class:`ModelConfig` fields (block, multi, ...)."""
    p = PROFILES[profile]
    mcfg = ModelConfig(init_features=p.init_features, bn_momentum=p.bn_momentum, **model)
    steps = p.steps_per_epoch.get(task) if p.steps_per_epoch else None
    return ExperimentConfig(
        name=f"{task}-{mcfg.signature}-{profile}",
        data=DataConfig(data_dir=os.path.abspath(data_dir), batch_size=p.batch_size,
                        max_eval_segments=p.max_eval_segments, max_valid_segments=p.max_valid_segments),
        model=mcfg,
        train=TrainConfig(optimizer=p.optimizer, lr=p.lr, num_stages=p.num_stages,
                          max_epochs_per_stage=p.max_epochs_per_stage, patience=p.patience, steps_per_epoch=steps,
                          mixed_precision=p.mixed_precision, seed=seed, lr_schedule=p.lr_schedule,
                          warmup_steps=p.warmup_steps, time_decay=p.time_decay),
        eval=EvalConfig(),
        notes=profile_description(profile))
