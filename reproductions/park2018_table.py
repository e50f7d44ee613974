"""Park, Lee, Park, Ha, Nam (ISMIR 2018) Tables 1-3: artist basic vs artist Siamese vs tag model features,
transferred to genre.

    python reproductions/park2018_table.py                    # demo: mini-artists proxies, 2-core CPU
    python reproductions/park2018_table.py --profile smoke    # a few minutes: the machinery only
    python reproductions/park2018_table.py --profile paper --data-root DATA   # real stores, GPU
    python reproductions/park2018_table.py --seeds 2          # every trained row twice: mean ± std, ranking stability

Three models are trained on the source songs: the basic model (softmax over artists), the Siamese model (anchor,
positive, 4 negatives; max-margin 0.4) and the tag model (the same encoder, sigmoid over the songs' tags, binary
cross-entropy), all as the authors' code trains them (SGD lr 0.1, Nesterov 0.9, time decay 1e-6, batch 15, one
random 129-frame crop per song per epoch; the schedule that produced the released Siamese model, or with
``--schedule public`` the public ``train.py``'s fixed epochs: :mod:`sampleaudio.experiments.park2018`).
The paper does not publish the tag model's song list; here it is trained on the same songs as the artist models
(``msd-tags``: the MSD artist list with the songs' Last.fm tags), so that the three differ in their labels alone.
Each gives song features on the target set as the authors'
``encoding_cnn.py`` (last conv block's ReLU, max over time, mean over non-overlapping 129-frame segments), scored
with genre as the label: Table 1 MAP of cosine retrieval (test songs query the training songs), Table 2 kNN
accuracy (k = 20 training songs), Table 3 linear softmax classifier accuracy as ``run_gtzan_dnn.py`` (trained on
every training song, stopped on the validation loss of the target's valid split and reloaded at its best; mean of
10 seeded trials: :mod:`sampleaudio.families.artist_cnn.linear`).

Two reference rows that the paper does not have show what the numbers mean: the same encoder with random
weights (what training adds) and MFCC statistics (a classic hand-made feature).

Profiles: ``demo`` and ``smoke`` train on ``mini-artists`` (artists) and ``mini-artists-tags`` (the same songs
with provenance tags: style, instruments, tempo, dynamics; see its module for how far that mirrors Last.fm tags)
and evaluate on ``mini-artists-genres`` (synthetic: numbers NOT comparable to the paper's); ``paper`` reads
``msd-artist`` and ``msd-tags`` (sources) and ``gtzan`` / ``fma-small`` (targets) stores from ``--data-root`` and
prints the published numbers beside ours (without an ``msd-tags`` store the tag model's row holds the published
numbers only).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import pandas as pd

from sampleaudio.cli_types import positive_int
from sampleaudio.experiments.park2018 import (  # noqa: F401  (the runs)
    PROFILES,
    SCHEDULES,
    ParkProfile,
    configs,
    describe,
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

PAPER_TARGETS = {"gtzan": "GTZAN (fault-filtered)", "fma-small": "FMA small"}
MODELS = {"basic": "artist basic", "siamese": "artist siamese", "tag": "tag model"}
#: each model's score on its own source task: artist accuracy, artist retrieval MAP, tag ROC-AUC (macro)
SOURCE_METRIC = {"basic": "accuracy", "siamese": "artist_map", "tag": "roc_auc"}
METRICS = ("MAP", "kNN accuracy", "linear softmax accuracy")  # Tables 1, 2 and 3


def stores(profile: str, data_root: str | None, workers: int) -> tuple[str, str | None, dict[str, str]]:
    """The artist source store, the tag source store (``None``: none on real data) and the target stores."""
    p = PROFILES[profile]
    if p.synthetic:
        from sampleaudio.data_prep.synthetic import ensure

        source = ensure("mini-artists", size=p.size, root=data_root, workers=workers)
        tags = ensure("mini-artists-tags", size=p.size, root=data_root, workers=workers)
        return source, tags, {"mini-artists-genres": ensure("mini-artists-genres", size=p.size, root=data_root,
                                                            workers=workers)}
    if not data_root:
        raise SystemExit("the paper profile needs --data-root with stores msd-artist/ (and msd-tags/ for the tag "
                         "model) and gtzan/ and/or fma-small/ (made by `sampleaudio prep`)")
    targets = {k: os.path.join(data_root, k) for k in PAPER_TARGETS if os.path.isdir(os.path.join(data_root, k))}
    if not targets:
        raise SystemExit(f"no target store (gtzan/, fma-small/) under {data_root}")
    tags = os.path.join(data_root, "msd-tags")
    return os.path.join(data_root, "msd-artist"), tags if os.path.isdir(tags) else None, targets


def songs(data_dir: str, split: str) -> tuple[list[np.ndarray], np.ndarray]:
    from sampleaudio.pipeline import read_clips

    audio, labels = [], []
    for ex in read_clips(data_dir, split).as_numpy_iterator():
        audio.append(ex["audio"])
        labels.append(int(np.argmax(ex["labels"])))
    return audio, np.array(labels)


def song_features(embedder, audio: list[np.ndarray], samples: int, batch: int = 16) -> np.ndarray:
    """The song feature of every song: its first ``samples`` samples (short songs tiled)."""
    x = np.stack([a[np.arange(samples) % a.size] for a in audio])[..., None].astype(np.float32)
    return np.concatenate([np.asarray(embedder(x[i:i + batch], training=False)) for i in range(0, len(x), batch)])


def transfer_scores(train, y_train, valid, y_valid, test, y_test, trials: int, seed: int) -> dict[str, float]:
    from sampleaudio.families.artist_cnn.linear import linear_softmax_accuracy
    from sampleaudio.metrics import knn_accuracy, retrieval_map

    k = min(20, len(train))
    return {"MAP": retrieval_map(test, y_test, train, y_train),
            "kNN accuracy": knn_accuracy(train, y_train, test, y_test, k=k),
            "linear softmax accuracy": linear_softmax_accuracy(train, y_train, valid, y_valid, test, y_test,
                                                               trials=trials, seed=seed)}


def with_published(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``table`` with a ``<metric> (published)`` column beside each of ours (real targets only: the paper's
    numbers for the same target and model, from ``published_results.csv``) and the sources cited."""
    pub = published_results()
    pub = pub[pub.paper == "park2018"]
    table = table.copy()
    for published, ours in zip(("MAP", "kNN accuracy (k=20)", "linear softmax accuracy"), METRICS):
        sub = pub[pub.metric == published]
        values = {(d, m): v for d, m, v in zip(sub.dataset, sub.model, sub.value)}
        table[f"{ours} (published)"] = [values.get((PAPER_TARGETS.get(t, t), m), float("nan"))
                                        for t, m in zip(table.target, table.model)]
    return table, sorted(set(pub.source))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    profile_arguments(parser)
    parser.add_argument("--schedule", default="release", choices=list(SCHEDULES),
                        help="; ".join(f"{k}: {v}" for k, v in SCHEDULES.items()))
    parser.add_argument("--workers", type=positive_int, default=2, help="processes generating the synthetic proxies")
    args = parser.parse_args(argv)
    import keras

    from sampleaudio.baselines import mfcc_statistics
    from sampleaudio.families.artist_cnn.model import (
        PARK2018_FRAMES,
        PARK2018_HOP,
        ArtistEncoder,
        song_embedder_from,
    )

    p = PROFILES[args.profile]
    source, tags, targets = stores(args.profile, args.data_root, args.workers)
    root = os.path.join(args.out, "park2018_table", args.profile + ("" if args.schedule == "release"
                                                                    else f"-{args.schedule}"))
    seeds = [args.seed + k for k in range(args.seeds)]
    planned = []
    for seed in seeds:
        for keys, config in configs(args.profile, source, seed, tags, schedule=args.schedule):
            if seed != 0:
                config.name += f"-seed{seed}"
            planned.append(({**keys, "seed": seed}, config))
    runs = run_experiments(planned, os.path.join(root, "runs"))
    samples = p.segments * PARK2018_FRAMES * PARK2018_HOP
    embedders = {}
    for seed in seeds:
        for row in runs[runs.seed == seed].itertuples():
            trained = keras.saving.load_model(os.path.join(row.run_dir, "best.keras"))
            embedders[MODELS[row.model], seed] = song_embedder_from(trained, segments=p.segments)
        keras.utils.set_random_seed(seed)
        embedders["random-weights encoder (reference)", seed] = song_embedder_from(ArtistEncoder(),
                                                                                    segments=p.segments)

    rows = []
    for target, data_dir in targets.items():
        (a_train, y_train), (a_valid, y_valid), (a_test, y_test) = (songs(data_dir, s) for s in
                                                                    ("train", "valid", "test"))
        for (name, seed), embedder in embedders.items():
            feats = [song_features(embedder, a, samples) for a in (a_train, a_valid, a_test)]
            scores = transfer_scores(feats[0], y_train, feats[1], y_valid, feats[2], y_test, p.trials, seed)
            rows.append({"target": target, "model": name, "seed": seed, **scores})
        mfcc = [np.stack([mfcc_statistics(a) for a in split]) for split in (a_train, a_valid, a_test)]
        rows.append({"target": target, "model": "MFCC statistics (reference)",
                     **transfer_scores(mfcc[0], y_train, mfcc[1], y_valid, mfcc[2], y_test, p.trials, args.seed)})
        if tags is None:  # real data without an msd-tags store: the published numbers only
            rows.append({"target": target, "model": "tag model", "MAP": float("nan"), "kNN accuracy": float("nan"),
                         "linear softmax accuracy": float("nan")})
        chance = float(np.max(np.bincount(y_test)) / len(y_test))
        rows.append({"target": target, "model": "chance (majority genre)", "MAP": float("nan"),
                     "kNN accuracy": chance, "linear softmax accuracy": chance})
    per_seed = pd.DataFrame(rows).astype({"seed": "Int64"})  # none on the seed-free reference rows
    cells = per_seed.groupby(["target", "model"], sort=False)
    table = pd.DataFrame([{"target": t, "model": m, **{k: mean_std(list(g[k])) for k in METRICS}}
                          for (t, m), g in cells])
    header = [f"# Park et al. (ISMIR 2018) Tables 1-3, genre transfer of artist and tag features — {args.profile} profile", "",
              f"> {describe(args.profile, args.schedule)}"]
    if not p.synthetic:
        table, sources = with_published(table)
        header.append(f"> Published: {'; '.join(sources)} (sampleaudio/data/published_results.csv).")
        if tags is None:
            header.append("> No msd-tags store under --data-root: the tag model is not trained, its row holds the "
                          "published numbers only.")
    else:
        header.append("> Synthetic proxy: published numbers are shown only with --profile paper (real data). The "
                      "tag model's proxy labels are mini-artists-tags' provenance tags of the same songs; its style "
                      "tags name the target's genres, as Last.fm's top 50 holds GTZAN's.")
    source_rows = []
    for model, group in runs.groupby("model", sort=False):
        value = mean_std(list(group[SOURCE_METRIC[model]]))
        source_rows.append(f"{MODELS[model]}: {SOURCE_METRIC[model]} "
                           f"{value if isinstance(value, str) else format(value, '.4f')} on the source test split "
                           f"({'/'.join(str(e) for e in group.epochs)} epochs)")
    header.append("> Source task: " + "; ".join(source_rows) + ".")
    if len(seeds) > 1:
        header.append(f"> {len(seeds)} runs per trained row (seeds {seeds[0]}-{seeds[-1]}): mean ± sample std; "
                      "every seed's numbers in park2018_table_per_seed.csv.")
        trained = per_seed[per_seed.model.isin(MODELS.values())]
        agreement = [sign_agreement(trained, metric, ["target"], "model", (seeds[0], seeds[1])) for metric in METRICS]
        header.append(f"> Ranking stability: {sum(k for k, _ in agreement)} of {sum(t for _, t in agreement)} "
                      f"pairwise comparisons of the trained models (per target and metric) keep their sign between "
                      f"seeds {seeds[0]} and {seeds[1]}.")
        per_seed.to_csv(os.path.join(root, "park2018_table_per_seed.csv"), index=False)
    text = write_results(root, "park2018_table", table, header, runs)
    print("\n" + text)
    print(f"written: {root}/park2018_table.md, .csv, _runs.csv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
