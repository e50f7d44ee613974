"""Choi, Fazekas, Sandler, Cho (ISMIR 2017): transfer learning with convnet features, layer by layer and all
layers together, next to the MFCC baseline, with an SVM chosen by grid search.

    python reproductions/choi2017_transfer.py                        # demo: the convnet trained on mini-mtat, musicnn
    python reproductions/choi2017_transfer.py --profile smoke        # a few steps: the machinery only
    python reproductions/choi2017_transfer.py --profile paper --data-root DATA --source-data DATA/msd-tags-12k

Sources: ``choi2017`` is the paper's own convnet (``--architecture choi2017_convnet``: 5 x 32-channel conv blocks
over a 12 kHz log-mel spectrogram), trained here on the profile's tag store (paper: ``--source-data``, a 12 kHz tag
store; demo: mini-mtat resampled to 12 kHz) and fed as the authors' extractor feeds it (12 kHz, the first 29 s,
zero-padded); a feature is each block's output after BN, ELU and max-pool, averaged (five 32-d, 160-d together).
Other sources are registered pretrained models (``musicnn-mtt`` ...) or training-run folders (their blocks'
outputs after BN, activation and pooling, or their family's named features).

Targets: paper: stores of GTZAN, Extended Ballroom and UrbanSound8K under ``--data-root`` (``sampleaudio prep``);
demo: ``mini-speech-commands`` (35 words) and ``mini-dcase`` (17 events, multi-label).

Two protocols, both printed: ``CV`` is the authors' (``2_main_knn_svm_transfer.py``): every clip, the grid (an
optional StandardScaler and the SVC's) searched by 10-fold unshuffled stratified CV in the dataset's order, or by
UrbanSound8K's predefined folds, and the best grid point's CV accuracy reported, chosen on the same folds;
``test`` is stricter: the grid searched by 5-fold CV on train + valid clips, the choice scored on the test split
(multi-label targets: one SVM per label, macro ROC-AUC; the CV protocol is single-label). The published
numbers (the authors' stored results) are printed beside the authors' convnet and MFCC rows only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

from sampleaudio.cli_types import positive_int
from sampleaudio.errors import ParameterError
from sampleaudio.experiments.choi2017 import (
    DEMO_TARGETS,
    PAPER_TARGETS,
    PROFILES,
    describe,
    source_config,
    source_store,
)
from sampleaudio.reporting import (
    markdown_table,
    profile_arguments,
    published_results,
    run_experiments,
    run_script,
)
from sampleaudio.stores import Store
from sampleaudio.transfer import (
    choi2017_inputs,
    choi2017_mfcc_features,
    cross_validate_svm,
    fit_svm,
    layer_features,
    librosa_mfcc_features,
    read_all,
)

#: targets whose stores carry the dataset's own folds (the authors' PredefinedSplit)
FOLD_TARGETS = ("urbansound8k",)
PAPER_MFCC = "MFCC, Choi 2017's (12 kHz, first differences; 120-d)"
PAPER_CONVNET = "all layers"


def _targets(profile: str, data_root: str | None) -> dict[str, str]:
    if profile == "paper":
        if not data_root:
            raise ParameterError("--profile paper needs --data-root with stores gtzan/, ballroom/, urbansound8k/")
        found = {t: os.path.join(data_root, t) for t in PAPER_TARGETS if os.path.isdir(os.path.join(data_root, t))}
        if not found:
            raise ParameterError(f"no target store ({', '.join(PAPER_TARGETS)}) under {data_root}")
        return found
    from sampleaudio.data_prep.synthetic import ensure

    size = "small" if profile == "smoke" else "default"
    return {name: ensure(name, size=size, root=data_root) for name in DEMO_TARGETS}


def _subsample(n: int, keep: int | None, labels: np.ndarray, seed: int) -> np.ndarray:
    """Rows kept (in order): all, or a seeded subset of ``keep``."""
    if keep is None or n <= keep:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, keep, replace=False))


def _scores(x, y, target, folds, train_rows, test_rows, seed) -> dict:
    single = bool((y.sum(axis=1) == 1).all())
    out = {}
    if single:
        cv = cross_validate_svm(x, y, folds=folds)
        out.update({"CV": cv.score, "CV protocol": cv.metric})
    held = fit_svm(x[train_rows], y[train_rows], x[test_rows], y[test_rows], seed=seed)
    out.update({"test": held.score, "test metric": held.metric})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    profile_arguments(p)
    p.add_argument("--sources", nargs="+", default=None,
                   help="choi2017 (the paper's convnet, trained here), registered pretrained models or run folders "
                        "(default: demo choi2017 musicnn-mtt; paper choi2017)")
    p.add_argument("--source-data", default=None, help="paper: the 12 kHz tag store the convnet trains on")
    p.add_argument("--targets", nargs="+", default=None, help="default: the profile's")
    p.add_argument("--max-clips", type=positive_int, default=None,
                   help="clips per target (a seeded subset; default: demo 700, paper all)")
    p.add_argument("--no-layerwise", action="store_true", help="only all layers together and the MFCCs")
    args = p.parse_args(argv)
    profile = PROFILES[args.profile]
    sources = args.sources or (["choi2017", "musicnn-mtt"] if profile.synthetic else ["choi2017"])
    max_clips = args.max_clips or profile.max_train
    started_all = time.time()
    root = os.path.join(args.out, "choi2017_transfer", args.profile)

    targets = _targets(args.profile, args.data_root)
    for target in args.targets or list(targets):  # every target store is opened (checked) before any training
        if target not in targets:
            raise ParameterError(f"unknown target {target!r}; the {args.profile} profile's: {', '.join(targets)}")
        targets[target] = Store.open(targets[target])
    trained = {}
    if "choi2017" in sources:
        if profile.synthetic:
            from sampleaudio.data_prep.synthetic import ensure

            tags = ensure("mini-mtat", size="small" if args.profile == "smoke" else "default", root=args.data_root)
        elif not args.source_data:
            raise ParameterError("--profile paper with the choi2017 source needs --source-data: a 12 kHz tag store")
        else:
            tags = args.source_data
        runs = run_experiments([({"source": "choi2017"}, source_config(args.profile, source_store(args.profile, tags),
                                                                        args.seed))], os.path.join(root, "runs"))
        trained["choi2017"] = runs.run_dir.iloc[0]
        first = runs.iloc[0]
        source_note = (f"tags ROC-AUC {float(first.roc_auc):.4f}, PR-AUC {float(first.pr_auc):.4f} on its test "
                       f"split after {int(first.epochs)} epoch(s), {float(first.seconds):.0f} s")
    rows = []
    for target in args.targets or list(targets):
        data = read_all(targets[target])
        keep = _subsample(len(data.audio), max_clips, data.labels, args.seed)
        clips = [data.audio[k] for k in keep]
        y, splits = data.labels[keep], data.splits[keep]
        folds = data.folds[keep] if (data.folds is not None and target in FOLD_TARGETS) else None
        train_rows, test_rows = np.flatnonzero(splits != "test"), np.flatnonzero(splits == "test")
        sets = {PAPER_MFCC: ("—", choi2017_mfcc_features(clips, data.sample_rate)),
                "MFCC, librosa deltas (120-d)": ("—", librosa_mfcc_features(clips, data.sample_rate))}
        for source in sources:
            model = trained.get(source, source)
            inputs = (choi2017_inputs(clips, data.sample_rate) if source == "choi2017"
                      else [(c, data.sample_rate) for c in clips])
            x, columns = layer_features(inputs, model)
            if not args.no_layerwise and source == "choi2017":
                for name, cols in columns.items():
                    sets[f"layer {name} ({cols.stop - cols.start}-d)"] = (source, x[:, cols])
            sets[f"{PAPER_CONVNET} ({x.shape[1]}-d)"] = (source, x)
            del x
        for feature, (source, x) in sets.items():
            started = time.time()
            rows.append({"target": target, "source": source, "feature": feature,
                         **_scores(x, y, target, folds, train_rows, test_rows, args.seed),
                         "seconds": round(time.time() - started, 1)})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    if args.profile == "paper":
        pub = published_results()
        pub = pub[pub.paper == "choi2017"].set_index(["dataset", "model"])["value"]

        def published(row):
            name = PAPER_TARGETS.get(row.target, row.target)
            if row.feature == PAPER_MFCC:
                return pub.get((name, "MFCC + SVM"), float("nan"))
            if row.source == "choi2017" and row.feature.startswith(PAPER_CONVNET):
                return pub.get((name, "convnet feature (5 layers) + SVM"), float("nan"))
            return float("nan")  # another source or feature: the paper has no number for it

        table["published (CV)"] = [published(r) for r in table.itertuples()]
    header = ["# Choi et al. (ISMIR 2017) transfer learning: convnet features + SVM vs MFCC", "",
              f"> {describe(args.profile)}.",
              "> CV: the authors' protocol (every clip; optional scaler + SVC grid searched by 10-fold unshuffled "
              "stratified CV in class-then-id order, or UrbanSound8K's predefined folds; the best grid point's CV "
              "accuracy, chosen on the same folds). test: stricter (grid by 5-fold CV on train + valid, scored on "
              "the test split; multi-label: one SVM per label, macro ROC-AUC)."]
    if "choi2017" in trained:
        header.append(f"> Source convnet: {trained['choi2017']} ({source_note}).")
    if profile.synthetic:
        header.append("> SYNTHETIC targets, NOT comparable to published numbers"
                      + (f"; at most {max_clips} clips per target (a seeded subset)." if max_clips else "."))
    else:
        header.append("> Published: the authors' stored results (keunwoochoi/transfer_learning_music "
                      "result_transfer), beside their own convnet's all-layer feature and their MFCC only.")
    header.append(f"> Wall time {time.time() - started_all:.0f} s.")
    os.makedirs(root, exist_ok=True)
    text = "\n".join(header) + "\n\n" + markdown_table(table.drop(columns=["CV protocol", "test metric"],
                                                                  errors="ignore")) + "\n"
    with open(os.path.join(root, "choi2017_transfer.md"), "w") as f:
        f.write(text)
    table.to_csv(os.path.join(root, "choi2017_transfer.csv"), index=False)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
