"""Choi, Lee, Park, Nam (ISMIR 2019): zero-shot tagging with an audio-word co-embedding, seen vs unseen tags, beside
the random-word-vector control.

    python reproductions/choi2019_zeroshot.py                    # demo: mini-mtat proxy + GloVe 6B 50-d, 2-core CPU
    python reproductions/choi2019_zeroshot.py --profile smoke    # the machinery only (tiny proxy, a few steps)
    python reproductions/choi2019_zeroshot.py --profile paper --data-root DATA --word-vectors glove.840B.300d.txt

Two co-embedding models are trained with the same seeded tag split (80 % seen, 20 % unseen) and track sets: one
whose word branch reads real word vectors (GloVe), one whose word branch reads a random vector per tag (the
authors' control: the same model without any relation between the words). Each is scored as the authors'
``eval.py`` on tracks B + C: seen tags, unseen tags (zero-shot: never used in training) and seen + unseen together
(generalised zero-shot); retrieval ranks tracks per tag, annotation ranks tags per track. A last row per setting
gives the same metrics of random scores. What the word vectors contribute is the gap between the GloVe rows and
the control rows on *unseen* tags: with random vectors an unseen tag's vector tells the model nothing.

Profiles: ``demo`` and ``smoke`` train on the ``mini-mtat`` proxy (synthetic: numbers NOT comparable to the
paper's) with the offline GloVe 6B 50-d (``pip install 'sampleaudio[zeroshot]'``); ``paper`` reads a multi-label
store ``--data-root/<--store>`` (MSD with the paper's Last.fm tags, converted by the user) and a 300-d GloVe text file.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import pandas as pd

from sampleaudio.cli_types import non_negative_int, positive_int
from sampleaudio.experiments.choi2019 import PROFILES, ZeroShotProfile, configs, describe  # noqa: F401  (the runs)
from sampleaudio.reporting import profile_arguments, run_experiments, run_script, write_results

SETTING_NAMES = {"seen": "seen tags", "zsl": "unseen tags (zero-shot)", "gzsl": "seen + unseen (generalised)"}
COLUMNS = {"retrieval ROC-AUC": "retrieval_roc_auc", "annotation ROC-AUC": "annotation_roc_auc",
           "retrieval MAP": "retrieval_map", "annotation MAP": "annotation_map",
           "retrieval AP@10": "retrieval_ap@10", "annotation hit@1": "annotation_hit@1",
           "annotation hit@5": "annotation_hit@5", "annotation AP@5": "annotation_ap@5"}


def store(profile: str, data_root: str | None, name: str, workers: int) -> str:
    p = PROFILES[profile]
    if p.synthetic:
        from sampleaudio.data_prep.synthetic import ensure

        return ensure("mini-mtat", size=p.size, root=data_root, workers=workers)
    if not data_root:
        raise SystemExit("the paper profile needs --data-root with a multi-label store (e.g. MSD tracks with the "
                         "paper's Last.fm tags, made by `sampleaudio prep`) and --word-vectors (a GloVe .txt)")
    return os.path.join(data_root, name)


def _col(setting: str, key: str) -> str:
    """The runs table's column of a metric (``@`` made ``_`` for CSV-friendly names)."""
    return f"{setting}_{key}".replace("@", "_")


def table_of(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for setting, label in SETTING_NAMES.items():
        for r in runs.itertuples():
            d = r._asdict()
            rows.append({"setting": label, "word vectors": f"{r.vectors} ({r.source})",
                         **{c: d.get(_col(setting, k), float("nan")) for c, k in COLUMNS.items()}})
        d = runs.iloc[0].to_dict()
        rows.append({"setting": label, "word vectors": "random scores (chance)",
                     **{c: d.get(_col(f"chance_{setting}", k), float("nan")) for c, k in COLUMNS.items()}})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    profile_arguments(parser)
    parser.add_argument("--word-vectors", default=None,
                        help="glove-6b-50d (offline wheel; demo/smoke default) or a GloVe .txt file (paper)")
    parser.add_argument("--store", default="msd-zeroshot", help="paper: the store's folder name under --data-root")
    parser.add_argument("--split-seed", type=non_negative_int, default=0, help="seed of the seen/unseen tag split")
    parser.add_argument("--workers", type=positive_int, default=2, help="processes generating the synthetic proxy")
    args = parser.parse_args(argv)
    if args.profile not in PROFILES:
        raise SystemExit(f"profile {args.profile!r}: choi2019_zeroshot has {', '.join(PROFILES)}")
    p = PROFILES[args.profile]
    word_vectors = args.word_vectors or p.word_vectors
    if not word_vectors:
        raise SystemExit("the paper profile needs --word-vectors (a 300-d GloVe .txt file)")
    started = time.time()
    data_dir = store(args.profile, args.data_root, args.store, args.workers)
    root = os.path.join(args.out, "choi2019_zeroshot", args.profile)
    grid = [c for s in range(args.seed, args.seed + args.seeds)
            for c in configs(args.profile, data_dir, s, word_vectors, args.split_seed)]
    runs = run_experiments(grid, os.path.join(root, "runs"))
    runs.columns = [c.replace("@", "_") for c in runs.columns]
    table = table_of(runs) if args.seeds == 1 else _mean_table(runs)
    first = runs.iloc[0]
    header = [f"# Choi et al. (ISMIR 2019) zero-shot tagging — {args.profile} profile", "",
              f"> {describe(args.profile, word_vectors)}",
              f"> Tags: {int(first.seen_tags)} seen, {int(first.unseen_tags)} unseen (split seed {args.split_seed}); "
              f"tracks A {int(first.tracks_A)}, B {int(first.tracks_B)}, C {int(first.tracks_C)}; every row is "
              "scored on B + C as the authors' eval.py. Retrieval: tracks ranked per tag; annotation: tags ranked "
              "per track.",
              "> The random control's word branch reads one random 50-d vector per tag: its unseen-tag rows show "
              "what the model does without word semantics; the gap to the GloVe rows is the word vectors' share."]
    if p.synthetic:
        header.append("> Synthetic proxy: no published number is printed beside it.")
    text = write_results(root, "choi2019_zeroshot", table, header, runs)
    print("\n" + text)
    print(f"wall time {time.time() - started:.0f} s; written: {root}/choi2019_zeroshot.md, .csv, _runs.csv",
          file=sys.stderr)
    return 0


def _mean_table(runs: pd.DataFrame) -> pd.DataFrame:
    from sampleaudio.reporting import mean_std

    rows = []
    for setting, label in SETTING_NAMES.items():
        for vectors, group in runs.groupby("vectors", sort=False):
            rows.append({"setting": label, "word vectors": f"{vectors} ({group.source.iloc[0]})",
                         **{c: mean_std(group[_col(setting, k)]) for c, k in COLUMNS.items()}})
        d = runs.iloc[0].to_dict()  # the tables scored are the same in every run (one split seed)
        rows.append({"setting": label, "word vectors": "random scores (chance)",
                     **{c: d.get(_col(f"chance_{setting}", k), float("nan")) for c, k in COLUMNS.items()}})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    sys.exit(run_script(main))
