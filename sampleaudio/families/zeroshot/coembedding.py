"""The co-embedding objective of Choi, Lee, Park, Nam (ISMIR 2019) for :func:`sampleaudio.train.train`
(``objective="coembedding"``), and its seeded tf.data sampler (the authors' ``data_generator.py``).

- Tracks: every clip of the store (train, valid and test splits pooled, as the authors split one track list by
  tags, :mod:`sampleaudio.families.zeroshot.split`), held in memory as 16-bit PCM.
- Tags: the store's labels, split seen / unseen with ``split_seed`` (80 / 20); each tag's vector is the
  mean of its words' vectors from ``word_vectors`` (:mod:`sampleaudio.wordvectors`).
- Examples: one per AB-train track per epoch (a seeded shuffle): a random crop of ``segment`` samples (130 mel
  frames; short tracks tiled), a random *seen* tag the track has (positive) and ``num_negatives`` distinct random
  seen tags it lacks. The model (:func:`sampleaudio.families.zeroshot.model.CoEmbeddingModel`) scores their cosines, the
  max-margin hinge (0.4, summed over negatives and batch) trains it. Validation: a fixed seeded set of examples of
  AB-valid tracks.
- When the run finishes, ``best.keras`` is the audio branch (waveform -> 100-d, what ``embed`` / ``index`` use),
  ``word_branch.npz`` the word branch's kernel and bias, ``tag_vectors.npz`` the tags' input vectors and split, and
  ``final_metrics.json`` the :mod:`sampleaudio.families.zeroshot.metrics` of seen tags, unseen tags (zero-shot) and both
  (generalised zero-shot), each on tracks B + C as the authors' ``eval.py`` default.
"""

from __future__ import annotations

import json
import math
import os
import warnings

import keras
import numpy as np
import tensorflow as tf

from sampleaudio.errors import ParameterError
from sampleaudio.metric_learning import BIG, ClipBank, crop, sampler_dataset
from sampleaudio.stores import Store, open_store

__all__ = ["TaggedTracks", "load_tagged_tracks", "coembedding_dataset", "CoEmbeddingObjective", "track_embeddings",
           "load_word_branch", "SETTINGS"]

#: (name, tags, tracks) of the evaluation settings: eval.py's eval_tag / gzsl flags on its default B + C tracks.
SETTINGS = (("seen", "seen", "BC"), ("zsl", "unseen", "BC"), ("gzsl", "all", "BC"))


class TaggedTracks(ClipBank):
    """Tracks with their multi-hot labels: a :class:`ClipBank` with ``labels`` ``[tracks, tags]`` and ``keys``
    (``split/index``)."""

    def __init__(self, audio: list[np.ndarray], labels, keys: list[str]):
        if len(audio) != len(labels) or len(audio) != len(keys):
            raise ParameterError(f"{len(audio)} tracks but {len(labels)} label rows and {len(keys)} keys")
        super().__init__(audio)
        if np.any(self.lengths == 0):
            raise ParameterError(f"track {keys[int(np.argmin(self.lengths))]} is empty")
        self.labels = (np.asarray(labels) > 0).astype(np.int8)
        self.keys = list(keys)


def load_tagged_tracks(data_dir: str | os.PathLike | Store, splits=("train", "valid", "test")) -> TaggedTracks:
    """Every clip of ``splits`` of a multi-label store (its folder, or the opened
    :class:`~sampleaudio.stores.Store`), in split order."""
    from sampleaudio.pipeline import read_clips

    store = open_store(data_dir)
    if not store.multi_label:
        raise ParameterError(f"store '{store}' is single-label: zero-shot tagging needs tags (multi-label)")
    audio, labels, keys = [], [], []
    for split in splits:
        if split not in store.splits:
            continue
        for k, ex in enumerate(read_clips(store, split).as_numpy_iterator()):
            audio.append(ex["audio"])
            labels.append(ex["labels"])
            keys.append(f"{split}/{k}")
    if not audio:
        raise ParameterError(f"store '{store}' holds no clips in {list(splits)}")
    return TaggedTracks(audio, np.stack(labels), keys)


def coembedding_dataset(tracks: TaggedTracks, rows, labels, vectors, *, segment: int, batch_size: int,
                        num_negatives: int = 1, seed: int = 0, mean: float = 0.0, std: float = 1.0,
                        num_examples: int | None = None, drop_remainder: bool = False) -> tf.data.Dataset:
    """Batches of ``((audio [B, segment, 1], positive [B, D], negatives [B, N, D]), zeros [B, 1 + N])``.

    Args:
        tracks: the audio.
        rows: the tracks to draw from (e.g. AB-train).
        labels: ``[len(rows), S]`` 0/1 of the *seen* tags for those rows; every row needs at least one positive
            and ``num_negatives`` negatives.
        vectors: ``[S, D]`` the seen tags' word vectors.
        num_examples: ``None``: one pass over ``rows`` in a seeded order, then further seeded passes (endless);
            else exactly this many examples (rows drawn in turn), for a fixed validation set.
    """
    rows = np.asarray(rows, np.int64)
    labels = np.asarray(labels) > 0
    if segment < 1 or batch_size < 1 or num_negatives < 1:
        raise ParameterError(f"segment, batch_size and num_negatives must be >= 1. Received: segment={segment}, "
                             f"batch_size={batch_size}, num_negatives={num_negatives}")
    if len(rows) == 0 or labels.shape[0] != len(rows):
        raise ParameterError(f"{len(rows)} rows but {labels.shape[0]} label rows")
    pos, neg = labels.sum(axis=1), (~labels).sum(axis=1)
    if pos.min() < 1 or neg.min() < num_negatives:
        raise ParameterError(f"every track needs a seen tag and {num_negatives} seen tag(s) it lacks; "
                             f"track {int(rows[np.argmin(np.minimum(pos, neg - num_negatives + 1))])} does not")
    rows_t = tf.constant(rows)
    mask = tf.constant(labels)
    table = tf.constant(np.asarray(vectors, np.float32))

    def recipe(key, k):  # k: the position of the example's track in ``rows``
        r = tf.random.stateless_uniform([1], seed=key, minval=0, maxval=BIG, dtype=tf.int64)[0]
        u = tf.random.stateless_uniform([2, tf.shape(mask)[1]], seed=key + 1, minval=1e-12, maxval=1.0)
        gumbel = -tf.math.log(-tf.math.log(u))
        positives, negatives = mask[k], tf.logical_not(mask[k])
        p = tf.argmax(tf.where(positives, gumbel[0], -np.inf))  # uniform among the track's seen tags
        _, q = tf.math.top_k(tf.where(negatives, gumbel[1], -np.inf), k=num_negatives)  # distinct, uniform
        x = crop(tracks, rows_t[k], r, segment, mean, std)
        return (x, tf.gather(table, p), tf.gather(table, q)), tf.zeros([1 + num_negatives])

    return sampler_dataset(recipe, batch_size=batch_size, seed=seed, rows=rows, num_examples=num_examples,
                           drop_remainder=drop_remainder)


def track_embeddings(audio_branch: keras.Model, tracks: TaggedTracks, rows, *, segment: int, mean: float = 0.0,
                     std: float = 1.0, batch_size: int = 64, max_segments: int | None = None) -> np.ndarray:
    """Each track's embedding: the mean over its non-overlapping ``segment``-sample windows (a short track tiled to
    one window) of the audio branch's output, not renormalised (the authors' ``extract_embeddings_multi.py``)."""
    from sampleaudio.segments import clip_segments_np, pool_np, standardise_np

    segs, owner = [], []
    for j, row in enumerate(rows):
        a = clip_segments_np(tracks.audio(int(row)), segment, max_segments=max_segments or None)
        segs.append(standardise_np(a, mean, std))
        owner += [j] * len(a)
    x, owner = np.concatenate(segs)[..., None], np.asarray(owner)
    out = np.concatenate([np.asarray(audio_branch(x[i:i + batch_size], training=False))
                          for i in range(0, len(x), batch_size)])
    return pool_np(out, owner, "mean")[1].astype(np.float32)


def load_word_branch(run_dir: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(kernel [D, 100], bias [100], info)`` of a finished co-embedding run (``info``: the word-vector source,
    seed, tags, seen and unseen tags)."""
    path = os.path.join(run_dir, "word_branch.npz")
    if not os.path.exists(path):
        raise ParameterError(f"'{run_dir}' is not a finished co-embedding run (no word_branch.npz); train one with "
                             "--objective coembedding")
    with np.load(path, allow_pickle=False) as z:
        kernel, bias, info = z["kernel"], z["bias"], json.loads(str(z["info"]))
    return kernel, bias, info


class CoEmbeddingObjective:
    """The co-embedding objective (:class:`sampleaudio.objectives.Objective`; see the module docstring).

    Its settings are the run's :class:`~sampleaudio.families.zeroshot.CoEmbeddingParams` (``word_vectors``,
    ``num_negatives``, ``margin``, ``unseen_fraction``, ``split_seed``, ``oov_tags``); ``train.seed`` seeds random
    word vectors.
    """

    def __init__(self, config, store, *, segment: int, mean: float, std: float, valid_examples: int = 0):
        if config.train.distribute == "multiworker":
            raise ParameterError("the coembedding objective runs with distribute none or mirrored, not multiworker")
        params = config.objective
        self.data_dir, self.segment, self.mean, self.std = store, segment, mean, std
        self.batch_size, self.valid_examples = config.data.batch_size, valid_examples
        self.word_vectors, self.num_negatives, self.margin = params.word_vectors, params.num_negatives, params.margin
        self.unseen_fraction, self.split_seed, self.oov_tags = params.unseen_fraction, params.split_seed, params.oov_tags
        self.vector_seed = config.train.seed  # seed of ``random:<dim>`` word vectors
        self.max_segments = config.data.max_eval_segments
        self._prepare()

    def _prepare(self) -> None:
        from sampleaudio.families.zeroshot.split import split_tags, split_tracks
        from sampleaudio.wordvectors import load_word_vectors, tag_vectors, tag_words

        if self.oov_tags not in ("error", "drop"):
            raise ParameterError(f"oov_tags must be 'error' or 'drop'. Received: {self.oov_tags!r}")
        labels = list(self.data_dir.labels)
        try:
            vectors = load_word_vectors(self.word_vectors, [w for t in labels for w in tag_words(t)],
                                        seed=self.vector_seed)
        except ParameterError as exc:
            raise ParameterError(f"objective.word_vectors: {exc}") from exc
        tv = tag_vectors(labels, vectors)
        if tv.oov and self.oov_tags == "error":
            raise ParameterError(f"word vectors '{self.word_vectors}': {tv.report()}; use other word vectors or "
                                 "--oov-tags drop (the run then records the dropped tags)")
        if tv.report():
            warnings.warn(f"word vectors '{self.word_vectors}': {tv.report()}", stacklevel=2)
        keep = [i for i, t in enumerate(labels) if t not in set(tv.oov)]
        self.dropped_tags = list(tv.oov)
        self.partial_tags = dict(tv.partial)
        self.tags = [labels[i] for i in keep]
        self.vectors = tv.matrix[keep]
        self.word_dim = vectors.dim
        self.tracks = load_tagged_tracks(self.data_dir)
        self.labels = self.tracks.labels[:, keep]
        self.split = split_tags(self.tags, unseen_fraction=self.unseen_fraction, seed=self.split_seed)
        self.sets = split_tracks(self.labels, self.split, seed=self.split_seed)
        if not self.sets.AB_train or not self.sets.AB_valid:
            raise ParameterError(f"store '{self.data_dir}': too few tracks with seen tags to train and validate")
        seen = list(self.split.seen)
        self.seen_vectors = self.vectors[seen]
        self.valid_examples = self.valid_examples or max(self.batch_size, 4 * len(self.sets.AB_valid))
        if len(seen) <= self.num_negatives:
            raise ParameterError(f"{len(seen)} seen tags leave no room for {self.num_negatives} negatives")

    def wrap(self, model: keras.Model) -> keras.Model:
        from sampleaudio.families.zeroshot.model import EMBED_DIM, CoEmbeddingModel

        if model.output.shape[-1] != EMBED_DIM or model.name != "audio_branch":
            raise ParameterError("the coembedding objective trains Choi 2019's audio branch: use --architecture "
                                 "choi2019_audio")
        return CoEmbeddingModel(model, word_dim=self.word_dim, num_negatives=self.num_negatives)

    def loss(self):
        from sampleaudio.losses import SiameseLoss

        return SiameseLoss("max_margin", self.margin, reduction="sum")

    def steps_per_epoch(self) -> int:
        """One example per AB-train track per epoch."""
        return max(1, math.ceil(len(self.sets.AB_train) / self.batch_size))

    def _dataset(self, rows, seed, **kwargs):
        return coembedding_dataset(self.tracks, rows, self.labels[np.asarray(rows)][:, list(self.split.seen)],
                                   self.seen_vectors, segment=self.segment, batch_size=self.batch_size,
                                   num_negatives=self.num_negatives, seed=seed, mean=self.mean, std=self.std,
                                   **kwargs)

    def train_dataset(self, seed: int, *, drop_remainder: bool = False):
        return self._dataset(self.sets.AB_train, seed, drop_remainder=drop_remainder)

    def valid_dataset(self):
        """A fixed, seeded set of examples of AB-valid tracks."""
        ds = self._dataset(self.sets.AB_valid, 2 ** 31 - 1, num_examples=self.valid_examples)
        return ds, math.ceil(self.valid_examples / self.batch_size)

    def evaluate(self, audio_branch: keras.Model, kernel, bias, max_segments: int | None = None) -> dict:
        """The metrics of every :data:`SETTINGS` entry, keys ``<setting>_<metric>``, and the same metrics of seeded
        uniform random scores on the same tables, keys ``chance_<setting>_<metric>`` (what no model gives)."""
        from sampleaudio.families.zeroshot.metrics import zero_shot_metrics
        from sampleaudio.metrics import cosine_similarity_matrix

        rows = self.sets.tracks("ABC")
        emb = track_embeddings(audio_branch, self.tracks, rows, segment=self.segment, mean=self.mean, std=self.std,
                               max_segments=max_segments)
        where = {r: j for j, r in enumerate(rows)}
        tag_emb = self.vectors @ kernel + bias
        scores = cosine_similarity_matrix(tag_emb, emb)  # [tags, tracks]
        groups = {"seen": list(self.split.seen), "unseen": list(self.split.unseen),
                  "all": list(self.split.seen) + list(self.split.unseen)}
        out = {}
        for name, tags, track_set in SETTINGS:
            cols = [where[r] for r in self.sets.tracks(track_set)]
            truth = self.labels[np.asarray(self.sets.tracks(track_set))][:, groups[tags]].T
            m = zero_shot_metrics(truth, scores[groups[tags]][:, cols])
            out.update({f"{name}_{k}": v for k, v in m.items()})
            noise = np.random.default_rng([self.split_seed, 7]).random(truth.shape)
            out.update({f"chance_{name}_{k}": v for k, v in zero_shot_metrics(truth, noise).items()})
        return out

    def finish(self, model: keras.Model, run_dir: str) -> tuple[keras.Model, dict, dict]:
        """``(audio branch, card fields, metrics)``; writes ``word_branch.npz`` and ``tag_vectors.npz``. The
        evaluation tracks are the paper's B + C (not ``eval.split``)."""
        from sampleaudio.families.zeroshot.model import audio_branch_of, word_branch_of

        audio_branch = audio_branch_of(model)
        kernel, bias = (np.asarray(w) for w in word_branch_of(model).get_weights())
        info = {"word_vectors": self.word_vectors, "vector_seed": self.vector_seed, "word_dim": self.word_dim,
                "tags": self.tags, "seen_tags": self.split.seen_tags, "unseen_tags": self.split.unseen_tags,
                "dropped_oov_tags": self.dropped_tags}
        np.savez(os.path.join(run_dir, "word_branch.npz"), kernel=kernel, bias=bias, info=json.dumps(info))
        np.savez(os.path.join(run_dir, "tag_vectors.npz"), tags=np.array(self.tags, dtype=str), vectors=self.vectors,
                 seen=np.array(self.split.seen), unseen=np.array(self.split.unseen))
        metrics = self.evaluate(audio_branch, kernel, bias, self.max_segments)
        metrics.update({"seen_tags": len(self.split.seen), "unseen_tags": len(self.split.unseen),
                        **{f"tracks_{k}": len(self.sets.tracks(k)) for k in ("A", "B", "C")},
                        "tracks_AB_train": len(self.sets.AB_train), "tracks_dropped": len(self.sets.dropped),
                        "dropped_oov_tags": self.dropped_tags,
                        "parameters": int(sum(np.prod(w.shape) for w in audio_branch.trainable_weights))})
        card = {"labels": [], "embedding_layer": "audio_embedding", "objective": "coembedding",
                "word_vectors": self.word_vectors, "word_dim": self.word_dim,
                "seen_tags": self.split.seen_tags, "unseen_tags": self.split.unseen_tags}
        return audio_branch, card, metrics

