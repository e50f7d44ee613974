"""Kim, Lee, Nam (IEEE JSTSP 2019) Fig. 7: spectra of the learned filters of each block, sorted by peak frequency.

    python reproductions/kim2019_fig7.py --profile smoke            # a minute or two
    python reproductions/kim2019_fig7.py                            # demo: the demo table's SE models
    python reproductions/kim2019_fig7.py --runs RUN_DIR ...         # any finished runs

For each block of each trained SampleCNN, the input waveform that maximises every filter's mean activation is
found by gradient ascent from noise (:func:`sampleaudio.analysis.filter_spectra`); the figure shows their
magnitude spectra, filters sorted by peak frequency, with the mel curve m = 2595 log10(1 + f / 700) drawn over
them; one row per dataset. Writes OUT/kim2019_fig7/<profile>/kim2019_fig7.png and .csv (peak frequency of every
filter).
"""

from __future__ import annotations

import argparse
import os
import sys

import pandas as pd
from kim2019_figures import SETTINGS, analysed_runs, figure_arguments, synthetic_note

from sampleaudio.reporting import run_script


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    figure_arguments(p)
    args = p.parse_args(argv)
    from sampleaudio.analysis import filter_spectra
    from sampleaudio.runs import load_run
    from sampleaudio.stores import read_manifest

    settings = SETTINGS[args.profile]
    panels, rows = [], []
    for run_dir in analysed_runs(args):
        model, config, task = load_run(run_dir)
        sample_rate = read_manifest(config.data.data_dir).sample_rate
        blocks = filter_spectra(model, sample_rate, steps=settings["steps"], max_filters=settings["max_filters"],
                                seed=args.seed)
        panels.append((task.name, sample_rate, blocks))
        for b in blocks:
            rows += [{"dataset": task.name, "run": os.path.basename(run_dir), "block": b["block"], "rank": r,
                      "filter": int(f), "peak_hz": float(hz)} for r, (f, hz) in enumerate(zip(b["filters"],
                                                                                            b["peak_hz"]))]
    root = os.path.join(args.out, "kim2019_fig7", args.profile)
    os.makedirs(root, exist_ok=True)
    pd.DataFrame(rows).to_csv(os.path.join(root, "kim2019_fig7.csv"), index=False)
    _plot(panels, os.path.join(root, "kim2019_fig7.png"), args.profile)
    print(f"written: {root}/kim2019_fig7.png, kim2019_fig7.csv")
    return 0


def _plot(panels, path: str, profile: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sampleaudio.analysis import mel_curve

    ncols = max(len(blocks) for _, _, blocks in panels)
    fig, axes = plt.subplots(len(panels), ncols, figsize=(1.6 * ncols + 1, 1.8 * len(panels) + 0.6),
                             squeeze=False)
    for row, (name, sr, blocks) in enumerate(panels):
        for col in range(ncols):
            ax = axes[row][col]
            if col >= len(blocks):
                ax.axis("off")
                continue
            b = blocks[col]
            n = b["spectra"].shape[0]
            ax.imshow(b["spectra"].T, origin="lower", aspect="auto", cmap="magma",
                      extent=[0, n, 0, sr / 2000])
            rank, hz = mel_curve(n, sr)
            ax.plot(rank + 0.5, hz / 1000, color="cyan", linewidth=0.8)
            ax.set_xticks([])
            if col == 0:
                ax.set_ylabel(f"{name}\nkHz", fontsize=7)
            else:
                ax.set_yticks([])
            if row == 0:
                ax.set_title(f"block {b['block'] + 1}", fontsize=7)
            ax.tick_params(labelsize=6)
    fig.suptitle(f"Kim 2019 Fig. 7: filter spectra sorted by peak, mel curve in cyan — {profile}"
                 f"{synthetic_note(profile)}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(run_script(main))
