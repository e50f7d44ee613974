"""Kim, Lee, Nam (IEEE JSTSP 2019) Fig. 4: mel-spectrogram CNN vs SampleCNN across first-layer window/hop.

    python reproductions/kim2019_fig4.py                         # demo: synthetic mini-mtat, CPU
    python reproductions/kim2019_fig4.py --profile paper --data-root DATA

For each (window, hop) in powers of 3, a mel-spectrogram model (window/hop STFT, 128 mel bands, log) and a
SampleCNN whose first conv has filter = window and stride = hop share the remaining blocks; (3, 3) is SampleCNN
itself. Writes a CSV and a plot of MTAT ROC-AUC against the hop size.
"""

from __future__ import annotations

import argparse
import os
import sys

import pandas as pd

from sampleaudio.experiments.kim2019 import (
    FIG4_SIZES as SIZES,  # noqa: F401  (the script's name for them)
)
from sampleaudio.experiments.kim2019 import (
    PROFILES,
    data_dir_for,
    fig4_configs,
    profile_description,
    protocol_description,
)
from sampleaudio.reporting import profile_arguments, run_experiments, run_script, write_results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    profile_arguments(p)
    args = p.parse_args(argv)
    data_dir = data_dir_for("mtat", args.profile, args.data_root)
    configs = fig4_configs(args.profile, data_dir, seed=args.seed)
    root = os.path.join(args.out, "kim2019_fig4", args.profile)
    runs = run_experiments(configs, os.path.join(root, "runs"))
    table = runs[["front end", "window", "hop", "roc_auc", "pr_auc", "parameters"]].rename(
        columns={"roc_auc": "ROC-AUC", "pr_auc": "PR-AUC"})
    header = [f"# Kim, Lee, Nam (2019) Fig. 4: mel-spectrogram vs raw waveform front ends — {args.profile}", "",
              f"> {profile_description(args.profile)}", f"> {protocol_description(configs[0][1])}"]
    print("\n" + write_results(root, "kim2019_fig4", table, header, runs))
    _plot(table, os.path.join(root, "kim2019_fig4.png"), args.profile)
    return 0


def _plot(table: pd.DataFrame, path: str, profile: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, group in table.groupby("front end"):
        group = group.sort_values("hop")
        ax.plot([f"{w}/{h}" for w, h in zip(group.window, group.hop)], group["ROC-AUC"], marker="o", label=name)
    ax.set_xlabel("first-layer window / hop (samples)")
    ax.set_ylabel("ROC-AUC")
    ax.set_title(f"Kim 2019 Fig. 4 ({profile}{', synthetic mini-mtat' if PROFILES[profile].synthetic else ''})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(run_script(main))
