"""Experiment configuration as nested dataclasses (data, model, training, evaluation).

Defaults are the papers' protocol (``../shared/reference/papers.md`` Sec. 1): SGD with Nesterov momentum 0.9,
batch 23, learning rate 0.01 divided by 5 in up to 5 stages, each stage ending when the validation loss has
not improved for 2 epochs, dropout 0.5. Derived numbers (segment length, blocks, steps per epoch) come from the
store's task (:attr:`sampleaudio.stores.Store.task`) and the architecture's spec (:mod:`sampleaudio.model_registry`),
not typed in.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

__all__ = ["DataConfig", "ModelConfig", "TrainConfig", "EvalConfig", "ExperimentConfig"]


@dataclasses.dataclass
class DataConfig:
    """Where the store is and how it is read.

    Attributes:
        data_dir: a store written by ``sampleaudio prep``.
        segment: input samples per example (``None``: the architecture's for the dataset, e.g. 59,049 for a
            SampleCNN on MTAT; :func:`sampleaudio.model_registry.default_segment`).
        batch_size: 23 in the papers.
        standardize: ``manifest`` (the store's training mean/std), ``paper`` (the original's constants,
            meaningful for the real datasets only) or ``none`` (raw waveform, as the SMC 2017 code).
        train_examples: ``fixed``: each clip's fixed non-overlapping segments (at most the task's segments per
            clip: MTAT the first 10, DCASE 10, Speech Commands 1), shuffled at segment level, each used once per
            epoch, as the authors' code did; ``random_crop``: one random-offset crop per clip and pass (an
            augmentation, not the papers' protocol).
        shuffle_buffer: the shuffle buffer, in segments (``fixed``; the original used 10,000) or clips
            (``random_crop``).
        max_eval_segments: cap on segments per clip in the final evaluation (``None``: all).
        max_valid_segments: cap on segments per clip in the per-epoch validation (``None``: all).
    """

    data_dir: str = ""
    segment: int | None = None
    batch_size: int = 23
    standardize: str = "manifest"
    train_examples: str = "fixed"
    shuffle_buffer: int = 2048
    max_eval_segments: int | None = None
    max_valid_segments: int | None = None


@dataclasses.dataclass
class ModelConfig:
    """Which network, and its parameters.

    Each architecture takes only some of these fields (its :class:`~sampleaudio.model_registry.ModelSpec`'s
    ``params``, plus ``bn_momentum``): a run's config.json records those, and
    :func:`~sampleaudio.checks.check_config` refuses another field set to other than its default.

    Attributes:
        architecture: ``samplecnn`` (Kim 2019), ``lee2017`` (SMC 2017 head), ``samplecnn_rnn`` (Table I),
            ``mel`` / ``strided`` (Fig. 4 front ends, with ``window``/``hop``), ``frame`` (Dieleman 2014),
            ``artist_cnn`` (Park 2018's 1D CNN over the in-graph mel front end, softmax over artists; sigmoid
            over tags on a multi-label store: the paper's tag model),
            ``choi2019_audio`` (Choi 2019's audio branch, for the ``coembedding`` objective).
        block, multi, amplifying_ratio, dropout, init_features: as :func:`sampleaudio.models.SampleCNN`.
        num_blocks: ``None``: Kim 2019's for the dataset (9 MTAT, 8 Speech Commands and DCASE), else the most
            the segment allows (``3 ** (num_blocks + 1) <= segment``).
        window, hop: first-layer window and hop for ``mel``/``strided``/``frame``.
        initializer: conv initialiser: ``jstsp`` (the JSTSP 2019 code's variance scaling) or ``he_uniform``
            (the ICASSP 2018 code), for every architecture with convs. ``lee2017`` is always ``he_uniform`` (the
            SMC 2017 code).
        bn_momentum: momentum of every batch norm's moving statistics (``None``: Keras' 0.99, as the
            original). Short schedules need less: after ``n`` steps the initial statistics still weigh
            ``momentum ** n`` (0.99 ** 150 = 0.22), and evaluation uses those statistics.
    """

    architecture: str = "samplecnn"
    block: str = "se"
    multi: bool = False
    num_blocks: int | None = None
    amplifying_ratio: float = 0.125
    dropout: float = 0.5
    init_features: int = 128
    window: int = 3
    hop: int = 3
    bn_momentum: float | None = None
    initializer: str = "jstsp"


@dataclasses.dataclass
class TrainConfig:
    """How to train.

    Attributes:
        optimizer: ``sgd`` (Nesterov, the papers) or ``adam``.
        lr, momentum, lr_decay, num_stages, patience: the staged schedule; stage ``k`` trains at
            ``lr * lr_decay ** k`` with a fresh optimizer, from the best weights of stage ``k - 1``. A stage
            ends after ``patience`` epochs without improvement (TF 1.10 ``EarlyStopping`` semantics, the JSTSP
            code); Keras 1.1 and 2.0.5 stopped one epoch later, so their ``patience=p`` is ``p + 1`` here.
        time_decay: the original's per-step ``SGD(decay=1e-6)`` (inverse time decay within a stage).
        lr_schedule: within a stage, ``constant`` (the papers, apart from ``time_decay``) or ``cosine``: a
            linear warm-up over ``warmup_steps`` from 0, then cosine decay to 0 at the stage's last possible
            step (``max_epochs_per_stage * steps_per_epoch``); for short fixed budgets such as the demo.
        warmup_steps: steps of linear warm-up of the ``cosine`` schedule.
        max_epochs_per_stage: a stage also ends after this many epochs (100 in the original's ``fit``).
        steps_per_epoch: ``None``: one pass over the training segments, ``ceil(segments / batch)`` (the
            original's ``lib/data/config.py``: MTAT 15,250 x 10 / 23 -> 6,631).
        loss: ``keras`` (Keras 3's cross-entropy, from the logits, unclipped) or ``clipped`` (the original's:
            probabilities clipped to [1e-7, 1 - 1e-7], :mod:`sampleaudio.clipped_losses`).
        mixed_precision: ``auto`` (the measured winner for the model on this machine, recorded in the run's
            config as what it resolved to: :func:`sampleaudio.cpu.auto_mixed_precision`), ``off``,
            ``float16`` (with loss scaling) or ``bfloat16``.
        distribute: ``none``, ``mirrored`` (all local GPUs) or ``multiworker`` (``TF_CONFIG``).
        jit_compile: XLA-compile the train step (``auto``: on GPU only, where it pays off).
        seed: seeds weights, shuffling and crops.
        objective: ``classification`` (the task's loss), ``siamese`` (Park 2018: artist triplets, max-margin
            loss; :mod:`sampleaudio.objectives`) or ``coembedding`` (Choi 2019: audio-word co-embedding with
            ``architecture="choi2019_audio"``; :mod:`sampleaudio.coembedding`).
        num_negatives, margin: the Siamese objective's negatives per anchor (4) and margin (0.4); the co-embedding
            objective's negative tags per positive (1 in Choi 2019's code) and margin (0.4).
        word_vectors, unseen_fraction, split_seed, oov_tags: the ``coembedding`` objective (Choi 2019 zero-shot,
            :mod:`sampleaudio.coembedding`): the word vectors (``glove-6b-50d``, ``random:<dim>`` or a GloVe .txt
            path), the share of tags held out unseen (0.2), the seed of the tag and track split, and what a tag
            without any word vector does (``error``, or ``drop`` it and record its name).
    """

    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    lr_decay: float = 0.2
    num_stages: int = 5
    patience: int = 2
    time_decay: float = 1e-6
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    max_epochs_per_stage: int = 100
    steps_per_epoch: int | None = None
    loss: str = "keras"
    mixed_precision: str = "auto"
    distribute: str = "none"
    jit_compile: str = "auto"
    seed: int = 0
    objective: str = "classification"
    num_negatives: int = 4
    margin: float = 0.4
    word_vectors: str = "glove-6b-50d"
    unseen_fraction: float = 0.2
    split_seed: int = 0
    oov_tags: str = "error"


@dataclasses.dataclass
class EvalConfig:
    """How to evaluate: ``split`` to score and the decision ``threshold`` (``None``: the task's)."""

    split: str = "test"
    threshold: float | None = None
    batch_size: int = 64


@dataclasses.dataclass
class ExperimentConfig:
    name: str = "experiment"
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    eval: EvalConfig = dataclasses.field(default_factory=EvalConfig)
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExperimentConfig:
        # configurations recorded before `train_examples` existed were trained on random crops
        data = {"train_examples": "random_crop", **d.get("data", {})}
        return cls(name=d.get("name", "experiment"), data=DataConfig(**data),
                   model=ModelConfig(**d.get("model", {})), train=TrainConfig(**d.get("train", {})),
                   eval=EvalConfig(**d.get("eval", {})), notes=d.get("notes", ""))
