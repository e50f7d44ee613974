"""Kim, Lee, Nam (IEEE JSTSP 2019), the block x multi-level comparison over MTAT, Speech Commands and DCASE.

    python reproductions/kim2019_table.py                       # demo: embedded synthetic benchmark, CPU
    python reproductions/kim2019_table.py --profile smoke       # a minute or two
    python reproductions/kim2019_table.py --profile paper --data-root DATA   # real data, GPU

Each task reports the paper's metric: MTAT macro ROC-AUC, Speech Commands argmax accuracy, DCASE instance
F-score at threshold 0.1. Finished runs are reused, so an interrupted table resumes. With ``--profile paper`` the
published MTAT numbers (ICASSP 2018 poster, same block study) are printed beside ours with their source; the
JSTSP Speech Commands and DCASE tables were not found in any reachable source and stay empty.

Protocols: ``--protocol jstsp2019`` (default) is the JSTSP code's setup (``tae-jun/sampleaudio``: SE amplifying
ratio 0.125, its variance-scaling initialiser); ``--protocol icassp2018`` is the ICASSP 2018 code's
(``tae-jun/resemul``: ratio 16, ``he_uniform``, Keras 2.0.5 early stopping), which produced the published MTAT
column, so that comparison is like for like. ``--amplifying-ratio`` / ``--initializer`` override either.

Baseline rows (``--baselines``; all of them by default in the paper profile, none in demo/smoke): SampleCNN
"with RNN" (Table I: the first 4 / 4 / 5 blocks for MTAT / SCD / DCASE, then an LSTM), a frame-level raw-waveform
CNN (Dieleman 2014, 243-sample frames) and a mel-spectrogram CNN (window 729, hop 243, 128 bands).

Reference rows (``--reference-rows``; on by default for the synthetic profiles): chance (the best constant
prediction) and the store's MFCC + logistic-regression sanity baseline, so a reader sees where the models stand.
``--seeds N`` trains every cell N times (seeds SEED, SEED+1, ...): cells show mean ± std and the header says how
many pairwise comparisons keep their sign between the first two seeds.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys

import pandas as pd

from sampleaudio.cli_types import positive_float, positive_int
from sampleaudio.experiments.kim2019 import (
    BASELINES,
    BLOCKS,
    PROFILES,
    PROTOCOLS,
    data_dir_for,
    profile_description,
    protocol_description,
    table_configs,
)
from sampleaudio.reporting import (
    mean_std,
    profile_arguments,
    published_results,
    run_experiments,
    run_script,
    sign_agreement,
    write_results,
)

TASKS = {"mtat": ("roc_auc", "MTAT ROC-AUC"), "speech-commands": ("accuracy", "SCD accuracy"),
         "dcase2017": ("instance_f1", "DCASE F-score")}
SETUPS = {"jstsp2019": "JSTSP 2019 code (tae-jun/sampleaudio)", "icassp2018": "ICASSP 2018 code (tae-jun/resemul)"}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    profile_arguments(p)
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    p.add_argument("--blocks", nargs="+", default=None, choices=BLOCKS,
                   help="default: all six (smoke: basic and se)")
    p.add_argument("--multi", default="both", choices=["both", "yes", "no"], help="multi-level aggregation")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="processes generating the synthetic proxies (default 2) and training the runs that fix "
                        "their threads (the demo's one-thread runs; default: one per CPU)")
    p.add_argument("--protocol", default="jstsp2019", choices=list(SETUPS),
                   help="jstsp2019: the JSTSP code's setup; icassp2018: the code behind the published MTAT column "
                        "(SE ratio 16, he_uniform, Keras 2.0.5 patience)")
    p.add_argument("--amplifying-ratio", type=positive_float, default=None, help="SE ratio (default: the protocol's)")
    p.add_argument("--initializer", default=None, choices=["jstsp", "he_uniform"],
                   help="conv initialiser (default: the protocol's)")
    p.add_argument("--baselines", nargs="*", default=None, choices=list(BASELINES),
                   help="baseline rows (default: all in the paper profile, none otherwise)")
    p.add_argument("--reference-rows", default=None, action=argparse.BooleanOptionalAction,
                   help="rows for chance (best constant prediction) and the MFCC + logistic-regression "
                        "baseline of each store (default: on for synthetic profiles)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    blocks = args.blocks or (["basic", "se"] if args.profile == "smoke" else BLOCKS)
    multis = {"both": [False, True], "yes": [True], "no": [False]}[args.multi]
    baselines = args.baselines if args.baselines is not None else (list(BASELINES) if args.profile == "paper" else [])
    overrides = {k: v for k, v in (("amplifying_ratio", args.amplifying_ratio), ("initializer", args.initializer))
                 if v is not None}
    rows = [("SampleCNN", {"block": b, "multi": m}) for b in blocks for m in multis]
    rows += [BASELINES[b] for b in baselines]
    seeds = [args.seed + k for k in range(args.seeds)]
    stores = {task: data_dir_for(task, args.profile, args.data_root, workers=args.workers or 2) for task in args.tasks}
    configs = table_configs(stores, args.profile, rows, seeds, protocol=args.protocol, overrides=overrides)
    root = os.path.join(args.out, "kim2019_table",
                        args.profile + ("" if args.protocol == "jstsp2019" else f"-{args.protocol}"))
    reference = args.reference_rows if args.reference_rows is not None else PROFILES[args.profile].synthetic
    with concurrent.futures.ThreadPoolExecutor(1) as beside:
        # the reference baselines read every clip on one core: beside the training runs, not after them
        references = beside.submit(_reference_rows, stores, root, bool(baselines)) if reference else None
        runs = run_experiments(configs, os.path.join(root, "runs"), workers=args.workers)
        references = references.result() if references else None

    table = pd.DataFrame({"model": [label for label, _ in rows], "block": [f.get("block", "—") for _, f in rows],
                          "multi-level": [f.get("multi", False) for _, f in rows]})
    for task in args.tasks:
        metric, title = TASKS[task]
        cells = runs[runs.task == task].groupby(["model", "block", "multi"])[metric].apply(list)
        table[title] = [mean_std(cells.get((lab, b, m), []))
                        for lab, b, m in zip(table["model"], table["block"], table["multi-level"])]
        if args.profile == "paper" and task == "mtat":
            pub = published_results()
            pub = pub[(pub.paper == "kim2018") & (pub.dataset == "MTAT") & (pub.metric == "ROC-AUC")]
            values = dict(zip(pub.variant, pub.value))
            sources = sorted(set(pub.source))
            table["MTAT ROC-AUC (published)"] = [
                values.get(b + ("+multi" if m else ""), float("nan")) if lab == "SampleCNN" else float("nan")
                for lab, b, m in zip(table["model"], table["block"], table["multi-level"])]
    table["multi-level"] = table["multi-level"].map({True: "yes", False: "no"})
    if not baselines:
        table = table.drop(columns="model")  # only SampleCNN rows: the table keeps its block x multi shape
    example = configs[0][1]
    ratio = overrides.get("amplifying_ratio", PROTOCOLS[args.protocol]["model"].get("amplifying_ratio", 0.125))
    init = overrides.get("initializer", PROTOCOLS[args.protocol]["model"].get("initializer", "jstsp"))
    header = [f"# Kim, Lee, Nam (2019) block x multi-level comparison — {args.profile} profile", "",
              f"> {profile_description(args.profile)}",
              f"> Setup: {SETUPS[args.protocol]}: SE amplifying ratio {ratio:g}, conv initialiser {init}"
              + (" (overridden)" if overrides else "") + ".",
              f"> {protocol_description(example)}"]
    if args.profile == "paper" and "mtat" in args.tasks:
        header.append(f"> Published MTAT ROC-AUC: {'; '.join(sources)} (sampleaudio/data/published_results.csv). "
                      "Those numbers come from the ICASSP 2018 code (SE amplifying ratio 16, he_uniform, Keras 2.0.5 "
                      "patience semantics): --protocol icassp2018 compares like for like"
                      + ("; this table does." if args.protocol == "icassp2018" and not overrides
                         else "; this table does NOT run that setup."))
    elif PROFILES[args.profile].synthetic:
        header.append("> Published numbers are shown only with --profile paper (real data).")
    if len(seeds) > 1:
        header.append(f"> {len(seeds)} runs per cell (seeds {seeds[0]}-{seeds[-1]}): mean ± sample std.")
        sampled = runs[runs.model == "SampleCNN"]
        kept = total = 0
        for task in args.tasks:
            for groups, compare in ((["multi"], "block"), (["block"], "multi")):
                k, t = sign_agreement(sampled[sampled.task == task], TASKS[task][0], groups, compare,
                                      (seeds[0], seeds[1]))
                kept, total = kept + k, total + t
        header.append(f"> Ranking stability: {kept} of {total} pairwise comparisons (block vs block at each "
                      f"multi-level setting, multi-level vs not for each block) keep their sign between seeds "
                      f"{seeds[0]} and {seeds[1]}.")
    if references is not None:
        table = pd.concat([table, references], ignore_index=True)
        header.append("> Reference rows: *chance* is the best constant prediction (training label frequencies, or "
                      "every class for thresholded metrics); *MFCC + logistic regression* is the store's sanity "
                      "baseline (mean/std of 20 MFCCs and deltas per clip), on the same test split.")
    text = write_results(root, "kim2019_table", table, header, runs)
    print("\n" + text)
    print(f"written: {root}/kim2019_table.md, .csv, _runs.csv", file=sys.stderr)
    return 0


def _reference_rows(stores: dict[str, str], root: str, with_model: bool) -> pd.DataFrame:
    """The chance and MFCC-baseline rows, one value per task column (cached under ``root``)."""
    from sampleaudio.baselines import baselines

    rows = {"chance": "chance (best constant)", "mfcc": "MFCC + logistic regression"}
    out = []
    for kind, name in rows.items():
        row = {"model": name, "block": "—", "multi-level": "—"} if with_model else {"block": name,
                                                                                    "multi-level": "—"}
        for task, data_dir in stores.items():
            metric, title = TASKS[task]
            row[title] = baselines(data_dir, cache_dir=os.path.join(root, "baselines"))[kind][metric]
        out.append(row)
    return pd.DataFrame(out)


if __name__ == "__main__":
    sys.exit(run_script(main))
