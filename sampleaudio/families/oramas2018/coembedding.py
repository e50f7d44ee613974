"""The co-embedding objective (``album_triplets``, :class:`sampleaudio.objectives.Objective`): tracks and album covers
in one space, learned with a triplet loss from the two towers trained on genres.

- The model (:func:`~sampleaudio.families.oramas2018.model.multimodal_model`): the audio CNN and the cover CNN,
  each started from a finished genre run (``audio_run``, ``image_run``: their layers copied by name, after their
  configurations are checked against this one's), then a linear projection of each to the shared space and a unit
  normalisation. By default a tower started from a run stays as trained on genres and only the projections
  learn (``train_towers``); a tower without a run is trained.
- Examples (:func:`triplet_dataset`, on the one metric-learning sampler, :mod:`sampleaudio.metric_learning`): one
  per training track and epoch, in a seeded order: a random crop of the track (short tracks tiled), its album's
  cover, and ``num_negatives`` other albums of the split, drawn uniformly (distinct from the track's, not from
  each other), each giving its cover and a random crop of one of its tracks. Every draw is a stateless function of
  the run's seed and the example number.
- Loss (:class:`AlbumTripletLoss`): the triplet hinge of :func:`sampleaudio.losses.triplet_hinge`
  (``max(0, margin + d(a, p) - d(a, n))`` on unit-embedding distances, mean over the negatives), in both
  directions: the track as anchor (its cover positive, the other covers negative) and the cover as anchor (the
  track positive, the other albums' tracks negative); margin 0.2.
- Validation: a fixed seeded set of examples of the validation albums' tracks.
- When the run finishes, ``best.keras`` is the two-input model (``waveform``, ``image``; outputs the unit
  ``audio_embedding`` and ``image_embedding``) and ``final_metrics.json`` holds cross-modal retrieval on the
  evaluation split (:mod:`sampleaudio.families.oramas2018.metrics`) beside its chance level.

The margin, the negatives, the embedding size and the frozen towers are this package's choices: the authors' code
has no co-embedding and the paper's values could not be read (``docs/papers/oramas2018.md``).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from sampleaudio.errors import ParameterError
from sampleaudio.metric_learning import BIG, crop, sampler_dataset

__all__ = ["AlbumTripletLoss", "triplet_dataset", "copy_tower", "AlbumTriplets", "AUDIO_FIELDS", "IMAGE_FIELDS"]

#: the parameters a tower's run must share with the co-embedding model
AUDIO_FIELDS = ("variant", "audio_width", "cqt")
IMAGE_FIELDS = ("image_network", "image_size", "image_width")


@keras.saving.register_keras_serializable(package="sampleaudio")
class AlbumTripletLoss(keras.losses.Loss):
    """The triplet hinge in both directions over :func:`~sampleaudio.families.oramas2018.model.triplet_model`'s
    scores ``[B, 2 (1 + N)]`` (the layout carries the labels: ``y_true`` is ignored)."""

    def __init__(self, margin: float = 0.2, name: str = "album_triplet", **kwargs):
        super().__init__(name=name, **kwargs)
        self.margin = float(margin)

    def call(self, y_true, y_pred):
        from sampleaudio.losses import triplet_hinge

        half = y_pred.shape[-1] // 2
        return (triplet_hinge(y_true, y_pred[:, :half], self.margin)
                + triplet_hinge(y_true, y_pred[:, half:], self.margin))

    def get_config(self) -> dict:
        return {**super().get_config(), "margin": self.margin}


def triplet_dataset(albums, rows, *, segment: int, size: int, batch_size: int, num_negatives: int, seed: int,
                    mean: float = 0.0, std: float = 1.0, num_examples: int | None = None,
                    drop_remainder: bool = False) -> tf.data.Dataset:
    """Batches of ``((anchor_audio, negative_audio, cover, negative_covers), zeros [B, 2 (1 + N)])`` (see the
    module docstring) drawn from the tracks ``rows`` of ``albums`` (:class:`~sampleaudio.families.oramas2018.albums.
    Albums`); negatives come from the albums of those tracks."""
    from sampleaudio.families.oramas2018.albums import decode_cover

    rows = np.asarray(rows, np.int64)
    pool = np.unique(albums.track_album[rows])
    if len(pool) <= num_negatives:
        raise ParameterError(f"{len(pool)} albums leave no room for {num_negatives} other albums per triplet")
    position = np.full(len(albums.ids), -1, np.int64)
    position[pool] = np.arange(len(pool))
    pool_t, position_t = tf.constant(pool), tf.constant(position)
    rows_t, track_album = tf.constant(rows), tf.constant(albums.track_album)
    starts, counts = tf.constant(albums.starts), tf.constant(albums.counts)
    covers = tf.constant(albums.covers)
    n = len(pool)

    def recipe(key, k):
        r = tf.random.stateless_uniform([2 + 3 * num_negatives], seed=key, minval=0, maxval=BIG, dtype=tf.int64)
        track = rows_t[k]
        album = track_album[track]
        u = tf.random.stateless_uniform([n], seed=key + 1, minval=1e-12, maxval=1.0)
        gumbel = tf.where(tf.range(n, dtype=tf.int64) == position_t[album], -np.inf, -tf.math.log(-tf.math.log(u)))
        _, picked = tf.math.top_k(gumbel, k=num_negatives)  # distinct other albums, uniform
        others = tf.gather(pool_t, picked)
        negative_tracks = tf.gather(starts, others) + tf.math.floormod(r[2:2 + num_negatives],
                                                                       tf.gather(counts, others))
        anchor = crop(albums, track, r[0], segment, mean, std)
        negative_audio = tf.stack([crop(albums, negative_tracks[j], r[2 + num_negatives + j], segment, mean, std)
                                   for j in range(num_negatives)])
        cover = decode_cover(covers[album], size)
        negative_covers = tf.stack([decode_cover(covers[others[j]], size) for j in range(num_negatives)])
        return (anchor, negative_audio, cover, negative_covers), tf.zeros([2 * (1 + num_negatives)])

    return sampler_dataset(recipe, batch_size=batch_size, seed=seed, rows=list(range(len(rows))),
                           num_examples=num_examples, drop_remainder=drop_remainder)


def copy_tower(model: keras.Model, run_dir: str, fields: tuple[str, ...], params, what: str) -> list[str]:
    """Copy the layers of a finished genre run's ``best.keras`` into ``model``'s layers of the same name, after
    checking the run's ``fields`` equal ``params``'; returns the copied layers' names."""
    import os

    from sampleaudio.cards import RunDir

    run = RunDir(run_dir)
    config = run.read_config()
    if config is None or not os.path.exists(run.file("best.keras")):
        raise ParameterError(f"{what} '{run_dir}' is not a finished run (no config.json or best.keras)")
    differ = [f"{f}={getattr(config.model, f, None)!r} there, {getattr(params, f)!r} here" for f in fields
              if getattr(config.model, f, None) != getattr(params, f)]
    if differ:
        raise ParameterError(f"{what} '{run_dir}' has another tower ({'; '.join(differ)}): give the same values")
    trained = keras.saving.load_model(run.file("best.keras"))
    names = {layer.name for layer in model.layers}
    copied = []
    for layer in trained.layers:
        if layer.weights and layer.name in names:
            target = model.get_layer(layer.name)
            if [tuple(w.shape) for w in target.weights] != [tuple(w.shape) for w in layer.weights]:
                raise ParameterError(f"{what} '{run_dir}': layer '{layer.name}' has other shapes than this model's")
            target.set_weights(layer.get_weights())
            copied.append(layer.name)
    if not copied:
        raise ParameterError(f"{what} '{run_dir}' shares no layer with the co-embedding model")
    return copied


class AlbumTriplets:
    """The co-embedding objective (see the module docstring)."""

    def __init__(self, config, store, *, segment: int, mean: float, std: float, valid_examples: int = 0):
        from sampleaudio.families.oramas2018.albums import load_albums

        if config.model.architecture != "oramas2018":
            raise ParameterError("the album_triplets objective trains the co-embedding: use --architecture oramas2018")
        if config.train.distribute == "multiworker":
            raise ParameterError("the album_triplets objective runs with distribute none or mirrored, not multiworker")
        self.config, self.store, self.params = config, store, config.objective
        self.segment, self.mean, self.std = segment, mean, std
        self.size, self.batch_size = config.model.image_size, config.data.batch_size
        self.albums = load_albums(store)
        self.train = self.albums.tracks_of(self.albums.albums_of("train"))
        self.valid = self.albums.tracks_of(self.albums.albums_of("valid"))
        for name, rows in (("train", self.train), ("valid", self.valid)):
            if len(np.unique(self.albums.track_album[rows])) <= self.params.num_negatives:
                raise ParameterError(f"store '{store}': the {name} split has too few albums for "
                                     f"{self.params.num_negatives} negatives")
        self.valid_examples = valid_examples or max(self.batch_size, 2 * len(self.valid))

    def wrap(self, model: keras.Model) -> keras.Model:
        from sampleaudio.families.oramas2018.model import triplet_model

        if model.name != "oramas2018":
            raise ParameterError("the album_triplets objective trains the co-embedding: use --architecture oramas2018")
        tower_layers = set()
        for run, fields, what in ((self.params.audio_run, AUDIO_FIELDS, "audio_run"),
                                  (self.params.image_run, IMAGE_FIELDS, "image_run")):
            if run:
                tower_layers |= set(copy_tower(model, run, fields, self.config.model, what))
        if not self.params.train_towers:  # a tower started from a genre run stays as trained on genres
            for layer in model.layers:
                if layer.name in tower_layers:
                    layer.trainable = False
        return triplet_model(model, num_negatives=self.params.num_negatives)

    def loss(self):
        return AlbumTripletLoss(self.params.margin)

    def steps_per_epoch(self) -> int:
        """One example per training track."""
        return max(1, math.ceil(len(self.train) / self.batch_size))

    def _dataset(self, rows, seed, **kwargs):
        return triplet_dataset(self.albums, rows, segment=self.segment, size=self.size, batch_size=self.batch_size,
                               num_negatives=self.params.num_negatives, seed=seed, mean=self.mean, std=self.std,
                               **kwargs)

    def train_dataset(self, seed: int, *, drop_remainder: bool = False):
        return self._dataset(self.train, seed, drop_remainder=drop_remainder)

    def valid_dataset(self):
        ds = self._dataset(self.valid, 2 ** 31 - 1, num_examples=self.valid_examples)
        return ds, math.ceil(self.valid_examples / self.batch_size)

    def embed_split(self, model: keras.Model, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(track embeddings, each track's album position, cover embeddings)`` of ``split``'s albums."""
        from sampleaudio.families.oramas2018.covers import predict_covers
        from sampleaudio.families.oramas2018.metrics import track_outputs
        from sampleaudio.families.oramas2018.model import embedders_of

        audio, image = embedders_of(model)
        albums = self.albums.albums_of(split)
        tracks = self.albums.tracks_of(albums)
        position = {a: k for k, a in enumerate(albums)}
        track_emb = track_outputs(audio, [self.albums.audio(int(t)) for t in tracks], segment=self.segment,
                                  mean=self.mean, std=self.std, max_segments=self.config.data.max_eval_segments,
                                  renormalise=True)
        cover_emb = predict_covers(image, [self.albums.covers[a] for a in albums], self.size)
        return track_emb, np.array([position[a] for a in self.albums.track_album[tracks]]), cover_emb

    def finish(self, model: keras.Model, run_dir: str) -> tuple[keras.Model, dict, dict]:
        """The two-input co-embedding model, its card fields and cross-modal retrieval on the evaluation split."""
        from sampleaudio.families.oramas2018.metrics import chance_retrieval, cross_modal_retrieval

        audio = model.get_layer("audio_embedder")
        image = model.get_layer("image_embedder")
        joint = keras.Model([audio.input, image.input], [audio.output, image.output], name="oramas2018")
        split = self.config.eval.split
        tracks, track_album, covers = self.embed_split(joint, split)
        metrics = cross_modal_retrieval(tracks, track_album, covers)
        metrics.update({f"chance_{k}": v for k, v in chance_retrieval(track_album, len(covers)).items()})
        metrics.update({"albums": int(len(covers)), "tracks": int(len(tracks)),
                        "parameters": int(sum(np.prod(w.shape) for w in joint.trainable_weights))})
        card = {"labels": list(self.store.labels), "objective": "album_triplets",
                "image": {"height": self.size, "width": self.size, "preprocessing": "caffe"},
                "audio_run": self.params.audio_run, "image_run": self.params.image_run}
        return joint, card, metrics
