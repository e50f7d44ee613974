"""The Siamese objective of Park et al. (ISMIR 2018, Sec. 3.2; :class:`sampleaudio.objectives.Objective`).

``siamese``: the configured network without its classifier is the encoder;
anchor, positive and ``num_negatives`` negatives go through it (:func:`~sampleaudio.models.ArtistSiameseModel`),
and the multi-negative max-margin loss (margin 0.4, summed over negatives and batch) pulls songs of one artist
together. Batches come from :func:`sampleaudio.sampler.siamese_dataset` (artists from the records'
``artist_id``); the validation loss is computed on a fixed, seeded set of validation triplets, so that the staged
schedule and early stopping work as for classification. The run's ``best.keras`` is the *encoder* (what
``embed`` / ``index`` use) and ``final_metrics.json`` holds artist retrieval on the evaluation split: MAP with
artist as relevance and kNN artist accuracy over song embeddings (mean over each song's segments).
"""

from __future__ import annotations

import math

import keras
import numpy as np

__all__ = ["SiameseObjective", "encoder_of"]


def encoder_of(model: keras.Model) -> keras.Model:
    """The network up to its embedding: everything before the classifier (the last layer)."""
    return keras.Model(model.inputs, model.layers[-2].output, name=f"{model.name}_encoder")


class SiameseObjective:
    """The Siamese objective (:class:`sampleaudio.objectives.Objective`; see the module docstring)."""

    def __init__(self, config, store, *, segment: int, mean: float, std: float, valid_examples: int = 0):
        from sampleaudio.sampler import load_artist_songs

        self.store, self.segment, self.mean, self.std = store, segment, mean, std
        self.batch_size = config.data.batch_size
        self.num_negatives, self.margin = config.objective.num_negatives, config.objective.margin
        self.max_segments, self.split = config.data.max_eval_segments, config.eval.split
        self.train_songs = load_artist_songs(store, "train")
        self.valid_songs = load_artist_songs(store, "valid")
        self.valid_examples = valid_examples or max(self.batch_size, 4 * len(self.valid_songs))

    def wrap(self, model: keras.Model) -> keras.Model:
        from sampleaudio.models.artist_cnn import ArtistSiameseModel

        return ArtistSiameseModel(encoder_of(model), num_negatives=self.num_negatives)

    def loss(self):
        from sampleaudio.losses import SiameseLoss

        return SiameseLoss("max_margin", self.margin, reduction="sum")

    def steps_per_epoch(self) -> int:
        """One anchor per training song per epoch."""
        return max(1, math.ceil(len(self.train_songs) / self.batch_size))

    def train_dataset(self, seed: int, *, drop_remainder: bool = False):
        from sampleaudio.sampler import siamese_dataset

        return siamese_dataset(self.train_songs, segment=self.segment, batch_size=self.batch_size,
                               num_negatives=self.num_negatives, seed=seed, mean=self.mean, std=self.std,
                               drop_remainder=drop_remainder)

    def valid_dataset(self):
        """A fixed, seeded set of validation triplets."""
        from sampleaudio.sampler import siamese_dataset

        ds = siamese_dataset(self.valid_songs, segment=self.segment, batch_size=self.batch_size,
                             num_negatives=self.num_negatives, seed=2 ** 31 - 1, mean=self.mean, std=self.std,
                             num_examples=self.valid_examples)
        return ds, math.ceil(self.valid_examples / self.batch_size)

    def song_embeddings(self, encoder: keras.Model, split: str, batch_size: int = 64,
                        max_segments: int | None = None) -> tuple[np.ndarray, list[str]]:
        """Mean over each song's segments of the encoder output, and each song's artist."""
        from sampleaudio.pipeline import clip_average, eval_dataset, read_clips

        artists = [ex["artist_id"].decode() for ex in read_clips(self.store, split).as_numpy_iterator()]
        outs, index = [], []
        for x, _, i in eval_dataset(self.store, split, segment=self.segment, batch_size=batch_size,
                                    mean=self.mean, std=self.std, max_segments=max_segments):
            outs.append(np.asarray(encoder(x, training=False)))
            index.append(i.numpy())
        ids, emb = clip_average(np.concatenate(outs), np.concatenate(index))
        return emb, [artists[int(k)] for k in ids]

    def finish(self, siamese: keras.Model, run_dir: str) -> tuple[keras.Model, dict, dict]:
        """The encoder (``best.keras``), and artist retrieval on the evaluation split: MAP with artist as
        relevance and kNN artist accuracy over song embeddings (mean over each song's segments)."""
        from sampleaudio.metrics import knn_accuracy, retrieval_map

        inputs = siamese.inputs[0]
        encoder = keras.Model(inputs, siamese.get_layer("dot_1").input[0], name="encoder")
        emb, artists = self.song_embeddings(encoder, self.split, max_segments=self.max_segments)
        ref, ref_artists = self.song_embeddings(encoder, "train", max_segments=self.max_segments)
        k = min(20, len(ref))
        metrics = {"artist_map": retrieval_map(emb, artists, ref, ref_artists),
                   f"artist_knn{k}_accuracy": knn_accuracy(ref, ref_artists, emb, artists, k=k),
                   "songs": len(artists), "artists": len(set(artists)),
                   "parameters": int(sum(np.prod(w.shape) for w in encoder.trainable_weights))}
        card = {"labels": [], "embedding_layer": encoder.layers[-1].name, "objective": "siamese"}
        return encoder, card, metrics
