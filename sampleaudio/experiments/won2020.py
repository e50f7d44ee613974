"""Won, Ferraro, Bogdanov, Serra (SMC 2020) experiments: the tagging models side by side on MTAT (with SampleCNN and
SampleCNN-SE from sampleaudio's own family), each at its paper input length, and how the demo and smoke budgets
shrink them."""

from __future__ import annotations

import dataclasses
import os

from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, TrainConfig, model_params
from sampleaudio.families import parameter_names

__all__ = ["MODELS", "DEMO_MODELS", "Budget", "BUDGETS", "describe", "config_for"]

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
    width: int  # n_channels of the short-chunk / harmonic models, init_features of SampleCNN (paper: 128)
    lr: float
    epochs: int
    steps: int | None
    batch: int


BUDGETS = {"paper": Budget(128, 1e-4, 200, None, 16), "demo": Budget(16, 1e-3, 4, 24, 16),
           "smoke": Budget(8, 1e-3, 1, 2, 4)}


def describe(profile: str, budget: Budget) -> str:
    if profile == "paper":
        return ("paper profile: MTAT store (folder split unless the store was made from Won's cleaned split), "
                "width 128, Adam lr 1e-4 up to 200 epochs (the shared trainer; Won reloads the best model and "
                "switches to SGD at epoch 80), batch 16, inputs in the paper's sample counts at 22,050 Hz")
    return (f"{profile} profile: SYNTHETIC mini-mtat, NOT comparable to published numbers; width {budget.width} "
            f"instead of 128, Adam lr {budget.lr}, {budget.epochs} epoch(s) of {budget.steps} steps of batch "
            f"{budget.batch}; FCN, CRNN (29 s inputs) and Musicnn (40x the short-chunk CNN's step time) left out; "
            "22,050 Hz stores, paper sample counts")


def config_for(row: str, profile: str, data_dir: str, budget: Budget, seed: int) -> ExperimentConfig:
    fields, segment, _ = MODELS[row]
    width = {"init_features": budget.width} if "init_features" in parameter_names(fields["architecture"]) else {}
    model = model_params(bn_momentum=0.9 if profile != "paper" else None, **width, **fields)  # FCN/CRNN/Musicnn: fixed
    return ExperimentConfig(
        name=f"won2020-{fields['architecture']}-{fields.get('block', '')}-{profile}".replace("--", "-"),
        data=DataConfig(data_dir=os.path.abspath(data_dir), segment=segment, batch_size=budget.batch,
                        max_valid_segments=1 if profile != "paper" else None),
        model=model,
        train=TrainConfig(optimizer="adam", lr=budget.lr, num_stages=1, max_epochs_per_stage=budget.epochs,
                          patience=budget.epochs if profile != "paper" else 10, steps_per_epoch=budget.steps,
                          seed=seed),
        eval=EvalConfig(), notes=describe(profile, budget))
