"""A store's tracks grouped by album, with the albums' covers and genres: what the cover objective, the triplet
sampler and the multimodal classifiers read.

A track's clip carries its album's id (``album_id``), cover (``cover``, encoded bytes) and genres (the labels);
:class:`Albums` keeps the tracks ordered by album as a :class:`~sampleaudio.metric_learning.ClipBank` (the one
metric-learning sampler's bank; with ``audio=False`` the tracks hold no samples) and one row per album: its id,
split, labels and cover bytes (from its first track: on MuMu and the proxy every track of an album carries the
same; on MSD-I an ``album_index`` whose tracks disagree keeps its first track's).

:func:`decode_cover` is the cover's input path: ``tf.io.decode_image`` (JPEG, PNG, GIF, BMP) to RGB, bilinear
resize (antialiased) to the network's square side, floats in 0..255; the network scales them itself
(:class:`~sampleaudio.families.oramas2018.model.ImagePreprocess`).
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from sampleaudio.errors import ParameterError
from sampleaudio.metric_learning import ClipBank
from sampleaudio.stores import SPLITS, Store, open_store

__all__ = ["Albums", "load_albums", "decode_cover", "cover_arrays", "image_statistics"]


class Albums(ClipBank):
    """Tracks ordered by album (a :class:`ClipBank`) and the albums' facts (see the module docstring).

    Attributes:
        ids, split, labels, covers: per album (``labels`` ``[albums, classes]`` 0/1, ``covers`` encoded bytes).
        track_album: per track, its album's row; ``starts`` / ``counts``: each album's tracks in the bank.
        track_ids: per track, its clip id.
    """

    def __init__(self, audio: list[np.ndarray], track_ids: list[str], track_albums: list[str],
                 album_rows: dict[str, tuple[str, np.ndarray, bytes]]):
        if not (len(audio) == len(track_ids) == len(track_albums)):
            raise ParameterError(f"{len(audio)} tracks but {len(track_ids)} ids and {len(track_albums)} albums")
        self.ids = list(album_rows)
        row = {a: k for k, a in enumerate(self.ids)}
        order = sorted(range(len(track_ids)), key=lambda i: (row[track_albums[i]], i))
        self.track_album = np.array([row[track_albums[i]] for i in order], np.int64)
        self.track_ids = [track_ids[i] for i in order]
        self.counts = np.bincount(self.track_album, minlength=len(self.ids)).astype(np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)
        self.split = np.array([album_rows[a][0] for a in self.ids])
        self.labels = np.stack([album_rows[a][1] for a in self.ids]).astype(np.int8)
        self.covers = [album_rows[a][2] for a in self.ids]
        super().__init__([audio[i] for i in order])

    def albums_of(self, split: str) -> np.ndarray:
        """The album rows of ``split``."""
        return np.flatnonzero(self.split == split)

    def tracks_of(self, albums) -> np.ndarray:
        """The track rows of the given albums, album by album."""
        return np.concatenate([np.arange(self.starts[a], self.starts[a] + self.counts[a]) for a in albums]
                              ).astype(np.int64) if len(albums) else np.zeros(0, np.int64)


def load_albums(store: str | os.PathLike | Store, splits=SPLITS, *, audio: bool = True) -> Albums:
    """The albums of ``splits`` of a store whose clips carry ``album_id`` and ``cover`` (MuMu, MSD-I,
    ``mini-albums``); ``audio=False`` keeps no samples (covers and genres only)."""
    from sampleaudio.pipeline import read_clips

    store = open_store(store)
    names = {f.name for f in store.features}
    if not {"album_id", "cover"} <= names:
        raise ParameterError(f"store '{store}' has no album covers (its clips carry {sorted(names)}); convert "
                             "MuMu, MSD-I or mini-albums")
    waves, track_ids, track_albums, rows = [], [], [], {}
    for split in splits:
        if split not in store.splits:
            continue
        for ex in read_clips(store, split).as_numpy_iterator():
            album = ex["album_id"].decode()
            if album in rows and rows[album][0] != split:
                raise ParameterError(f"store '{store}': album {album} has tracks in '{rows[album][0]}' and '{split}'")
            rows.setdefault(album, (split, ex["labels"] > 0, bytes(ex["cover"])))
            waves.append(ex["audio"] if audio else np.zeros(0, np.float32))
            track_ids.append(ex["clip_id"].decode())
            track_albums.append(album)
    if not rows:
        raise ParameterError(f"store '{store}' holds no clips in {list(splits)}")
    return Albums(waves, track_ids, track_albums, rows)


def decode_cover(data: tf.Tensor, size: int) -> tf.Tensor:
    """Encoded cover bytes (a scalar string tensor) -> ``[size, size, 3]`` float32 RGB in 0..255."""
    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    image = tf.image.resize(tf.cast(image, tf.float32), [size, size], method="bilinear", antialias=True)
    return tf.clip_by_value(image, 0.0, 255.0)


def cover_arrays(covers: list[bytes], size: int) -> np.ndarray:
    """:func:`decode_cover` of every cover: ``[N, size, size, 3]`` float32."""
    if not covers:
        return np.zeros((0, size, size, 3), np.float32)
    return np.stack([decode_cover(tf.constant(c), size).numpy() for c in covers])


def image_statistics(images: np.ndarray) -> np.ndarray:
    """Hand-made cover features for the image baseline, ``[N, 44]``: per RGB and HSV channel the mean and
    standard deviation (12), a 12-bin hue histogram weighted by saturation (12), the shares of near-white and
    near-black pixels (2), the mean absolute horizontal, vertical and diagonal gradients (3), and the mean RGB of
    each quarter and of the centre (15)."""
    from matplotlib.colors import rgb_to_hsv

    x = np.asarray(images, np.float64) / 255.0
    hsv = rgb_to_hsv(np.clip(x, 0, 1))
    feats = []
    for img, h in zip(x, hsv):
        grey = img.mean(-1)
        hist = np.bincount(np.minimum((h[..., 0] * 12).astype(int), 11).ravel(), weights=h[..., 1].ravel(),
                           minlength=12) / h[..., 0].size
        gy, gx = np.abs(np.diff(grey, axis=0)).mean(), np.abs(np.diff(grey, axis=1)).mean()
        gd = np.abs(grey[1:, 1:] - grey[:-1, :-1]).mean()
        H, W = grey.shape
        parts = [img[:H // 2, :W // 2], img[:H // 2, W // 2:], img[H // 2:, :W // 2], img[H // 2:, W // 2:],
                 img[H // 4:3 * H // 4, W // 4:3 * W // 4]]
        feats.append(np.concatenate([img.mean((0, 1)), img.std((0, 1)), h.mean((0, 1)), h.std((0, 1)), hist,
                                     [(grey > 0.9).mean(), (grey < 0.1).mean(), gx, gy, gd],
                                     *[p.mean((0, 1)) for p in parts]]))
    return np.asarray(feats, np.float32)
