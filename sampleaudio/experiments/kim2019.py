"""Kim, Lee, Nam (IEEE JSTSP 2019) experiments: the profiles, the original code bases' protocols and the named runs
of the block table, Fig. 4 and the figure analyses (tensorflow/models' ``exp_factory`` idea).

- ``paper``: the real datasets (converted with ``sampleaudio prep`` under ``--data-root``), the full protocol of
  Kim, Lee, Nam (2019) as their code ran it: width 128, fixed segments once per epoch (segments / batch steps,
  shuffle buffer 10,000), the clipped cross-entropy, SGD lr 0.01 / 5 over 5 stages, patience 2, mixed precision
  where it pays (``auto``: float16 on a GPU, bfloat16 on a CPU with bfloat16 dot products). :data:`PROTOCOLS` holds the ICASSP 2018 and SMC 2017 code's departures from it.
- ``demo``: the embedded synthetic benchmark on a 2-core CPU within about 30 minutes for the whole Kim 2019
  table, every model clearly above chance. It departs from the protocol (Adam with a cosine schedule, batch
  46, a few hundred steps); :func:`profile_description` states exactly how, and the tables print it.
- ``smoke``: the small synthetic sets and a few steps, to check the machinery in a minute or two.
"""

from __future__ import annotations

import dataclasses
import os

from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, TrainConfig
from sampleaudio.data_prep import task_for
from sampleaudio.errors import ParameterError
from sampleaudio.families import model_params, parameter_names, signature
from sampleaudio.families.samplecnn.params import KIM2019_SIZES

__all__ = ["PROFILES", "Profile", "profile_description", "data_dir_for", "experiment", "TASK_DATASETS",
           "PROTOCOLS", "protocol_description", "BLOCKS", "BASELINES", "table_configs", "FIG4_SIZES", "fig4_configs",
           "figure_configs"]

#: Kim 2019's tasks -> (real dataset name under --data-root, synthetic proxy), from the datasets' declarations
TASK_DATASETS = {name: (name, task_for(name).proxy) for name in KIM2019_SIZES}


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
    train_examples: str = "fixed"  # the papers' fixed segments; "random_crop" is an augmentation
    loss: str = "keras"  # "clipped": the original's cross-entropy (sampleaudio.clipped_losses)
    shuffle_buffer: int | None = None  # None: DataConfig's default
    threads: int = 0  # TrainConfig.threads: 0 = TensorFlow's default; 1 = one thread per run, one run per core


PROFILES = {
    # the authors' protocol unchanged: fixed segments, segment-level shuffle buffer 10,000 (lib/data/batch.py),
    # one pass per epoch, the clipped cross-entropy of TF 1.10 Keras
    "paper": Profile("paper", False, "default", 128, 0.01, 5, 100, 2, None, "auto", train_examples="fixed",
                     loss="clipped", shuffle_buffer=10000),
    # 36 runs on 2 cores (measured, see docs/papers/kim2019.md). SGD at lr 0.05 for 50-120 steps left
    # every cell near chance;
    # Adam with a short warm-up and a cosine decay to 0 at the last step reaches the demo's learning bar (every cell at least halfway from chance to the MFCC baseline). The
    # steps are what the slowest learners need: the two-conv blocks (res2, rese2) without multi-level features
    # reached MTAT ROC-AUC 0.66 after 165 steps, 0.75 after 240 and 0.81 after 330, Speech-Commands accuracy
    # 0.26 after 300 steps and 0.42 after 390 (one run each, seed 0). Over three draws (two seeds, two dropout
    # streams) Res-2 without multi-level features then scored MTAT 0.702-0.727 and Speech Commands 0.301-0.437
    # against bars of 0.710 and 0.306, so MTAT and Speech Commands train 10 % longer (264, 430). Batch 46: on 2
    # cores a batch of 23 often runs on one core (36-63 ms a step) while 46 keeps both busy (63-89 ms), so a sample costs about 1.4x
    # less. One stage of one epoch: a second stage costs a retrace (~7 s a run) and each epoch ~1-2 s besides
    # its steps (validation, checkpoint), and with the cosine decay the last step's weights are the ones to
    # keep. Batch-norm momentum 0.9: with 0.99, after a few hundred steps the statistics used at evaluation
    # still weigh their initial values. Random crops: the curves were measured with them, and a proxy clip
    # (3 MTAT segments) gives more distinct examples so.
    "demo": Profile("demo", True, "default", 16, 0.003, 1, 1, 100,
                    {"mtat": 264, "speech-commands": 430, "dcase2017": 390}, "auto", max_valid_segments=1,
                    bn_momentum=0.9, optimizer="adam", lr_schedule="cosine", warmup_steps=20, time_decay=0.0,
                    batch_size=46, train_examples="random_crop", threads=1),
    "smoke": Profile("smoke", True, "small", 8, 0.003, 1, 2, 2, {"mtat": 2, "speech-commands": 3, "dcase2017": 3},
                     "off", max_eval_segments=2, max_valid_segments=1, optimizer="adam", lr_schedule="cosine",
                     warmup_steps=1, time_decay=0.0, train_examples="random_crop"),
}


def profile_description(name: str) -> str:
    """One line saying how a profile departs from the paper's protocol."""
    p = PROFILES[name]
    if name == "paper":
        return ("paper profile: real datasets, width 128, SGD (Nesterov 0.9) lr 0.01 divided by 5 over 5 stages, "
                "patience 2, batch 23, mixed precision where it pays (float16 on a GPU, bfloat16 on a CPU with "
                "bfloat16 dot products)")
    steps = ", ".join(f"{k} {v}" for k, v in (p.steps_per_epoch or {}).items())
    paper = PROFILES["paper"]
    if p.optimizer == "adam":
        optimizer = (f"Adam lr {p.lr}" + (f" with {p.warmup_steps} warm-up steps and cosine decay to 0 at the "
                                           "stage's last step" if p.lr_schedule == "cosine" else "")
                     + f" instead of SGD (Nesterov 0.9) lr {paper.lr}")
    else:
        optimizer = f"SGD (Nesterov 0.9) lr {p.lr} instead of {paper.lr}"
    if p.max_epochs_per_stage == 1:
        stop = "one epoch per stage (its last weights are kept)"
    elif p.patience >= p.max_epochs_per_stage:
        stop = f"each stage ends after {p.max_epochs_per_stage} epochs (the best validation-loss epoch is kept)"
    else:
        stop = f"patience {p.patience}"
    return (f"{name} profile: SYNTHETIC proxies ({p.size} size), NOT comparable to published numbers; shrunk "
            f"from the paper: width {p.init_features} instead of {paper.init_features}, {optimizer}, "
            f"{p.num_stages} stage(s) of at most {p.max_epochs_per_stage} epoch(s) instead of up to "
            f"{paper.num_stages} stages of up to {paper.max_epochs_per_stage} epochs, "
            f"steps per epoch {steps} instead of a full pass, batch {p.batch_size}"
            + (f" instead of {paper.batch_size}" if p.batch_size != paper.batch_size else "")
            + (", training on one random crop per clip and step" if p.train_examples == "random_crop" else "")
            + (f", validation on {p.max_valid_segments} segment(s) per clip" if p.max_valid_segments else "")
            + (f", test on {p.max_eval_segments} segment(s) per clip" if p.max_eval_segments else "")
            + (f", batch-norm momentum {p.bn_momentum} instead of 0.99" if p.bn_momentum is not None else "")
            + {"auto": ", bfloat16 mixed precision on a CPU with bfloat16 dot products (float32 on one without)",
               "off": ", float32"}.get(p.mixed_precision, f", {p.mixed_precision} mixed precision")
            + (f", each run on {p.threads} TensorFlow thread(s) (numbers independent of the core count)"
               if p.threads else "")
            + f"; {stop}")


#: The three original code bases' protocols, as departures from the profile (which is the JSTSP one).
#: ``model``: model parameters; ``data``: DataConfig fields; ``paper_patience``: the paper profile's patience
#: in this package's semantics (a stage ends after that many epochs without improvement; Keras incremented its
#: counter before comparing only from keras-team/keras#8100, Oct 2017, so Keras 1.1 and 2.0.5 stopped one epoch
#: later than ``patience``); ``paper_max_epochs``: the epoch cap of a stage in the original's ``fit``.
PROTOCOLS = {
    # IEEE JSTSP 2019, tae-jun/sampleaudio (TF 1.10 tf.keras, EarlyStopping(patience=2): 2 epochs)
    "jstsp2019": {"model": {}, "data": {}, "paper_patience": 2, "paper_max_epochs": 100},
    # ICASSP 2018, tae-jun/resemul (Keras 2.0.5): SE amplifying ratio 16 (--alpha 16), he_uniform convs,
    # EarlyStopping(patience=2) with Keras 2.0.5's check-before-increment: 3 epochs without improvement; the raw
    # waveform (madmom's float32 in [-1, 1] written to the TFRecords unchanged: no mean/std anywhere), shuffled
    # in a queue of 16,000 segments (min_after_dequeue = 1,000 examples per shard x 16)
    "icassp2018": {"model": {"amplifying_ratio": 16.0, "initializer": "he_uniform"},
                   "data": {"standardize": "none", "shuffle_buffer": 16000}, "paper_patience": 3,
                   "paper_max_epochs": 100},
    # SMC 2017, jongpillee/sampleCNN (Keras 1.1 / Theano): he_uniform everywhere (the lee2017 architecture),
    # raw waveform input, EarlyStopping(patience=3) with Keras 1's semantics: 4 epochs without improvement
    # and nb_epoch=1000 per learning rate
    "smc2017": {"model": {"architecture": "lee2017"},  # basic blocks, no multi-level features: the lee2017 model
                "data": {"standardize": "none"}, "paper_patience": 4, "paper_max_epochs": 1000},
}


def protocol_description(config: ExperimentConfig) -> str:
    """One line stating the protocol a run configuration follows (printed in every table header)."""
    d, t, m = config.data, config.train, config.model
    if d.train_examples == "fixed":
        examples = "training examples: each clip's fixed non-overlapping segments, shuffled at segment level" + (
            " (the authors' examples)" if t.steps_per_epoch else ", each used once per epoch (the authors' protocol)")
    else:
        examples = "training examples: one RANDOM CROP per clip and pass (an augmentation, NOT the authors' protocol)"
    steps = ("a set number of steps per epoch (not one pass over the segments)" if t.steps_per_epoch
             else "steps per epoch = segments / batch (one pass)")
    loss = ("cross-entropy on probabilities clipped to [1e-7, 1-1e-7] (the original's TF 1.10 Keras loss)"
            if t.loss == "clipped" else "Keras 3 cross-entropy from logits (unclipped, unlike the original's)")
    init = "he_uniform" if m.architecture == "lee2017" else m.initializer
    std = {"manifest": "store's training mean/std", "paper": "the original's constants",
           "none": "none (raw waveform)"}[d.standardize]
    return (f"Protocol: {examples}; {steps}; {loss}; conv initialiser {init}; input standardisation {std}; "
            f"a stage ends after {t.patience} epochs without validation-loss improvement.")


def data_dir_for(task: str, profile: str, data_root: str | None = None, workers: int = 2) -> str:
    """The store a task uses under a profile; synthetic proxies are generated on first use."""
    real, proxy = TASK_DATASETS[task]
    p = PROFILES[profile]
    if p.synthetic:
        from sampleaudio.data_prep.synthetic import ensure

        return ensure(proxy, size=p.size, seed=0, root=data_root, workers=workers)
    if not data_root:
        raise ParameterError("the paper profile needs --data-root holding stores made by `sampleaudio prep` "
                         f"({', '.join(r for r, _ in TASK_DATASETS.values())})")
    return os.path.join(data_root, real)


def experiment(task: str, profile: str, data_dir: str, *, seed: int = 0, protocol: str = "jstsp2019",
               **model) -> ExperimentConfig:
    """The configuration of one run: ``model`` holds the architecture's parameters (block, multi, ...).

    ``protocol`` (:data:`PROTOCOLS`) applies one original code base's departures from the JSTSP 2019 protocol:
    ``icassp2018`` (SE ratio 16, he_uniform) or ``smc2017`` (the lee2017 model, raw input). Their early-stopping
    patience (Keras 2.0.5 / Keras 1 semantics) replaces the profile's in the ``paper`` profile only: the other
    profiles cap a stage at a few epochs anyway.
    """
    if protocol not in PROTOCOLS:
        raise ParameterError(f"protocol must be one of {sorted(PROTOCOLS)}. Received: {protocol!r}")
    p, proto = PROFILES[profile], PROTOCOLS[protocol]
    # the profile's width and the protocol's departures apply where the architecture has those parameters
    architecture = model.get("architecture", proto["model"].get("architecture", "samplecnn"))
    taken = {"architecture", *parameter_names(architecture)}
    setup = {"init_features": p.init_features, **proto["model"]}
    mcfg = model_params(bn_momentum=p.bn_momentum, **{**{k: v for k, v in setup.items() if k in taken}, **model})
    steps = p.steps_per_epoch.get(task) if p.steps_per_epoch else None
    data = {"train_examples": p.train_examples}
    if p.shuffle_buffer:
        data["shuffle_buffer"] = p.shuffle_buffer
    data.update(proto["data"])  # the code base's own input (raw waveform, its shuffle queue)
    patience = proto["paper_patience"] if profile == "paper" else p.patience
    max_epochs = proto["paper_max_epochs"] if profile == "paper" else p.max_epochs_per_stage
    suffix = "" if protocol == "jstsp2019" else f"-{protocol}"
    return ExperimentConfig(
        name=f"{task}-{signature(mcfg)}{suffix}-{profile}",
        data=DataConfig(data_dir=os.path.abspath(data_dir), batch_size=p.batch_size,
                        max_eval_segments=p.max_eval_segments, max_valid_segments=p.max_valid_segments, **data),
        model=mcfg,
        train=TrainConfig(optimizer=p.optimizer, lr=p.lr, num_stages=p.num_stages,
                          max_epochs_per_stage=max_epochs, patience=patience, steps_per_epoch=steps,
                          mixed_precision=p.mixed_precision, seed=seed, lr_schedule=p.lr_schedule,
                          warmup_steps=p.warmup_steps, time_decay=p.time_decay, loss=p.loss,
                          threads=p.threads),
        eval=EvalConfig(),
        notes=profile_description(profile))


#: the block table's rows: Kim 2019 Table II (basic/SE/Res/ReSE, one or two convs per block) x multi-level features
BLOCKS = ["basic", "se", "res1", "res2", "rese1", "rese2"]
#: baseline rows: name -> (row label, model parameters)
BASELINES = {
    "rnn": ("SampleCNN with RNN (4/4/5 blocks + LSTM)", {"architecture": "samplecnn_rnn", "block": "basic"}),
    "frame": ("frame-level CNN (243-sample frames)", {"architecture": "frame", "window": 243}),  # no blocks
    "mel": ("mel-spectrogram CNN (window 729, hop 243)", {"architecture": "mel", "window": 729, "hop": 243,
                                                         "block": "basic"}),
}


def table_configs(tasks: dict[str, str], profile: str, rows: list[tuple[str, dict]], seeds: list[int], *,
                  protocol: str = "jstsp2019", overrides: dict | None = None) -> list[tuple[dict, ExperimentConfig]]:
    """The block table's runs: every ``(label, model parameters)`` row on every task (``task -> store``), for
    each seed. ``overrides`` (SE ratio, initialiser) replace the protocol's where the row's model has them, and
    give the runs folders of their own."""
    overrides = overrides or {}
    configs = []
    for task, data_dir in tasks.items():
        for label, fields in rows:
            for seed in seeds:
                taken = parameter_names(fields.get("architecture", "samplecnn"))  # a setup's knobs the model has
                cfg = experiment(task, profile, data_dir, seed=seed, protocol=protocol,
                                 **{**fields, **{k: v for k, v in overrides.items() if k in taken}})
                if overrides:  # not the protocol's setup: a run folder of its own
                    cfg.name += "".join(f"-{k}{v}" for k, v in sorted(overrides.items()))
                if seed != 0:
                    cfg.name += f"-seed{seed}"
                configs.append(({"task": task, "model": label, "block": fields.get("block", "—"),
                                 "multi": fields.get("multi", False), "seed": seed}, cfg))
    return configs


#: Fig. 4's first-layer (window, hop) pairs per profile
FIG4_SIZES = {"paper": [(729, 729), (729, 243), (243, 243), (243, 81), (81, 81), (81, 27), (27, 27), (27, 9), (9, 9),
                        (9, 3)],
              "demo": [(729, 729), (729, 243), (243, 243), (243, 81), (81, 81), (81, 27), (27, 27), (27, 9), (9, 9),
                       (9, 3)],
              "smoke": [(243, 81)]}


def fig4_configs(profile: str, data_dir: str, seed: int = 0) -> list[tuple[dict, ExperimentConfig]]:
    """Fig. 4's runs on MTAT: a mel-spectrogram model and a strided SampleCNN per (window, hop)."""
    configs = []
    for window, hop in FIG4_SIZES[profile]:
        for arch in ("mel", "strided"):
            cfg = experiment("mtat", profile, data_dir, seed=seed, architecture=arch, block="basic", window=window,
                             hop=hop)
            configs.append(({"front end": "mel-spectrogram" if arch == "mel" else "raw waveform (strided conv)",
                             "window": window, "hop": hop}, cfg))
    return configs


def figure_configs(tasks: dict[str, str], profile: str, seed: int = 0) -> list[tuple[dict, ExperimentConfig]]:
    """The runs Figs. 7 and 8 analyse: each task's SE SampleCNN (the block table's run of the same name)."""
    return [({"task": task}, experiment(task, profile, data_dir, seed=seed, block="se"))
            for task, data_dir in tasks.items()]
