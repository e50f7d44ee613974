"""Training objectives other than classification, plugged into :func:`sampleaudio.train.train`.

``siamese`` (Park et al., ISMIR 2018, Sec. 3.2): the configured network without its classifier is the encoder;
anchor, positive and ``num_negatives`` negatives go through it (:func:`~sampleaudio.models.ArtistSiameseModel`),
and the multi-negative max-margin loss (margin 0.4, summed over negatives and batch) pulls songs of one artist
together. Batches come from :func:`sampleaudio.sampler.siamese_dataset` (artists from the records'
``artist_id``); the validation loss is computed on a fixed, seeded set of validation triplets, so that the staged
schedule and early stopping work as for classification. The run's ``best.keras`` is the *encoder* (what
``embed`` / ``index`` use) and ``final_metrics.json`` holds artist retrieval on the evaluation split: MAP with
artist as relevance and kNN artist accuracy over song embeddings (mean over each song's segments).
"""

from __future__ import annotations

import dataclasses
import math
import os

import keras
import numpy as np

from sampleaudio.errors import ParameterError
from sampleaudio.stores import Store, open_store

__all__ = ["OBJECTIVES", "SiameseObjective", "objective_for", "encoder_of"]

OBJECTIVES = ("classification", "siamese", "coembedding")


def encoder_of(model: keras.Model) -> keras.Model:
    """The network up to its embedding: everything before the classifier (the last layer)."""
    return keras.Model(model.inputs, model.layers[-2].output, name=f"{model.name}_encoder")


@dataclasses.dataclass
class SiameseObjective:
    """The Siamese objective's pieces for the trainer (see the module docstring). ``data_dir``: the store's folder,
    or the :class:`~sampleaudio.stores.Store` the trainer opened (its manifest is then not read again)."""

    data_dir: str | Store
    segment: int
    batch_size: int
    num_negatives: int = 4
    margin: float = 0.4
    mean: float = 0.0
    std: float = 1.0
    valid_examples: int = 0

    def __post_init__(self):
        from sampleaudio.sampler import load_artist_songs

        self.data_dir = open_store(self.data_dir)  # read its manifest once (the trainer's opened store: not again)
        self.train_songs = load_artist_songs(self.data_dir, "train")
        self.valid_songs = load_artist_songs(self.data_dir, "valid")
        self.valid_examples = self.valid_examples or max(self.batch_size, 4 * len(self.valid_songs))

    def wrap(self, model: keras.Model) -> keras.Model:
        from sampleaudio.models.artist_cnn import ArtistSiameseModel

        return ArtistSiameseModel(encoder_of(model), num_negatives=self.num_negatives)

    def loss(self):
        from sampleaudio.losses import SiameseLoss

        return SiameseLoss("max_margin", self.margin, reduction="sum")

    def steps_per_epoch(self) -> int:
        """One anchor per training song per epoch."""
        return max(1, math.ceil(len(self.train_songs) / self.batch_size))

    def train_dataset(self, seed: int, drop_remainder: bool = False):
        from sampleaudio.sampler import siamese_dataset

        return siamese_dataset(self.train_songs, segment=self.segment, batch_size=self.batch_size,
                               num_negatives=self.num_negatives, seed=seed, mean=self.mean, std=self.std,
                               drop_remainder=drop_remainder)

    def valid_dataset(self):
        from sampleaudio.sampler import siamese_dataset

        return siamese_dataset(self.valid_songs, segment=self.segment, batch_size=self.batch_size,
                               num_negatives=self.num_negatives, seed=2 ** 31 - 1, mean=self.mean, std=self.std,
                               num_examples=self.valid_examples)

    def valid_steps(self) -> int:
        return math.ceil(self.valid_examples / self.batch_size)

    def song_embeddings(self, encoder: keras.Model, split: str, batch_size: int = 64,
                        max_segments: int | None = None) -> tuple[np.ndarray, list[str]]:
        """Mean over each song's segments of the encoder output, and each song's artist."""
        from sampleaudio.pipeline import clip_average, eval_dataset, read_clips

        artists = [ex["artist_id"].decode() for ex in read_clips(self.data_dir, split).as_numpy_iterator()]
        outs, index = [], []
        for x, _, i in eval_dataset(self.data_dir, split, segment=self.segment, batch_size=batch_size,
                                    mean=self.mean, std=self.std, max_segments=max_segments):
            outs.append(np.asarray(encoder(x, training=False)))
            index.append(i.numpy())
        ids, emb = clip_average(np.concatenate(outs), np.concatenate(index))
        return emb, [artists[int(k)] for k in ids]

    def finish(self, siamese: keras.Model, run_dir: str, split: str, max_segments: int | None = None) -> tuple[
            keras.Model, dict, dict]:
        """``(encoder, card fields, metrics)`` of a trained Siamese model."""
        from sampleaudio.metrics import knn_accuracy, retrieval_map

        inputs = siamese.inputs[0]
        encoder = keras.Model(inputs, siamese.get_layer("dot_1").input[0], name="encoder")
        emb, artists = self.song_embeddings(encoder, split, max_segments=max_segments)
        ref, ref_artists = self.song_embeddings(encoder, "train", max_segments=max_segments)
        k = min(20, len(ref))
        metrics = {"artist_map": retrieval_map(emb, artists, ref, ref_artists),
                   f"artist_knn{k}_accuracy": knn_accuracy(ref, ref_artists, emb, artists, k=k),
                   "songs": len(artists), "artists": len(set(artists))}
        card = {"labels": [], "embedding_layer": encoder.layers[-1].name, "objective": "siamese"}
        return encoder, card, metrics


def objective_for(config, segment: int, mean, std, store: Store | None = None) -> SiameseObjective | None:
    """The objective of ``config.train.objective``; ``None`` for classification (the trainer's own path).

    ``store``: the :class:`~sampleaudio.stores.Store` of ``config.data.data_dir`` the trainer opened (``None``:
    open it here); the objective reads its clips and facts through it."""
    name = getattr(config.train, "objective", "classification")
    if name == "classification":
        return None
    if name == "coembedding":  # Choi 2019 zero-shot co-embedding
        if config.train.distribute == "multiworker":
            raise ParameterError("the coembedding objective runs with distribute none or mirrored, not multiworker")
        from sampleaudio.coembedding import objective_from_config

        return objective_from_config(config, segment, mean, std, store=store)
    if name != "siamese":
        raise ParameterError(f"objective must be one of {OBJECTIVES}. Received: {name!r}")
    if store is None and not os.path.isdir(config.data.data_dir):
        raise ParameterError(f"data_dir '{config.data.data_dir}' is not a folder")
    store = open_store(config.data.data_dir if store is None else store)
    return SiameseObjective(store, segment, config.data.batch_size,
                            num_negatives=config.train.num_negatives, margin=config.train.margin,
                            mean=store.mean if mean is None else mean, std=store.std if std is None else std)
