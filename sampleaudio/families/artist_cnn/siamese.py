"""The Siamese objective of Park et al. (ISMIR 2018, Sec. 3.2; :class:`sampleaudio.objectives.Objective`).

``siamese``: the configured network without its classifier is the encoder;
anchor, positive and ``num_negatives`` negatives go through it (:func:`~sampleaudio.models.ArtistSiameseModel`),
and the multi-negative max-margin loss (margin 0.4, summed over negatives and batch) pulls songs of one artist
together. Batches come from :func:`siamese_dataset` on the shared sampler (:mod:`sampleaudio.metric_learning`;
artists from the records' ``artist_id``). As the authors' ``data_generator.py`` (``anchors="each"``), every
training song is an anchor once per epoch (``int(songs / batch)`` steps there; ``ceil`` here, the last batch
partial), each item a random crop; the validation loss is computed on a set drawn once: each validation song
an anchor once, with one random positive, ``num_negatives`` random negatives and a random crop of each
(``load_valid_siamese``), so that the schedule and early stopping work as for classification. The run's ``best.keras`` is the *encoder* (what
``embed`` / ``index`` use) and ``final_metrics.json`` holds artist retrieval on the evaluation split: MAP with
artist as relevance and kNN artist accuracy over song embeddings (mean over each song's segments).
"""

from __future__ import annotations

import math
import os

import keras
import numpy as np
import tensorflow as tf

from sampleaudio.errors import ParameterError
from sampleaudio.metric_learning import BIG, ClipBank, crop, sampler_dataset

__all__ = ["SiameseObjective", "encoder_of", "ArtistSongs", "load_artist_songs", "siamese_dataset"]


class ArtistSongs(ClipBank):
    """The songs of one split grouped by artist (Park 2018's ``data_generator.py``): a :class:`ClipBank` whose songs
    are ordered by artist, with ``starts`` / ``counts`` per artist and ``song_artist`` per song."""

    def __init__(self, audio: list[np.ndarray], artists: list[str]):
        if len(audio) != len(artists):
            raise ParameterError(f"{len(audio)} songs but {len(artists)} artist ids")
        if any(not a for a in artists):
            raise ParameterError("a song has no artist_id: metric learning by artist needs one on every record")
        names = sorted(set(artists))
        artist_index = {a: k for k, a in enumerate(names)}
        order = sorted(range(len(audio)), key=lambda i: (artist_index[artists[i]], i))
        self.artists = names
        self.song_artist = np.array([artist_index[artists[i]] for i in order], np.int64)
        self.counts = np.bincount(self.song_artist, minlength=len(names)).astype(np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)
        if len(names) < 2:
            raise ParameterError(f"metric learning needs songs of at least 2 artists; the split has {len(names)}")
        if np.any(self.counts < 2):
            few = [names[k] for k in np.flatnonzero(self.counts < 2)[:3]]
            raise ParameterError(f"every artist needs at least 2 songs of the split for a positive; e.g. {few}")
        super().__init__([audio[i] for i in order])


def load_artist_songs(data_dir: str | os.PathLike, split: str) -> ArtistSongs:
    """Read one split of a store (``sampleaudio prep``) into memory, grouped by ``artist_id``."""
    from sampleaudio.pipeline import read_clips

    audio, artists = [], []
    for ex in read_clips(data_dir, split).as_numpy_iterator():
        audio.append(ex["audio"])
        artists.append(ex["artist_id"].decode())
    if not audio:
        raise ParameterError(f"split '{split}' of '{data_dir}' holds no clips")
    return ArtistSongs(audio, artists)


def siamese_dataset(songs: ArtistSongs, *, segment: int, batch_size: int, num_negatives: int = 4, seed: int = 0,
                    mean: float = 0.0, std: float = 1.0, num_examples: int | None = None,
                    drop_remainder: bool = False, anchors: str = "uniform") -> tf.data.Dataset:
    """Batches of ``((anchor, positive, negative_1, ..., negative_N), zeros [B, 1 + N])``, each item
    ``[B, segment, 1]`` and standardised by ``mean``/``std``; endless unless ``num_examples`` is given.

    Each example takes an anchor song of the split (``anchors="uniform"``: drawn uniformly; ``"each"``: every song
    once per pass in a seeded order, or with ``num_examples`` the songs in order), a positive (another song of the
    same artist) and ``num_negatives`` negatives (songs of other artists: an artist drawn uniformly among the
    others, then one of its songs), and a random crop of each. The target is a placeholder (the score layout
    carries the labels, :mod:`sampleaudio.losses`).
    """
    if segment < 1 or num_negatives < 1:
        raise ParameterError(f"segment and num_negatives must be >= 1. Received: segment={segment}, "
                             f"num_negatives={num_negatives}")
    if anchors not in ("uniform", "each"):
        raise ParameterError(f"anchors must be 'uniform' or 'each'. Received: anchors={anchors!r}")
    starts, counts = tf.constant(songs.starts), tf.constant(songs.counts)
    song_artist = tf.constant(songs.song_artist)
    num_songs, num_artists = len(songs), len(songs.artists)
    n_draws = 2 + 2 * num_negatives + (2 + num_negatives)

    def recipe(key, row):
        r = tf.random.stateless_uniform([n_draws], seed=key, minval=0, maxval=BIG, dtype=tf.int64)
        anchor = tf.cast(row, tf.int64) if anchors == "each" else tf.math.floormod(r[0], num_songs)
        artist = song_artist[anchor]
        # positive: another song of the same artist (skip the anchor's own position)
        k = tf.math.floormod(r[1], counts[artist] - 1)
        k = tf.where(starts[artist] + k >= anchor, k + 1, k)
        items = [anchor, starts[artist] + k]
        for j in range(num_negatives):
            other = tf.math.floormod(r[2 + 2 * j], num_artists - 1)
            other = tf.where(other >= artist, other + 1, other)
            items.append(starts[other] + tf.math.floormod(r[3 + 2 * j], counts[other]))
        base = 2 + 2 * num_negatives
        x = tuple(crop(songs, song, r[base + n], segment, mean, std) for n, song in enumerate(items))
        return x, tf.zeros([1 + num_negatives], tf.float32)

    return sampler_dataset(recipe, batch_size=batch_size, seed=seed, num_examples=num_examples,
                           drop_remainder=drop_remainder, rows=range(num_songs) if anchors == "each" else None)


def encoder_of(model: keras.Model) -> keras.Model:
    """The network up to its embedding: everything before the classifier (the last layer)."""
    return keras.Model(model.inputs, model.layers[-2].output, name=f"{model.name}_encoder")


class SiameseObjective:
    """The Siamese objective (:class:`sampleaudio.objectives.Objective`; see the module docstring)."""

    def __init__(self, config, store, *, segment: int, mean: float, std: float, valid_examples: int = 0):
        self.store, self.segment, self.mean, self.std = store, segment, mean, std
        self.batch_size = config.data.batch_size
        self.num_negatives, self.margin = config.objective.num_negatives, config.objective.margin
        self.max_segments, self.split = config.data.max_eval_segments, config.eval.split
        self.anchors = config.objective.anchors
        self.train_songs = load_artist_songs(store, "train")
        self.valid_songs = load_artist_songs(store, "valid")
        self.valid_examples = valid_examples or (len(self.valid_songs) if self.anchors == "each"
                                                 else max(self.batch_size, 4 * len(self.valid_songs)))

    def wrap(self, model: keras.Model) -> keras.Model:
        from sampleaudio.families.artist_cnn.model import ArtistSiameseModel

        return ArtistSiameseModel(encoder_of(model), num_negatives=self.num_negatives)

    def loss(self):
        from sampleaudio.losses import SiameseLoss

        return SiameseLoss("max_margin", self.margin, reduction="sum")

    def steps_per_epoch(self) -> int:
        """One anchor per training song per epoch (each song once with ``anchors="each"``)."""
        return max(1, math.ceil(len(self.train_songs) / self.batch_size))

    def train_dataset(self, seed: int, *, drop_remainder: bool = False):
        return siamese_dataset(self.train_songs, segment=self.segment, batch_size=self.batch_size,
                               num_negatives=self.num_negatives, seed=seed, mean=self.mean, std=self.std,
                               drop_remainder=drop_remainder, anchors=self.anchors)

    def valid_dataset(self):
        """A fixed, seeded set of validation triplets (with ``anchors="each"``: one per validation song)."""
        ds = siamese_dataset(self.valid_songs, segment=self.segment, batch_size=self.batch_size,
                             num_negatives=self.num_negatives, seed=2 ** 31 - 1, mean=self.mean, std=self.std,
                             num_examples=self.valid_examples, anchors=self.anchors)
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
