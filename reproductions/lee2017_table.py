"""Lee, Park, Kim, Nam (SMC 2017): SampleCNN 3^9 (basic blocks, SMC 2017 head) on MagnaTagATune.

    python reproductions/lee2017_table.py                        # demo: synthetic mini-mtat, CPU
    python reproductions/lee2017_table.py --profile paper --data-root DATA

Reports macro ROC-AUC and PR-AUC on the test split. With ``--profile paper`` the published ROC-AUC is printed
beside ours with its source; demo/smoke numbers are synthetic and never compared with it.

The run follows SMC 2017 as ``jongpillee/sampleCNN`` ran it (``protocol="smc2017"``): He uniform on every conv,
the raw waveform as input (no standardisation), the first 10 fixed segments of each clip as training examples,
SGD (Nesterov 0.9, lr 0.01 / 5 per stage, per-step decay 1e-6), batch 23, and in the paper profile early
stopping as Keras 1 ran ``patience=3`` (a stage ends after 4 epochs without improvement).
"""

from __future__ import annotations

import argparse
import os
import sys

import pandas as pd

from sampleaudio.experiments import data_dir_for, lee2017, profile_description, protocol_description
from sampleaudio.reporting import (
    profile_arguments,
    published_results,
    run_experiments,
    run_script,
    write_results,
)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    profile_arguments(p)
    args = p.parse_args(argv)
    data_dir = data_dir_for("mtat", args.profile, args.data_root)
    cfg = lee2017.config(args.profile, data_dir, seed=args.seed)
    root = os.path.join(args.out, "lee2017_table", args.profile)
    runs = run_experiments([({"model": "SampleCNN 3^9 (SMC 2017)"}, cfg)], os.path.join(root, "runs"))
    table = pd.DataFrame({"model": runs["model"], "ROC-AUC": runs["roc_auc"], "PR-AUC": runs["pr_auc"]})
    header = [f"# Lee et al. (SMC 2017) SampleCNN 3^9 on MTAT — {args.profile} profile", "",
              f"> {profile_description(args.profile)}",
              "> Setup: SMC 2017 code (jongpillee/sampleCNN, Keras 1.1): he_uniform on every conv, raw waveform "
              "input" + (", Keras 1 early stopping (patience 3 = 4 epochs without improvement)."
                         if args.profile == "paper" else "."),
              f"> {protocol_description(cfg)}"]
    if args.profile == "paper":
        pub = published_results()
        row = pub[(pub.paper == "lee2017") & (pub.dataset == "MTAT")].iloc[0]
        table["ROC-AUC (published)"] = [row.value]
        header.append(f"> Published: {row.value} — {row.source}.")
    print("\n" + write_results(root, "lee2017_table", table, header, runs))
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
