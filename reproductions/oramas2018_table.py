"""Oramas, Barbieri, Nieto, Serra (TISMIR 2018): genre classification from the audio, the album cover and their
co-embedding, in the shape of the paper's table, with cross-modal retrieval in the shared space.

    python reproductions/oramas2018_table.py                    # demo: mini-albums proxy, 2-core CPU, minutes
    python reproductions/oramas2018_table.py --profile smoke    # the machinery only (tiny proxy, a few steps)
    python reproductions/oramas2018_table.py --profile paper --data-root DATA --store mumu --image-weights FILE

Three networks are trained (:mod:`sampleaudio.experiments.oramas2018`): the audio CNN on the CQT and the cover CNN,
each on the genres, then their co-embedding (the towers as trained, a linear projection each to a shared space,
a triplet loss pairing each track with its album's cover against other albums). Each album then has four feature
vectors: the audio CNN's (A, the mean over its tracks), the cover CNN's (V), and their co-embedded versions, the
visually-informed audio (mm-A) and the aurally-informed image (mm-V). The paper's rows are the authors' classifiers
(one dense layer on the L2-normalised, concatenated vectors) on each set, scored on the test albums: ROC-AUC,
PR-AUC (macro over genres) and MAP over each album's genre ranking for multi-label stores (MuMu, mini-albums);
accuracy and macro F1 for single-label ones (MSD-I). Chance (the training label frequencies) and two hand-made
baselines (MFCC statistics, image statistics; logistic regression) show what the numbers mean. A second table
gives retrieval in the shared space on the test albums: cover -> tracks and track -> cover, MAP and recall@k,
beside random scores.

Profiles: ``demo`` and ``smoke`` train on ``mini-albums`` (synthetic: numbers NOT comparable to the paper's; the
demo checks the halfway rule: the audio and image rows at least halfway from chance to their baselines, the
retrieval above chance); ``paper`` reads ``--data-root/<--store>`` (``mumu`` or ``msd-i``, made by ``sampleaudio
prep``). No published number is printed: the paper's tables could not be read for this package and the authors'
code releases none (``docs/papers/oramas2018.md``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import pandas as pd

from sampleaudio.cli_types import positive_int
from sampleaudio.experiments.oramas2018 import PROFILES, OramasProfile, configs, describe  # noqa: F401  (the runs)
from sampleaudio.reporting import (
    markdown_table,
    mean_std,
    profile_arguments,
    run_experiments,
    run_script,
    write_results,
)

RETRIEVAL = {"cover -> tracks MAP": "cover_to_tracks_map", "cover -> tracks R@1": "cover_to_tracks_recall_at_1",
             "cover -> tracks R@5": "cover_to_tracks_recall_at_5", "cover -> tracks R@10": "cover_to_tracks_recall_at_10",
             "track -> cover MAP": "track_to_cover_map", "track -> cover R@1": "track_to_cover_recall_at_1",
             "track -> cover R@5": "track_to_cover_recall_at_5", "track -> cover R@10": "track_to_cover_recall_at_10"}
#: the rows the halfway rule compares: trained row -> its baseline row
HALFWAY = {"audio (A)": "MFCC statistics + logistic regression (baseline)",
           "image (V)": "image statistics + logistic regression (baseline)"}


def store(profile: str, data_root: str | None, name: str, workers: int) -> str:
    p = PROFILES[profile]
    if p.synthetic:
        from sampleaudio.data_prep.synthetic import ensure

        return ensure("mini-albums", size=p.size, root=data_root, workers=workers)
    if not data_root:
        raise SystemExit("the paper profile needs --data-root with a store made by `sampleaudio prep mumu` or "
                         "`sampleaudio prep msd-i` (its folder name: --store)")
    return os.path.join(data_root, name)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    profile_arguments(parser)
    parser.add_argument("--store", default="mumu", help="paper: the store's folder under --data-root (mumu, msd-i)")
    parser.add_argument("--image-weights", default="",
                        help="a keras.applications ResNet50 ImageNet weight file (HDF5, no top) for the cover CNN; "
                             "default: trained from scratch")
    parser.add_argument("--workers", type=positive_int, default=2, help="processes generating the synthetic proxy")
    args = parser.parse_args(argv)
    from sampleaudio.experiments.oramas2018 import album_features, baseline_rows, halfway, table_rows
    from sampleaudio.families.oramas2018 import PAPER_SEGMENT
    from sampleaudio.families.oramas2018.albums import load_albums
    from sampleaudio.stores import Store

    started = time.time()
    p = PROFILES[args.profile]
    data_dir = store(args.profile, args.data_root, args.store, args.workers)
    multi_label = Store.open(data_dir).multi_label
    variant = "mumu" if multi_label else "msdi"
    root = os.path.join(args.out, "oramas2018_table", args.profile)
    runs_root = os.path.join(root, "runs")
    seeds = list(range(args.seed, args.seed + args.seeds))
    planned = [({**keys, "seed": s}, c) for s in seeds
               for keys, c in configs(args.profile, data_dir, runs_root, s, variant=variant,
                                      image_weights=args.image_weights)]
    runs = run_experiments(planned, runs_root)
    albums = load_albums(data_dir)
    rows = []
    for s in seeds:
        dirs = {r.run: r.run_dir for r in runs[runs.seed == s].itertuples()}
        features = album_features(dirs, albums, segment=p.segment or PAPER_SEGMENT, max_segments=p.max_eval_segments)
        rows += [{**row, "seed": s} for row in table_rows(features, albums, multi_label=multi_label, seed=s,
                                                          lr=p.fusion_lr)]
    baselines = baseline_rows(albums, multi_label=multi_label, image_size=p.image_size, seed=args.seed)
    per_seed = pd.DataFrame(rows)
    metrics = [c for c in per_seed.columns if c not in ("features", "seed")]
    table = pd.DataFrame([{"features": name, **{m: mean_std(list(g[m])) for m in metrics}}
                          for name, g in per_seed.groupby("features", sort=False)] + baselines)
    co = runs[runs.run == "coembedding"]
    retrieval = pd.DataFrame([{"scores": "co-embedding (test albums)", **{c: mean_std(list(co[k])) for c, k in
                                                                            RETRIEVAL.items()}},
                              {"scores": "random (chance)", **{c: float(co.iloc[0][f"chance_{k}"])
                                                               for c, k in RETRIEVAL.items()}}])
    header = [f"# Oramas et al. (TISMIR 2018): audio, album covers and their co-embedding — {args.profile} profile",
              "", f"> {describe(args.profile, variant)}",
              f"> Albums: {len(albums.albums_of('train'))} train, {len(albums.albums_of('valid'))} valid, "
              f"{len(albums.albums_of('test'))} test ({len(albums)} tracks); every row is scored on the test albums."]
    if multi_label:
        first = {r.run: r for r in runs[runs.seed == seeds[0]].itertuples()}
        header.append(f"> The subnetworks on their own (seed {seeds[0]}): the audio CNN's ROC-AUC "
                      f"{first['audio'].roc_auc:.4f} on the test tracks ({first['audio'].epochs} epochs), the cover "
                      f"CNN's {first['image'].roc_auc:.4f} on the test covers ({first['image'].epochs} epochs); "
                      "chance 0.5.")
        chance = table[table.features.str.startswith("chance")].iloc[0]
        checks = []
        for row, base in HALFWAY.items():
            ours, ref = table[table.features == row].iloc[0], table[table.features == base].iloc[0]
            for m in metrics:
                value = ours[m] if not isinstance(ours[m], str) else float(ours[m].split(" ± ")[0])
                checks.append((f"{row} {m}", halfway(value, chance[m], ref[m])))
        above = all(float(str(retrieval.iloc[0][c]).split(" ± ")[0]) > retrieval.iloc[1][c]
                    for c in RETRIEVAL if "MAP" in c)
        failed = [name for name, ok in checks if not ok]
        header.append(f"> Halfway rule (each cell at least halfway from chance to its baseline): "
                      f"{'met' if not failed else 'NOT met: ' + ', '.join(failed)}; retrieval MAP above chance in "
                      f"both directions: {'yes' if above else 'NO'}.")
    if p.synthetic:
        header.append("> Synthetic proxy: published numbers are shown only with --profile paper.")
    else:
        header.append("> Published numbers: none printed. The TISMIR paper's tables could not be read for this "
                      "package and the authors' code releases none (docs/papers/oramas2018.md).")
    if args.image_weights:
        header.append(f"> Cover CNN started from the ImageNet weights in {args.image_weights}.")
    if len(seeds) > 1:
        header.append(f"> {len(seeds)} runs per trained row (seeds {seeds[0]}-{seeds[-1]}): mean ± sample std.")
        per_seed.to_csv(os.path.join(root, "oramas2018_table_per_seed.csv"), index=False)
    reused = "; finished runs were reused" if (runs.seconds < 5).any() else ""
    header.append(f"> Wall time of this invocation: {time.time() - started:.0f} s (proxy generation, training, "
                  f"features and classifiers{reused}).")
    text = write_results(root, "oramas2018_table", table, header, runs)
    retrieval_text = "## Cross-modal retrieval in the shared space (test albums)\n\n" + markdown_table(retrieval) + "\n"
    with open(os.path.join(root, "oramas2018_table.md"), "a", encoding="utf-8") as f:
        f.write("\n" + retrieval_text)
    retrieval.to_csv(os.path.join(root, "oramas2018_retrieval.csv"), index=False)
    print("\n" + text + "\n" + retrieval_text)
    print(f"wall time {time.time() - started:.0f} s; written: {root}/oramas2018_table.md, .csv, _runs.csv, "
          "oramas2018_retrieval.csv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
