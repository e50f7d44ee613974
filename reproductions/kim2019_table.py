"""Kim, Lee, Nam (IEEE JSTSP 2019), the block x multi-level comparison over MTAT, Speech Commands and DCASE.

    python reproductions/kim2019_table.py                       # demo: embedded synthetic benchmark, CPU
    python reproductions/kim2019_table.py --profile smoke       # a minute or two
    python reproductions/kim2019_table.py --profile paper --data-root DATA   # real data, GPU

Each task reports the paper's metric: MTAT macro ROC-AUC, Speech Commands argmax accuracy, DCASE instance
F-score at threshold 0.1. Finished runs are reused, so an interrupted table resumes. With ``--profile paper`` the
published MTAT numbers (ICASSP 2018 poster, same block study) are printed beside ours with their source; the
JSTSP Speech Commands and DCASE tables were not found in any reachable source and stay empty.
"""

from __future__ import annotations

import argparse
import os
import sys

import pandas as pd

from sampleaudio.experiments import PROFILES, data_dir_for, experiment, profile_description
from sampleaudio.reporting import (
    mean_std,
    profile_arguments,
    published_results,
    run_experiments,
    sign_agreement,
    write_results,
)

BLOCKS = ["basic", "se", "res1", "res2", "rese1", "rese2"]
TASKS = {"mtat": ("roc_auc", "MTAT ROC-AUC"), "speech-commands": ("accuracy", "SCD accuracy"),
         "dcase2017": ("instance_f1", "DCASE F-score")}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    profile_arguments(p)
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    p.add_argument("--blocks", nargs="+", default=None, choices=BLOCKS,
                   help="default: all six (smoke: basic and se)")
    p.add_argument("--multi", default="both", choices=["both", "yes", "no"], help="multi-level aggregation")
    p.add_argument("--workers", type=int, default=2, help="processes generating the synthetic proxies")
    p.add_argument("--baselines", default=None, action=argparse.BooleanOptionalAction,
                   help="rows for chance (best constant prediction) and the MFCC + logistic-regression "
                        "baseline of each store (default: on for synthetic profiles)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    blocks = args.blocks or (["basic", "se"] if args.profile == "smoke" else BLOCKS)
    multis = {"both": [False, True], "yes": [True], "no": [False]}[args.multi]
    seeds = [args.seed + k for k in range(args.seeds)]
    configs, stores = [], {}
    for task in args.tasks:
        stores[task] = data_dir = data_dir_for(task, args.profile, args.data_root, workers=args.workers)
        for block in blocks:
            for multi in multis:
                for seed in seeds:
                    cfg = experiment(task, args.profile, data_dir, seed=seed, block=block, multi=multi)
                    if seed != 0:
                        cfg.name += f"-seed{seed}"
                    configs.append(({"task": task, "block": block, "multi": multi, "seed": seed}, cfg))
    root = os.path.join(args.out, "kim2019_table", args.profile)
    runs = run_experiments(configs, os.path.join(root, "runs"))

    table = pd.DataFrame({"block": [b for b in blocks for _ in multis], "multi-level": [m for _ in blocks for m in multis]})
    for task in args.tasks:
        metric, title = TASKS[task]
        cells = runs[runs.task == task].groupby(["block", "multi"])[metric].apply(list)
        table[title] = [mean_std(cells.get((b, m), [])) for b, m in zip(table["block"], table["multi-level"])]
        if args.profile == "paper" and task == "mtat":
            pub = published_results()
            pub = pub[(pub.paper == "kim2018") & (pub.dataset == "MTAT") & (pub.metric == "ROC-AUC")]
            values = dict(zip(pub.variant, pub.value))
            sources = sorted(set(pub.source))
            table["MTAT ROC-AUC (published)"] = [values.get(b + ("+multi" if m else ""), float("nan"))
                                                 for b, m in zip(table["block"], table["multi-level"])]
    table["multi-level"] = table["multi-level"].map({True: "yes", False: "no"})
    header = [f"# Kim, Lee, Nam (2019) block x multi-level comparison — {args.profile} profile", "",
              f"> {profile_description(args.profile)}"]
    if len(seeds) > 1:
        header.append(f"> {len(seeds)} runs per cell (seeds {seeds[0]}-{seeds[-1]}): mean ± sample std.")
    if args.baselines if args.baselines is not None else PROFILES[args.profile].synthetic:
        table = pd.concat([table, _baseline_rows(stores, root, table.columns)], ignore_index=True)
        header.append("> Reference rows: *chance* is the best constant prediction (training label frequencies, or "
                      "every class for thresholded metrics); *MFCC + logistic regression* is the store's sanity "
                      "baseline (mean/std of 20 MFCCs and deltas per clip), on the same test split.")
    if args.profile == "paper" and "mtat" in args.tasks:
        header.append(f"> Published MTAT ROC-AUC: {'; '.join(sources)} (reproductions/published_results.csv).")
    elif PROFILES[args.profile].synthetic:
        header.append("> Published numbers are shown only with --profile paper (real data).")
    if len(seeds) > 1:
        kept, total = 0, 0
        for task in args.tasks:
            k, t = sign_agreement(runs[runs.task == task], TASKS[task][0], ["multi"], "block", (seeds[0], seeds[1]))
            k2, t2 = sign_agreement(runs[runs.task == task], TASKS[task][0], ["block"], "multi", (seeds[0], seeds[1]))
            kept, total = kept + k + k2, total + t + t2
        header.append(f"> Ranking stability: {kept} of {total} pairwise comparisons (block vs block at each "
                      f"multi-level setting, multi-level vs not for each block) keep their sign between seeds "
                      f"{seeds[0]} and {seeds[1]}.")
    text = write_results(root, "kim2019_table", table, header, runs)
    print("\n" + text)
    print(f"written: {root}/kim2019_table.md, .csv, _runs.csv", file=sys.stderr)
    return 0


def _baseline_rows(stores: dict[str, str], root: str, columns) -> pd.DataFrame:
    """The chance and MFCC-baseline rows, one value per task column (cached under ``root``)."""
    from data_prep.synthetic.sanity import baselines

    rows = {"chance": {"block": "chance (best constant)", "multi-level": "—"},
            "mfcc": {"block": "MFCC + logistic regression", "multi-level": "—"}}
    for task, data_dir in stores.items():
        metric, title = TASKS[task]
        found = baselines(data_dir, cache_dir=os.path.join(root, "baselines"))
        for kind in rows:
            rows[kind][title] = found[kind][metric]
    return pd.DataFrame(list(rows.values()), columns=[c for c in columns if c in rows["chance"] or c in
                                                      {TASKS[t][1] for t in stores}])


if __name__ == "__main__":
    sys.exit(main())
