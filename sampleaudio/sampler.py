"""Seeded tf.data sampler of (anchor, positive, negatives) by artist for metric learning (Park et al., ISMIR 2018,
Sec. 3.2; the authors' ``data_generator.py``).

Each example draws an anchor song of the split uniformly, a positive (another song of the same artist) and
``num_negatives`` negatives (songs of other artists: an artist drawn uniformly among the others, then one of its
songs), and a random crop of ``segment`` samples from each song (short songs are tiled). The whole draw is a
function of ``(seed, example number)`` through TensorFlow's stateless random ops, so the sequence of batches is
identical from run to run, whatever the number of parallel calls.

The split's audio is held in memory as 16-bit PCM (one flat tensor with offsets), which suits the embedded
proxies and stores up to a few GiB; the artist of each song comes from the records' ``artist_id``.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from sampleaudio.errors import ParameterError

__all__ = ["ArtistSongs", "load_artist_songs", "siamese_dataset"]

AUTOTUNE = tf.data.AUTOTUNE


class ArtistSongs:
    """The songs of one split grouped by artist: ``pcm`` (flat int16), ``offsets``/``lengths`` per song, songs
    ordered by artist, with ``starts``/``counts`` per artist."""

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
        clips = [np.clip(np.round(np.asarray(audio[i], np.float32) * 32767.0), -32768, 32767).astype(np.int16)
                 for i in order]
        self.lengths = np.array([c.size for c in clips], np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.pcm = np.concatenate(clips) if clips else np.zeros(0, np.int16)

    def __len__(self) -> int:
        return len(self.lengths)


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
                    drop_remainder: bool = False) -> tf.data.Dataset:
    """Batches of ``((anchor, positive, negative_1, ..., negative_N), zeros [B, 1 + N])``, each item
    ``[B, segment, 1]`` and standardised by ``mean``/``std``; endless unless ``num_examples`` is given.

    The target is a placeholder (the score layout carries the labels, :mod:`sampleaudio.losses`).
    """
    if segment < 1 or batch_size < 1 or num_negatives < 1:
        raise ParameterError(f"segment, batch_size and num_negatives must be >= 1. Received: segment={segment}, "
                             f"batch_size={batch_size}, num_negatives={num_negatives}")
    pcm = tf.constant(songs.pcm)
    offsets, lengths = tf.constant(songs.offsets), tf.constant(songs.lengths)
    starts, counts = tf.constant(songs.starts), tf.constant(songs.counts)
    song_artist = tf.constant(songs.song_artist)
    num_songs, num_artists = len(songs), len(songs.artists)
    n_draws = 2 + 2 * num_negatives + (2 + num_negatives)
    big = tf.constant(2 ** 62, tf.int64)

    def crop(song, r):
        length = lengths[song]
        room = tf.maximum(length - segment + 1, 1)
        start = tf.math.floormod(r, room)
        index = offsets[song] + tf.math.floormod(start + tf.range(segment, dtype=tf.int64), length)  # tiles
        x = tf.cast(tf.gather(pcm, index), tf.float32) / 32767.0
        return tf.reshape((x - mean) / std, [segment, 1])

    def draw(i):
        r = tf.random.stateless_uniform([n_draws], seed=tf.stack([tf.cast(seed, tf.int64), i]), minval=0,
                                        maxval=big, dtype=tf.int64)
        anchor = tf.math.floormod(r[0], num_songs)
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
        x = tuple(crop(song, r[base + n]) for n, song in enumerate(items))
        return x, tf.zeros([1 + num_negatives], tf.float32)

    ds = tf.data.Dataset.counter(dtype=tf.int64)
    if num_examples is not None:
        ds = ds.take(num_examples)
    ds = ds.map(draw, num_parallel_calls=AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)
