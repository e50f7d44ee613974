"""Won, Ferraro, Bogdanov, Serra (SMC 2020): tagging models side by side on MTAT, ROC-AUC and PR-AUC under their
16-chunk evaluation, plus SampleCNN and SampleCNN-SE from sampleaudio's own family.

    python reproductions/won2020_table.py                       # demo: mini-mtat (synthetic), CPU
    python reproductions/won2020_table.py --profile smoke       # a few steps per model
    python reproductions/won2020_table.py --profile paper --data-root DATA   # DATA/mtat from `sampleaudio prep`

Every model trains with the shared trainer (`sampleaudio.train`) and is scored by `sampleaudio.chunk_eval`: per
test clip 16 evenly spaced chunks of the model's input length, outputs averaged, macro ROC-AUC / PR-AUC.

Departures, stated in the table header: the stores are 22,050 Hz (the project's rate), so the front ends are
built for 22,050 Hz with the paper's n_fft/hop in samples and inputs keep the paper's sample counts; the split
is the store's (the folder split for MTAT; Won's cleaned split is a user-supplied list); training is the shared
trainer's Adam schedule, not their Adam -> SGD reloads. Published numbers are printed only beside real-data
runs and only from `sampleaudio/data/published_results.csv`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

import pandas as pd

from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, ModelConfig, TrainConfig
from sampleaudio.experiments import data_dir_for
from sampleaudio.model_registry import spec
from sampleaudio.reporting import profile_arguments, published_results, run_experiments, write_results

#: row name -> (ModelConfig fields, input samples, name in published_results.csv)
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
    width = {"init_features": budget.width} if "init_features" in spec(fields["architecture"]).params else {}
    model = ModelConfig(bn_momentum=0.9 if profile != "paper" else None, **width, **fields)  # FCN/CRNN/Musicnn: fixed
    return ExperimentConfig(
        name=f"won2020-{fields['architecture']}-{fields.get('block', '')}-{profile}".replace("--", "-"),
        data=DataConfig(data_dir=os.path.abspath(data_dir), segment=segment, batch_size=budget.batch,
                        max_valid_segments=1 if profile != "paper" else None),
        model=model,
        train=TrainConfig(optimizer="adam", lr=budget.lr, num_stages=1, max_epochs_per_stage=budget.epochs,
                          patience=budget.epochs if profile != "paper" else 10, steps_per_epoch=budget.steps,
                          seed=seed),
        eval=EvalConfig(), notes=describe(profile, budget))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    profile_arguments(p)
    p.add_argument("--models", nargs="+", default=None, choices=list(MODELS),
                   help="default: all (demo/smoke: all but FCN, CRNN and Musicnn)")
    p.add_argument("--chunks", type=int, default=16, help="evenly spaced chunks per test clip")
    args = p.parse_args(argv)

    from sampleaudio.chunk_eval import evaluate_run_chunked

    budget = BUDGETS[args.profile]
    rows = args.models or (list(MODELS) if args.profile == "paper" else DEMO_MODELS)
    data_dir = data_dir_for("mtat", args.profile, args.data_root)
    configs = [({"model": row}, config_for(row, args.profile, data_dir, budget, args.seed)) for row in rows]
    root = os.path.join(args.out, "won2020_table", args.profile)
    runs = run_experiments(configs, os.path.join(root, "runs"))

    table = []
    for row, run_dir in zip(runs["model"], runs["run_dir"]):
        scores = evaluate_run_chunked(run_dir, "test", count=args.chunks)
        table.append({"model": row, "input (samples)": MODELS[row][1], "ROC-AUC": scores["roc_auc"],
                      "PR-AUC": scores["pr_auc"]})
    table = pd.DataFrame(table)
    if args.profile == "paper":
        pub = published_results()
        pub = pub[pub.paper.isin(["won2020"]) & (pub.dataset == "MTAT")]
        for metric in ("ROC-AUC", "PR-AUC"):
            values = pub[pub.metric == metric].set_index("model")["value"]
            table[f"published {metric}"] = [values.get(MODELS[r][2], float("nan")) for r in table["model"]]
    header = [f"# Won et al. (SMC 2020) model comparison, MTAT, {args.chunks}-chunk evaluation",
              "", describe(args.profile, budget)]
    if args.profile == "paper":
        header += ["", "Published values: sampleaudio/data/published_results.csv (paperswithcode listing and the "
                       "authors' issue #5); the rest of their table is an image and is not typed from memory."]
    text = write_results(root, "won2020_table", table, header, runs)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
