"""Oramas, Barbieri, Nieto, Serra (TISMIR 2018) experiments: the audio CNN and the cover CNN trained on genres, their
co-embedding (triplet loss), and the multimodal classifiers of the paper's table on the features they give, with
how the demo and smoke profiles shrink them.

Three runs, in order (the third starts its towers from the first two): ``audio`` (``oramas2018_audio``,
classification), ``image`` (``oramas2018_image``, ``cover_genres``), ``coembedding`` (``oramas2018``,
``album_triplets``). All train with the authors' Adam (lr 0.001) and early stopping after 4 epochs without a lower
validation loss (``tartarus`` ``train.py``); the trainer keeps the best validation epoch's weights where the
authors kept the last epoch's. :func:`album_features` and :func:`table_rows` then make the paper's rows: each
feature set (audio A, visual V, their co-embedded versions mm-A and mm-V) and their combinations through the
authors' classifiers (:mod:`sampleaudio.families.oramas2018.fusion`), beside chance and two hand-made baselines
(MFCC statistics, image statistics; logistic regression).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from sampleaudio.config import (
    DataConfig,
    EvalConfig,
    ExperimentConfig,
    TrainConfig,
    model_params,
    objective_params,
)

__all__ = ["OramasProfile", "PROFILES", "FEATURE_SETS", "describe", "configs", "album_features", "table_rows",
           "baseline_rows", "halfway"]


@dataclasses.dataclass(frozen=True)
class OramasProfile:
    synthetic: bool
    size: str
    audio_width: float
    segment: int | None  # None: the paper's 322 CQT frames
    image_network: str
    image_size: int
    image_width: int
    embedding_dim: int
    batch_size: int
    epochs: tuple[int, int, int]  # at most, per run: audio, image, co-embedding
    patience: int
    num_negatives: int = 4  # other albums per triplet
    fusion_lr: float = 0.001  # Adam's learning rate of the multimodal classifiers
    steps_per_epoch: int | None = None
    max_eval_segments: int | None = None


PROFILES = {
    # the authors' configurations: 322-frame CQT patches, batch 32, up to 100 epochs, patience 4; a ResNet50 on
    # 224-pixel covers (ImageNet weights from --image-weights)
    "paper": OramasProfile(False, "default", 1.0, None, "resnet50", 224, 16, 128, 32, (100, 100, 100), 4),
    # mini-albums' 6 s songs: 130 CQT frames (the fewest the MuMu audio CNN takes is 127), the audio CNN at half
    # width, a small ResNet on 64-pixel covers; 2 negatives per triplet; the classifiers at Adam 0.01 (the proxy's
    # 144 training albums give 5 steps an epoch: at 0.001 they end near their initialisation); a few minutes per
    # run on a 2-core CPU
    "demo": OramasProfile(True, "default", 0.5, 129 * 1024, "small_resnet", 64, 16, 64, 16, (20, 30, 10), 4,
                          num_negatives=2, fusion_lr=0.01),
    "smoke": OramasProfile(True, "small", 0.25, 126 * 1024, "small_resnet", 32, 4, 16, 8, (1, 1, 1), 1,
                           num_negatives=2, fusion_lr=0.01, steps_per_epoch=2, max_eval_segments=1),
}

#: the table's feature sets (the paper's rows): name -> the features combined
FEATURE_SETS = {
    "audio (A)": ("A",),
    "image (V)": ("V",),
    "A + V": ("A", "V"),
    "visually-informed audio (mm-A)": ("mmA",),
    "aurally-informed image (mm-V)": ("mmV",),
    "A + mm-A": ("A", "mmA"),
    "V + mm-V": ("V", "mmV"),
    "all (A + V + mm-A + mm-V)": ("A", "V", "mmA", "mmV"),
}


def describe(name: str, variant: str = "mumu") -> str:
    p = PROFILES[name]
    if not p.synthetic:
        return (f"paper profile: the store from --data-root, the '{variant}' audio CNN on 322-frame CQT patches "
                "(22,050 Hz, hop 1024, 96 bins), a keras.applications ResNet50 on 224-pixel covers, Adam 0.001, "
                "batch 32, early stopping 4; co-embedding d=128, triplet margin 0.2, 4 negatives (this package's "
                "choices)")
    return (f"{name} profile: SYNTHETIC proxy mini-albums ({p.size} size), NOT comparable to published numbers; "
            f"audio CNN '{variant}' at width {p.audio_width:g} on {(p.segment // 1024) + 1}-frame CQT patches "
            f"(the paper: 322), a small ResNet (width {p.image_width}) from scratch on {p.image_size}-pixel covers "
            f"(the paper: an ImageNet ResNet on 224), Adam 0.001, batch {p.batch_size}, at most "
            f"{'/'.join(map(str, p.epochs))} epochs (audio/image/co-embedding), patience {p.patience}; "
            f"co-embedding d={p.embedding_dim}, margin 0.2, {p.num_negatives} negatives; the classifiers at Adam "
            f"{p.fusion_lr:g} (the authors': 0.001)")


def configs(profile: str, data_dir: str, runs_root: str, seed: int, *, variant: str = "mumu",
            image_weights: str = "") -> list[tuple[dict, ExperimentConfig]]:
    """The three runs (audio, image, co-embedding), the last pointing at the first two's folders under
    ``runs_root``."""
    from sampleaudio.families.oramas2018 import PAPER_SEGMENT

    p = PROFILES[profile]
    segment = p.segment or PAPER_SEGMENT
    audio = dict(variant=variant, audio_width=p.audio_width)
    image = dict(image_network=p.image_network, image_size=p.image_size, image_width=p.image_width)
    data = dict(data_dir=os.path.abspath(data_dir), segment=segment, batch_size=p.batch_size, standardize="none",
                max_valid_segments=1, max_eval_segments=p.max_eval_segments, train_examples="random_crop")
    names = {k: f"oramas2018-{k}-{profile}-seed{seed}" for k in ("audio", "image", "coembedding")}

    def train(k):
        return TrainConfig(optimizer="adam", lr=0.001, time_decay=0.0, num_stages=1, patience=p.patience,
                           max_epochs_per_stage=p.epochs[k], steps_per_epoch=p.steps_per_epoch, seed=seed,
                           mixed_precision="off")

    runs = [
        ({"run": "audio"}, ExperimentConfig(name=names["audio"], data=DataConfig(**data),
                                            model=model_params("oramas2018_audio", **audio),
                                            train=train(0), eval=EvalConfig(), notes=describe(profile, variant))),
        ({"run": "image"}, ExperimentConfig(name=names["image"], data=DataConfig(**data),
                                            model=model_params("oramas2018_image", image_weights=image_weights,
                                                               **image),
                                            objective=objective_params("cover_genres"), train=train(1),
                                            eval=EvalConfig(), notes=describe(profile, variant))),
        ({"run": "coembedding"}, ExperimentConfig(
            name=names["coembedding"], data=DataConfig(**data),
            model=model_params("oramas2018", embedding_dim=p.embedding_dim, **audio, **image),
            objective=objective_params("album_triplets", margin=0.2, num_negatives=p.num_negatives,
                                       audio_run=os.path.join(os.path.abspath(runs_root), names["audio"]),
                                       image_run=os.path.join(os.path.abspath(runs_root), names["image"])),
            train=train(2), eval=EvalConfig(), notes=describe(profile, variant))),
    ]
    return runs


def album_features(runs: dict[str, str], albums, *, segment: int, max_segments: int | None = None
                   ) -> dict[str, np.ndarray]:
    """Every album's features ``{"A", "V", "mmA", "mmV"}`` from the finished runs (``runs``: run name -> folder):
    the audio CNN's ``audio_features`` and the co-embedding's ``audio_embedding``, each the mean over the album's
    tracks (each track the mean over its consecutive segments), the cover CNN's ``image_features`` and the
    co-embedding's ``image_embedding`` of the album's cover."""
    import keras

    import sampleaudio.families.oramas2018.model as oramas_model
    from sampleaudio.families.oramas2018.covers import predict_covers
    from sampleaudio.families.oramas2018.metrics import track_outputs

    def load(name):
        return keras.saving.load_model(os.path.join(runs[name], "best.keras"))

    audio_model = load("audio")
    audio_cnn = keras.Model(audio_model.input, audio_model.get_layer("audio_features").output)
    image_model = load("image")
    size = int(image_model.input.shape[1])
    image_cnn = keras.Model(image_model.input, image_model.get_layer("image_features").output)
    audio_emb, image_emb = oramas_model.embedders_of(load("coembedding"))
    waves = [albums.audio(t) for t in range(len(albums))]

    def per_album(track_values):
        return np.stack([track_values[albums.starts[a]:albums.starts[a] + albums.counts[a]].mean(0)
                         for a in range(len(albums.ids))])

    return {"A": per_album(track_outputs(audio_cnn, waves, segment=segment, max_segments=max_segments)),
            "V": predict_covers(image_cnn, albums.covers, size),
            "mmA": per_album(track_outputs(audio_emb, waves, segment=segment, max_segments=max_segments,
                                           renormalise=True)),
            "mmV": predict_covers(image_emb, albums.covers, size)}


def _scores(truth: np.ndarray, scores: np.ndarray, multi_label: bool) -> dict[str, float]:
    """The table's metrics: multi-label ROC-AUC, PR-AUC (macro over labels with a positive and a negative) and MAP
    over each album's ranking of the labels (tartarus ``eval.py``'s ``mapk``, k = every label); single-label
    accuracy and macro F1."""
    import sklearn.metrics as skm

    from sampleaudio.metrics import pr_auc_macro, roc_auc_macro

    if multi_label:
        has = truth.sum(1) > 0
        return {"ROC-AUC": roc_auc_macro(truth, scores), "PR-AUC": pr_auc_macro(truth, scores),
                "MAP": float(skm.label_ranking_average_precision_score(truth[has], scores[has]))}
    y, p = truth.argmax(1), scores.argmax(1)
    return {"accuracy": float(skm.accuracy_score(y, p)),
            "macro F1": float(skm.f1_score(y, p, average="macro", zero_division=0))}


def table_rows(features: dict[str, np.ndarray], albums, *, multi_label: bool, seed: int, lr: float = 0.001
               ) -> list[dict]:
    """One row per :data:`FEATURE_SETS` entry: its classifier trained on the training albums (validation albums
    for early stopping; Adam at ``lr``), scored on the test albums."""
    from sampleaudio.families.oramas2018.fusion import train_fused

    rows = {s: albums.albums_of(s) for s in ("train", "valid", "test")}
    y = albums.labels.astype(np.float32)
    out = []
    for name, keys in FEATURE_SETS.items():
        model = train_fused([features[k][rows["train"]] for k in keys], y[rows["train"]],
                            [features[k][rows["valid"]] for k in keys], y[rows["valid"]],
                            multi_label=multi_label, dropout=0.0 if multi_label else 0.5, seed=seed, lr=lr)
        scores = np.asarray(model.predict([features[k][rows["test"]] for k in keys], verbose=0))
        out.append({"features": name, **_scores(y[rows["test"]], scores, multi_label)})
    return out


def baseline_rows(albums, *, multi_label: bool, image_size: int, seed: int) -> list[dict]:
    """Chance (the training albums' label frequencies, a constant), MFCC statistics and image statistics, each
    with logistic regression (one-vs-rest for multi-label)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sampleaudio.baselines import mfcc_statistics
    from sampleaudio.families.oramas2018.albums import cover_arrays, image_statistics

    tr, te = albums.albums_of("train"), albums.albums_of("test")
    y = albums.labels.astype(np.float32)
    mfcc = np.stack([mfcc_statistics(albums.audio(t)) for t in range(len(albums))])
    audio = np.stack([mfcc[albums.starts[a]:albums.starts[a] + albums.counts[a]].mean(0)
                      for a in range(len(albums.ids))])
    image = image_statistics(cover_arrays(albums.covers, image_size))
    out = [{"features": "chance (training label frequencies)",
            **_scores(y[te], np.tile(y[tr].mean(0), (len(te), 1)), multi_label)}]
    for name, x in (("MFCC statistics + logistic regression (baseline)", audio),
                    ("image statistics + logistic regression (baseline)", image)):
        keep = (y[tr].sum(0) > 0) & (y[tr].sum(0) < len(tr)) if multi_label else np.ones(y.shape[1], bool)
        scores = np.tile(y[tr].mean(0), (len(te), 1))
        if multi_label:
            clf = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(C=0.5, max_iter=2000)))
            clf.fit(x[tr], y[tr][:, keep])
            scores[:, keep] = clf.predict_proba(x[te])
        else:
            clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000, random_state=seed))
            clf.fit(x[tr], y[tr].argmax(1))
            scores[:] = 0.0
            scores[:, clf.classes_] = clf.predict_proba(x[te])
        out.append({"features": name, **_scores(y[te], scores, multi_label)})
    return out


def halfway(value: float, chance: float, baseline: float) -> bool:
    """The demo's rule: ``value`` at least halfway from chance to the baseline (and above chance)."""
    return value > chance and value >= chance + 0.5 * (baseline - chance)
