"""Experiment configuration: nested sections of declared parameters (:mod:`sampleaudio.params`).

An :class:`ExperimentConfig` is the data section (:class:`DataConfig`), the model's parameters (its architecture's
:class:`~sampleaudio.families.ModelParams` subclass: only the knobs that network has), the training objective's
parameters (:class:`~sampleaudio.families.ObjectiveParams` subclass), the schedule (:class:`TrainConfig`) and the
evaluation (:class:`EvalConfig`). A run's ``config.json`` is :meth:`ExperimentConfig.to_dict`; files written by
older versions read through :mod:`sampleaudio.migrate`.

Defaults are the papers' protocol (Kim, Lee, Nam, IEEE JSTSP 2019, Sec. IV-B): SGD with Nesterov momentum 0.9,
batch 23, learning rate 0.01 divided by 5 in up to 5 stages, each stage ending when the validation loss has not
improved for 2 epochs, dropout 0.5. Derived numbers (segment length, blocks, steps per epoch) come from the
store and the architecture's declaration, not typed in.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sampleaudio.errors import ParameterError
from sampleaudio.families import ModelParams, ObjectiveParams, model_params, objective_params
from sampleaudio.params import Params, param

__all__ = ["SCHEDULES", "DataConfig", "TrainConfig", "EvalConfig", "ExperimentConfig", "model_params", "objective_params",
           "differences"]


@dataclasses.dataclass
class DataConfig(Params):
    """Where the store is and how it is read."""

    data_dir: str = param("", "store folder (from `sampleaudio prep`)", flag="--data")
    segment: int | None = param(None, "input samples per example (default: the architecture's for the dataset, "
                                      "e.g. 59,049 for a SampleCNN on MTAT, 464,000 for FCN)", low=1,
                                high=1 << 26)
    batch_size: int = param(23, "examples per batch (23 in Kim 2019)", low=1, high=1 << 16)
    standardize: str = param("manifest", "input standardisation: the store's training mean/std, the original's "
                                         "constants (real data), or none (raw waveform, as the SMC 2017 and ICASSP "
                                         "2018 codes)", choices=("manifest", "paper", "none"))
    train_examples: str = param("fixed", "fixed: each clip's non-overlapping segments (at most the task's per "
                                         "clip), each once per epoch, as the Kim 2019 code; random_crop: one random "
                                         "crop per clip and pass", choices=("fixed", "random_crop"))
    epoch: str = param("segments", "what one epoch of random crops is: as many crops as the training audio holds "
                                   "segments (segments), or one crop per clip, each clip once (clips: the Park 2018 "
                                   "and Won 2020 loaders)", choices=("segments", "clips"))
    shuffle_buffer: int = param(2048, "shuffle buffer in segments (fixed; the original used 10,000) or clips "
                                      "(random_crop)", low=1)
    max_eval_segments: int | None = param(None, "cap on segments per clip in the final evaluation", low=1)
    max_valid_segments: int | None = param(None, "cap on segments per clip in the per-epoch validation", low=1)
    valid_examples: str = param("segments", "the per-epoch validation examples: each clip's consecutive segments "
                                            "(segments), the architecture's evaluation chunks (chunks: Won 2020's 16 "
                                            "evenly spaced), or one random crop per clip drawn once for the whole run "
                                            "(random_crop: Park 2018)", choices=("segments", "chunks", "random_crop"))


#: the schedules :mod:`sampleaudio.schedule` declares (named here too: this module stays TensorFlow-free)
SCHEDULES = ("staged", "plateau", "adam_then_sgd")


@dataclasses.dataclass
class TrainConfig(Params):
    """How to train: one of the papers' schedules (:mod:`sampleaudio.schedule` makes each a plan of stages).

    - ``staged`` (Kim 2019, the default): stage ``k`` trains at ``lr * lr_decay ** k`` with a fresh optimizer,
      from the best weights of stage ``k - 1``; a stage ends after ``patience`` epochs without improvement of the
      validation loss (TF 1.10 ``EarlyStopping`` semantics, the JSTSP code; Keras 1.1 and 2.0.5 stopped one epoch
      later, so their ``patience=p`` is ``p + 1`` here) or after ``max_epochs_per_stage``.
    - ``plateau`` (Park 2018's released model): one optimizer for the whole run, its rate multiplied by
      ``lr_decay`` in place when the validation loss stops improving (Keras 2.1 ``ReduceLROnPlateau``, see
      ``plateau_patience``), never below ``min_lr``, no reloads; the run ends after ``max_epochs_per_stage``
      epochs or ``patience`` epochs without improvement.
    - ``adam_then_sgd`` (Won 2020's ``solver.py``): Adam at ``lr`` for ``switch_epoch`` epochs, then from the best
      weights a fresh SGD (Nesterov) at ``sgd_lr``, and every ``drop_every`` epochs the best weights again with the
      same SGD at ``lr_decay`` times the rate, ``num_stages`` stages in all, the last lasting
      ``max_epochs_per_stage`` epochs; no early stopping; the best weights are the run's.
    """

    schedule: str = param("staged", "staged (Kim 2019), plateau (Park 2018's release) or adam_then_sgd (Won 2020)",
                          choices=SCHEDULES)
    optimizer: str = param("sgd", "sgd (Nesterov, the papers) or adam (adam_then_sgd: Adam, then SGD, whatever "
                                  "this says)", choices=("sgd", "adam"))
    lr: float = param(0.01, "learning rate of the first stage", low=0, low_open=True)
    momentum: float = param(0.9, "SGD's Nesterov momentum", low=0, high=1, high_open=True)
    lr_decay: float = param(0.2, "factor between stages (staged), of each plateau cut (plateau), of each SGD drop "
                                 "(adam_then_sgd)", low=0, high=1, low_open=True)
    num_stages: int = param(5, "stages of the schedule (staged); the Adam stage plus the SGD stages "
                               "(adam_then_sgd); plateau runs one", low=1)
    patience: int = param(2, "epochs without improvement that end a stage (plateau: the run; adam_then_sgd: "
                             "unused)", low=1)
    time_decay: float = param(1e-6, "the original's per-step inverse time decay (SGD decay=1e-6) of one "
                                    "optimizer's steps (a carried or plateau-cut optimizer keeps counting)", low=0)
    lr_schedule: str = param("constant", "within a stage: constant (the papers), or a linear warm-up then cosine "
                                         "decay to 0 at the stage's last step (short fixed budgets, e.g. the demo)",
                             choices=("constant", "cosine"))
    warmup_steps: int = param(0, "linear warm-up steps of the cosine schedule", low=0)
    max_epochs_per_stage: int = param(100, "a stage also ends after this many epochs (100 in the original; "
                                           "adam_then_sgd: the last SGD stage's epochs)", low=1)
    plateau_patience: int = param(1, "plateau: a flat epoch cuts the rate once the count of flat epochs before it "
                                     "reaches this (Keras 2.1 checked before counting: patience 1 cuts at the "
                                     "2nd flat epoch, then at every further one)", low=0)
    min_lr: float = param(0.0, "plateau: the rate is never cut below this", low=0)
    weight_decay: float = param(0.0, "L2 added to every trainable weight's gradient (PyTorch's weight_decay; "
                                     "1e-4 in Won 2020)", low=0)
    switch_epoch: int = param(80, "adam_then_sgd: epochs of Adam before the switch to SGD", low=1)
    sgd_lr: float = param(1e-3, "adam_then_sgd: SGD's rate after the switch", low=0, low_open=True)
    drop_every: int = param(20, "adam_then_sgd: epochs between SGD rate drops", low=1)
    steps_per_epoch: int | None = param(None, "default: one pass over the training segments (Kim 2019 MTAT: 6,631)",
                                        low=1)
    loss: str = param("keras", "keras: Keras 3's cross-entropy from logits; clipped: the original's (probabilities "
                               "clipped to [1e-7, 1-1e-7], TF 1.10 Keras)", choices=("keras", "clipped"))
    mixed_precision: str = param("auto", "auto: float16 on a GPU; on a CPU with bfloat16 dot products (AVX-512 BF16) "
                                         "bfloat16 for a waveform SampleCNN; float32 otherwise. The run records what "
                                         "auto resolved to", choices=("auto", "off", "float16", "bfloat16"))
    distribute: str = param("none", "tf.distribute strategy: mirrored = all local GPUs; multiworker = one process "
                                    "per worker, each with its own TF_CONFIG and the same arguments",
                            choices=("none", "mirrored", "multiworker"))
    jit_compile: str = param("auto", "XLA-compile the train step (auto: on GPU only, where it pays off)",
                             choices=("auto", "on", "off"))
    seed: int = param(0, "seeds weights, shuffling, crops and samplers", low=0, high=2 ** 31 - 1)
    threads: int = param(0, "TensorFlow threads (intra- and inter-op) of the training process; 0: TensorFlow's "
                            "default (every core). On a CPU the numbers depend on it (oneDNN splits its sums by "
                            "thread), so a run that sets it gives the same result on any machine; the demo "
                            "profiles train each run on one thread, one run per core at a time", low=0)


@dataclasses.dataclass
class EvalConfig(Params):
    """How the finished run is scored."""

    split: str = param("test", "split scored at the end", choices=("train", "valid", "test"), flag="--eval-split")
    threshold: float | None = param(None, "decision threshold of the thresholded metrics (default: the dataset's)",
                                    low=0, high=1)
    batch_size: int = param(64, "segments per batch when scoring", low=1, flag="--eval-batch-size")


@dataclasses.dataclass
class ExperimentConfig:
    """One run's configuration (see the module docstring)."""

    name: str = "experiment"
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelParams = dataclasses.field(default_factory=model_params)
    objective: ObjectiveParams = dataclasses.field(default_factory=objective_params)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    eval: EvalConfig = dataclasses.field(default_factory=EvalConfig)
    notes: str = ""

    def check(self) -> ExperimentConfig:
        """Raise :class:`ParameterError` naming the first field out of its declared range or choices, an objective
        the architecture does not train with, or a segment shorter than the architecture takes; return ``self``."""
        from sampleaudio.families import architecture, architectures

        for section in ("data", "model", "objective", "train", "eval"):
            getattr(self, section).check(section)
        spec = architecture(self.model.architecture)
        if self.objective.name not in spec.objectives:
            takers = [a.name for a in architectures().values() if self.objective.name in a.objectives]
            raise ParameterError(f"objective '{self.objective.name}' does not train architecture '{spec.name}' "
                                 f"(which trains with {', '.join(spec.objectives)}); it trains "
                                 f"{', '.join(takers)}")
        least = spec.input.min_segment
        if least and self.data.segment is not None and self.data.segment < least:
            raise ParameterError(f"data.segment must be at least {least} samples for architecture '{spec.name}'. "
                                 f"Received: {self.data.segment!r}")
        return self

    def to_dict(self) -> dict[str, Any]:
        """The form a run's ``config.json`` records."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExperimentConfig:
        """From the current ``config.json`` form (older forms: :func:`sampleaudio.migrate.config_dict` first)."""
        if not isinstance(d, dict):
            raise ParameterError("config.json is not a JSON object")
        unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ParameterError(f"config.json has unknown field(s) {unknown}")
        try:
            return cls(name=d.get("name", "experiment"), data=DataConfig.from_dict(d.get("data", {}), "data"),
                       model=model_params(**d.get("model", {})),
                       objective=objective_params(**d.get("objective", {})),
                       train=TrainConfig.from_dict(d.get("train", {}), "train"),
                       eval=EvalConfig.from_dict(d.get("eval", {}), "eval"), notes=d.get("notes", ""))
        except TypeError as exc:
            raise ParameterError(f"config.json does not describe a sampleaudio run ({exc})") from exc


def differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Dotted names of the fields whose values differ between two nested config dicts, with both values."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key} ({a!r} -> {b!r})")
    return out
