"""Won, Ferraro, Bogdanov, Serra (SMC 2020) experiments: the tagging models side by side on MTAT (with SampleCNN and
SampleCNN-SE from sampleaudio's own family), each at its paper input length, and how the demo and smoke budgets
shrink them.

As the authors' ``training/`` code runs them: audio at 16 kHz as ``librosa.load`` gives it (no standardisation),
one random crop of the model's input length per track per epoch (``AudioFolder.get_npy``; ``DataLoader(batch 16,
shuffle, drop_last=False)``), validation loss over 16 evenly spaced chunks per validation track, and
``solver.py``'s schedule: Adam 1e-4 with L2 1e-4 for 80 epochs, then from the best weights SGD 1e-3 (Nesterov 0.9,
L2 1e-4) for 20, 1e-4 for 20 and 1e-5 until epoch 200, reloading the best weights at each change and keeping the
run's best (:func:`sampleaudio.schedule.plan`, ``adam_then_sgd``). A store at another rate than 16 kHz is refused
for the paper profile (:func:`require_paper_rate`): at 22,050 Hz the same sample counts cover 1.38x less time and
HarmonicCNN's filterbank has 140 fundamentals instead of 128.
"""

from __future__ import annotations

import dataclasses
import os

from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, TrainConfig, model_params
from sampleaudio.errors import ParameterError
from sampleaudio.families import parameter_names

__all__ = ["MODELS", "DEMO_MODELS", "Budget", "BUDGETS", "PAPER_RATE", "describe", "config_for",
           "require_paper_rate", "store_for"]

#: the rate of every model of the benchmark (``preprocessing/mtat_read.py``: ``librosa.load(sr=16000)``)
PAPER_RATE = 16000

#: row name -> (model parameters, input samples, name in published_results.csv)
MODELS = {
    "FCN": ({"architecture": "fcn"}, 464000, "FCN"),
    "CRNN": ({"architecture": "crnn"}, 464000, "CRNN"),
    "Musicnn": ({"architecture": "won_musicnn"}, 48000, "Musicnn"),
    "Sample-level": ({"architecture": "samplecnn", "block": "basic"}, 59049, "Sample-level"),
    "Sample-level + SE": ({"architecture": "samplecnn", "block": "se"}, 59049, "Sample-level + SE"),
    "Short-chunk CNN": ({"architecture": "short_chunk_cnn"}, 59049, "Short-chunk CNN"),
    "Short-chunk CNN + Res": ({"architecture": "short_chunk_resnet"}, 59049, "Short-chunk CNN + Res"),
    "HarmonicCNN": ({"architecture": "harmonic_cnn"}, 80000, "HarmonicCNN"),
}
#: Left out of the demo, for CPU time: FCN and CRNN need 29 s inputs (their pools leave nothing of less than
#: ~15 s), and a training step of their Musicnn (batch 16) takes 4.3 s on the idle 2-core CPU (short-chunk CNN
#: at width 16: 0.1 s; 30 s under the load of the shared machine). Ask for them with --models.
DEMO_MODELS = [m for m in MODELS if m not in ("FCN", "CRNN", "Musicnn")]


@dataclasses.dataclass(frozen=True)
class Budget:
    """How a profile shrinks ``solver.py``'s run: the width, Adam's rate (SGD's is 10x, as 1e-4 -> 1e-3 there),
    the epochs of Adam, of each SGD drop and of the last SGD stage, the steps per epoch (``None``: one crop per
    track), the batch, and the validation (``None``: 16 evenly spaced chunks per track, else this many first
    segments)."""

    width: int  # n_channels of the short-chunk / harmonic models, init_features of SampleCNN (paper: 128)
    lr: float
    adam_epochs: int
    drop_every: int
    last_epochs: int
    steps: int | None
    batch: int
    valid_segments: int | None = None

    @property
    def epochs(self) -> int:
        return self.adam_epochs + 2 * self.drop_every + self.last_epochs


BUDGETS = {"paper": Budget(128, 1e-4, 80, 20, 80, None, 16),
           # 24 steps an epoch: Adam for 3 epochs, then SGD for 1, / 10 for 1, / 100 for 1 (144 steps of batch 16)
           "demo": Budget(16, 1e-3, 3, 1, 1, 24, 16, valid_segments=1),
           "smoke": Budget(8, 1e-3, 1, 1, 1, 2, 4, valid_segments=1)}


def _train(budget: Budget, seed: int) -> TrainConfig:
    return TrainConfig(schedule="adam_then_sgd", lr=budget.lr, sgd_lr=10 * budget.lr, lr_decay=0.1, num_stages=4,
                       switch_epoch=budget.adam_epochs, drop_every=budget.drop_every,
                       max_epochs_per_stage=budget.last_epochs, weight_decay=1e-4, time_decay=0.0, momentum=0.9,
                       steps_per_epoch=budget.steps, seed=seed)


def describe(profile: str, budget: Budget, sample_rate: int = PAPER_RATE) -> str:
    """One line saying what the profile runs, derived from its configuration and the store's rate."""
    from sampleaudio.families.harmonic_cnn.model import harmonic_centres
    from sampleaudio.schedule import describe as describe_schedule

    schedule = describe_schedule(_train(budget, 0))
    fundamentals = harmonic_centres(sample_rate).size // 6
    rate = (f"{sample_rate} Hz as the paper" if sample_rate == PAPER_RATE else
            f"{sample_rate} Hz, NOT the paper's 16 kHz (inputs of the paper's sample counts then cover "
            f"{PAPER_RATE / sample_rate:.2f}x the time, HarmonicCNN has {fundamentals} fundamentals, not 128)")
    crops = ("one random crop per track per epoch" if budget.steps is None
             else f"epochs of {budget.steps} steps of one random crop per track")
    valid = ("validation loss over 16 evenly spaced chunks per track" if budget.valid_segments is None
             else f"validation on the first {budget.valid_segments} segment(s) per track instead of 16 chunks")
    head = ("paper profile: MTAT store (folder split unless the store was made from Won's cleaned split)"
            if profile == "paper" else f"{profile} profile: SYNTHETIC mini-mtat, NOT comparable to published numbers")
    width = "width 128" if budget.width == 128 else f"width {budget.width} instead of 128"
    left_out = "" if profile == "paper" else "; FCN, CRNN (29 s inputs) and Musicnn left out unless asked for"
    return (f"{head}; audio at {rate}, no standardisation; {width}; {crops}, batch {budget.batch}; {valid}; "
            f"{schedule}{left_out}")


def require_paper_rate(data_dir: str) -> None:
    """Refuse a store that is not at 16 kHz, naming how to make one."""
    from sampleaudio.stores import read_manifest

    rate = read_manifest(data_dir).sample_rate
    if rate != PAPER_RATE:
        raise ParameterError(f"store '{data_dir}' is at {rate} Hz: Won 2020's models run at 16 kHz (at {rate} Hz the "
                             "paper's sample counts cover another duration and HarmonicCNN gets another filterbank); "
                             "convert MTAT at 16 kHz: sampleaudio.data_prep.mtat.convert(SRC, OUT, "
                             "sample_rate=16000)")


def store_for(profile: str, data_dir: str) -> str:
    """The store a profile trains on: a real one must be at 16 kHz; a synthetic proxy is resampled to 16 kHz once
    (:func:`sampleaudio.experiments.resample.store_at_rate`)."""
    if profile == "paper":
        require_paper_rate(data_dir)
        return data_dir
    from sampleaudio.experiments.resample import store_at_rate

    return store_at_rate(data_dir, PAPER_RATE)


def config_for(row: str, profile: str, data_dir: str, budget: Budget, seed: int,
               sample_rate: int = PAPER_RATE) -> ExperimentConfig:
    fields, segment, _ = MODELS[row]
    width = {"init_features": budget.width} if "init_features" in parameter_names(fields["architecture"]) else {}
    model = model_params(bn_momentum=0.9 if profile != "paper" else None, **width, **fields)  # FCN/CRNN/Musicnn: fixed
    valid = ({"valid_examples": "chunks"} if budget.valid_segments is None
             else {"valid_examples": "segments", "max_valid_segments": budget.valid_segments})
    return ExperimentConfig(
        name=f"won2020-{fields['architecture']}-{fields.get('block', '')}-{profile}".replace("--", "-"),
        data=DataConfig(data_dir=os.path.abspath(data_dir), segment=segment, batch_size=budget.batch,
                        standardize="none", train_examples="random_crop", epoch="clips", **valid),
        model=model, train=_train(budget, seed), eval=EvalConfig(), notes=describe(profile, budget, sample_rate))
