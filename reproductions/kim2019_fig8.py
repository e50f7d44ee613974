"""Kim, Lee, Nam (IEEE JSTSP 2019) Fig. 8 and Sec. VII-B: how class-specific the SE excitations are per block.

    python reproductions/kim2019_fig8.py --profile smoke            # a minute or two
    python reproductions/kim2019_fig8.py                            # demo: the demo table's SE models
    python reproductions/kim2019_fig8.py --runs RUN_DIR ...         # any finished runs with SE blocks

Left: for each block, the standard deviation across classes of the class-averaged excitations (median over
channels, with the interquartile range shaded); the paper finds it grows with depth. Right: the first block's
excitation (mean over channels) against the loudness of the input segment, with Pearson's r. Writes
OUT/kim2019_fig8/<profile>/kim2019_fig8.png, kim2019_fig8_std.csv (every block and channel) and
kim2019_fig8_loudness.csv (every test segment analysed).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import pandas as pd
from kim2019_figures import SETTINGS, analysed_runs, figure_arguments, synthetic_note

from sampleaudio.reporting import run_script


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    figure_arguments(p)
    p.add_argument("--split", default="test", help="split whose clips are analysed")
    args = p.parse_args(argv)
    from sampleaudio.analysis import class_excitations, excitation_std_across_classes, loudness_vs_excitation
    from sampleaudio.runs import load_run, read_model_card

    max_clips = SETTINGS[args.profile]["max_clips"]
    stds, louds = [], []
    for run_dir in analysed_runs(args):
        model, config, task = load_run(run_dir)
        card = read_model_card(run_dir)  # the segment and standardisation the run was trained with
        segment, mean, std = card["segment"], card["mean"], card["std"]
        kw = {"segment": segment, "mean": mean, "std": std, "max_clips": max_clips}
        means = class_excitations(model, config.data.data_dir, args.split, **kw)
        stds.append(excitation_std_across_classes(means).assign(dataset=task.name, run=os.path.basename(run_dir)))
        louds.append(loudness_vs_excitation(model, config.data.data_dir, args.split, **kw)
                     .assign(dataset=task.name, run=os.path.basename(run_dir)))
    stds, louds = pd.concat(stds, ignore_index=True), pd.concat(louds, ignore_index=True)
    root = os.path.join(args.out, "kim2019_fig8", args.profile)
    os.makedirs(root, exist_ok=True)
    stds.to_csv(os.path.join(root, "kim2019_fig8_std.csv"), index=False)
    louds.to_csv(os.path.join(root, "kim2019_fig8_loudness.csv"), index=False)
    for name, g in louds.groupby("dataset", sort=False):
        r = _pearson(g)
        print(f"{name}: first-block excitation vs loudness over {len(g)} segments: "
              + (f"Pearson r = {r:.3f}" if r == r else "Pearson r undefined (the excitation does not vary)"))
    _plot(stds, louds, os.path.join(root, "kim2019_fig8.png"), args.profile)
    print(f"written: {root}/kim2019_fig8.png, kim2019_fig8_std.csv, kim2019_fig8_loudness.csv")
    return 0


def _pearson(g: pd.DataFrame) -> float:
    if len(g) < 2 or g.loudness_db.std() == 0 or g.mean_excitation.std() == 0:
        return float("nan")
    return float(np.corrcoef(g.loudness_db, g.mean_excitation)[0, 1])


def _plot(stds: pd.DataFrame, louds: pd.DataFrame, path: str, profile: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    for name, g in stds.groupby("dataset", sort=False):
        q = g.groupby("block").std_across_classes.quantile([0.25, 0.5, 0.75]).unstack()
        blocks = q.index.to_numpy() + 1
        left.plot(blocks, q[0.5], marker="o", label=name)
        left.fill_between(blocks, q[0.25], q[0.75], alpha=0.2)
    left.set_xlabel("block")
    left.set_ylabel("std of excitation across classes")
    left.legend(fontsize=7)
    for name, g in louds.groupby("dataset", sort=False):
        right.scatter(g.loudness_db, g.mean_excitation, s=4, alpha=0.5, label=f"{name} (r = {_pearson(g):.2f})")
    right.set_xlabel("segment loudness (dBFS)")
    right.set_ylabel("block 1 mean excitation")
    right.legend(fontsize=7)
    fig.suptitle(f"Kim 2019 Fig. 8 — {profile}{synthetic_note(profile)}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(run_script(main))
