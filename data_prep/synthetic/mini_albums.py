"""``mini-albums``: a synthesised proxy of MuMu (Oramas et al., TISMIR 2018): albums of the ``mini-artists`` songs,
each with a procedurally drawn cover, multi-label genres.

Audio: the 20 songs of each ``mini-artists`` artist (:mod:`sampleaudio.data_prep.synthetic.mini_artists`; its store
is generated first if needed and its audio copied) make 10 albums of 2 songs, in the artist's order. Each artist
has a genre (``chorale``, ``renaissance``, ``german-folk``, ``chinese-folk``, ``celtic-dance``) and a production
(a low-pass "brightness", a noise floor). Splits are by album, per artist (6 train, 2 valid, 2 test albums), as
MuMu splits albums: an artist's other albums are in the training split, as on MuMu.

Labels (multi-label, 9), each with what carries it:

- the five genres (the artist's): audio (instruments, corpus); the cover only partly (below);
- ``early-music`` (chorale, renaissance) and ``folk`` (the three others), parents as MuMu's hierarchy has them:
  audio and cover;
- ``lo-fi`` (an artist with the loudest noise floor, -35 dB), MuMu's "Lo-Fi": audio (hiss); a grainy cover on
  60 % of lo-fi albums and 10 % of the others;
- ``holiday`` (20 % of albums, drawn per album), MuMu's "Christmas" / "Holiday & Wedding": the cover only (stars
  on 85 % of holiday covers and 5 % of the others); the audio does not know.

Covers (96 x 96 RGB PNG), one style per genre group, shared where the genres' sound differs: ``engraving`` (dark
blue, light frames) for chorale *and* renaissance, ``woodcut`` (warm, large discs) for german-folk *and*
chinese-folk, ``stripes`` (green, diagonal) for celtic-dance; 20 % of covers are off-style (one of the two other
styles); every cover has a random title block, colour, position and brightness. So a cover alone tells the
parent genre, lo-fi poorly and holiday well but cannot separate genres that share a style; the audio tells the
genres and lo-fi but not holiday; together they do best.

This is a proxy: its numbers are never comparable to the paper's.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile

import numpy as np

from sampleaudio.data_prep import mumu
from sampleaudio.errors import ParameterError
from sampleaudio.stores import Clip, DatasetInfo, Manifest, write_dataset

__all__ = ["NAME", "VERSION", "INFO", "GENRES", "LABELS", "STYLES", "SONGS_PER_ALBUM", "COVER_SIDE", "Album",
           "albums", "draw_cover", "plan", "convert"]

NAME = "mini-albums"
VERSION = "1.0"
INFO = DatasetInfo.proxy(
    mumu.INFO, name=NAME, requires=("music21", "pretty_midi", "tinysoundfont"),
    description="mini-albums: the mini-artists songs as 2-song albums with procedurally drawn covers (style by "
                "genre group, off-style covers, holiday and lo-fi marks); 9 multi-label genres (MuMu proxy)")
GENRES = ("celtic-dance", "chinese-folk", "chorale", "german-folk", "renaissance")
PARENTS = {"early-music": ("chorale", "renaissance"), "folk": ("celtic-dance", "chinese-folk", "german-folk")}
LABELS = (*GENRES, "early-music", "folk", "lo-fi", "holiday")
STYLES = {"engraving": ("chorale", "renaissance"), "woodcut": ("chinese-folk", "german-folk"),
          "stripes": ("celtic-dance",)}
SONGS_PER_ALBUM = 2
COVER_SIDE = 96
#: album splits per artist (of its 10 albums)
SPLIT_COUNTS = (("train", 6), ("valid", 2), ("test", 2))
OFF_STYLE, HOLIDAY, LOFI_NOISE_DB = 0.2, 0.2, -35.0
#: P(mark | label), P(mark | no label) of the cover's stars (holiday) and grain (lo-fi)
STARS, GRAIN = (0.85, 0.05), (0.6, 0.1)


@dataclasses.dataclass(frozen=True)
class Album:
    album_id: str
    artist: str
    genre: str
    songs: tuple[str, ...]  # mini-artists clip ids
    split: str
    labels: tuple[str, ...]
    style: str
    stars: bool
    grain: bool
    seed: int


def _style_of(genre: str) -> str:
    return next(s for s, genres in STYLES.items() if genre in genres)


def albums(size: str = "default", seed: int = 0) -> list[Album]:
    """Every album (artist order, then song order), from ``size`` and ``seed`` only."""
    from sampleaudio.data_prep.synthetic import mini_artists

    source, _ = mini_artists.artists(size, seed)
    clips, _ = mini_artists.plan(size, seed)
    songs: dict[str, list[str]] = {}
    for clip in clips:
        songs.setdefault(clip.artist_id, []).append(clip.clip_id)
    rng = np.random.default_rng([seed, 2018])
    out = []
    for artist in source:
        own = songs[artist.name]
        count = len(own) // SONGS_PER_ALBUM
        splits = [s for s, n in SPLIT_COUNTS for _ in range(n)]
        splits = (splits + ["train"] * count)[:count]
        order = rng.permutation(count)
        for k in range(count):
            holiday = bool(rng.random() < HOLIDAY)
            lofi = artist.noise_db >= LOFI_NOISE_DB
            labels = [artist.genre, *[p for p, members in PARENTS.items() if artist.genre in members]]
            labels += ["lo-fi"] * lofi + ["holiday"] * holiday
            style = _style_of(artist.genre)
            if rng.random() < OFF_STYLE:
                style = str(rng.choice([s for s in STYLES if s != style]))
            stars = bool(rng.random() < STARS[0 if holiday else 1])
            grain = bool(rng.random() < GRAIN[0 if lofi else 1])
            out.append(Album(f"{artist.name}-album{k + 1:02d}", artist.name, artist.genre,
                             tuple(own[k * SONGS_PER_ALBUM:(k + 1) * SONGS_PER_ALBUM]), splits[order[k]],
                             tuple(sorted(labels, key=LABELS.index)), style, stars, grain,
                             int(rng.integers(2 ** 31))))
    return out


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    from matplotlib.colors import hsv_to_rgb

    return hsv_to_rgb([h % 1.0, np.clip(s, 0, 1), np.clip(v, 0, 1)])


def draw_cover(album: Album, side: int = COVER_SIDE) -> np.ndarray:
    """The album's cover, ``uint8 [side, side, 3]`` RGB, from the album's own seed."""
    rng = np.random.default_rng(album.seed)
    y, x = np.mgrid[0:side, 0:side].astype(np.float64)
    if album.style == "engraving":
        img = np.broadcast_to(_hsv(rng.uniform(0.58, 0.68), rng.uniform(0.5, 0.8), rng.uniform(0.1, 0.25)),
                              (side, side, 3)).copy()
        ink = _hsv(0.12, rng.uniform(0.1, 0.3), rng.uniform(0.8, 0.95))
        for k in range(int(rng.integers(2, 5))):
            m = 6 + 7 * k + int(rng.integers(0, 3))
            w = int(rng.integers(1, 3))
            frame = ((np.abs(x - side / 2) <= side / 2 - m) & (np.abs(y - side / 2) <= side / 2 - m)
                     & ~((np.abs(x - side / 2) <= side / 2 - m - w) & (np.abs(y - side / 2) <= side / 2 - m - w)))
            img[frame] = ink
        r = rng.uniform(8, 16)
        ring = np.abs(np.hypot(x - side / 2, y - side / 2) - r) < 1.0
        img[ring] = ink
    elif album.style == "woodcut":
        hue = rng.uniform(0.0, 0.1)
        img = np.broadcast_to(_hsv(hue, rng.uniform(0.6, 0.9), rng.uniform(0.7, 0.9)), (side, side, 3)).copy()
        for _ in range(int(rng.integers(3, 7))):
            cx, cy, r = rng.uniform(0, side), rng.uniform(0, side), rng.uniform(8, 26)
            disc = np.hypot(x - cx, y - cy) < r
            img[disc] = _hsv(hue + rng.uniform(-0.05, 0.05), rng.uniform(0.6, 1.0), rng.uniform(0.3, 0.5))
    else:  # stripes
        hue, sat, val = rng.uniform(0.28, 0.45), rng.uniform(0.5, 0.8), rng.uniform(0.5, 0.7)
        angle = np.deg2rad(rng.choice([rng.uniform(30, 60), rng.uniform(120, 150)]))
        period = rng.uniform(8, 16)
        phase = (x * np.cos(angle) + y * np.sin(angle)) / period
        light = (np.floor(phase) % 2 == 0)[..., None]
        img = np.where(light, _hsv(hue, sat, val + 0.2), _hsv(hue, sat, val - 0.2))
    # the title block: a light bar with dark dashes, top or bottom (the same for every style)
    height = int(rng.integers(10, 17))
    top = 0 if rng.random() < 0.5 else side - height
    img[top:top + height] = _hsv(rng.random(), rng.uniform(0.2, 0.4), rng.uniform(0.7, 0.85))
    for _ in range(int(rng.integers(3, 8))):
        x0, length = int(rng.integers(2, side - 12)), int(rng.integers(4, 12))
        row = top + int(rng.integers(2, height - 3))
        img[row:row + 2, x0:x0 + length] = 0.15
    if album.stars:
        for _ in range(int(rng.integers(6, 13))):  # white six-pointed sparkles
            cx, cy, r = int(rng.integers(4, side - 4)), int(rng.integers(4, side - 4)), int(rng.integers(2, 4))
            img[cy - r:cy + r + 1, cx - 1:cx + 1] = 1.0
            img[cy - 1:cy + 1, cx - r:cx + r + 1] = 1.0
            for d in range(-r + 1, r):
                img[cy + d, cx + d] = 1.0
                img[cy + d, cx - d] = 1.0
    img = img * rng.uniform(0.85, 1.15)
    if album.grain:
        img = img + rng.normal(0, 0.07, img.shape)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def plan(size: str = "default", seed: int = 0, covers: str | None = None) -> tuple[list[Clip], list[str]]:
    """The clips (mini-artists clip ids, album splits and labels; ``cover`` the PNG path under ``covers`` when
    given) and the label vocabulary."""
    from sampleaudio.data_prep.synthetic import mini_artists

    by_id = {c.clip_id: c for c in mini_artists.plan(size, seed)[0]}
    clips = []
    for album in albums(size, seed):
        features = {"album_id": album.album_id}
        if covers is not None:
            features["cover"] = os.path.join(covers, album.album_id + ".png")
        for song in album.songs:
            clips.append(Clip(song, album.split, tuple(LABELS.index(label) for label in album.labels),
                              by_id[song].source, artist_id=album.artist, track_id=by_id[song].track_id,
                              features=features))
    return clips, list(LABELS)


def convert(out: str, *, size: str = "default", seed: int = 0, workers: int = 1, progress: bool = True) -> Manifest:
    """Generate ``mini-albums`` at ``out`` from the ``mini-artists`` store beside it (made if missing)."""
    from PIL import Image

    from sampleaudio.data_prep.synthetic import ensure
    from sampleaudio.data_prep.synthetic.mini_artists_tags import StoreAudio

    if size not in ("small", "default"):
        raise ParameterError(f"size must be 'small' or 'default'. Received: size={size!r}")
    source = ensure("mini-artists", size=size, seed=seed, root=os.path.dirname(os.path.abspath(out)),
                    workers=workers, progress=progress)
    with tempfile.TemporaryDirectory(prefix="mini-albums-covers-") as covers:
        for album in albums(size, seed):
            Image.fromarray(draw_cover(album)).save(os.path.join(covers, album.album_id + ".png"))
        clips, labels = plan(size, seed, covers)
        return write_dataset(clips, out, info=INFO, labels=labels, converter=__name__, converter_version=VERSION,
                             loader=StoreAudio(source), workers=1, clips_per_shard=64, seed=seed, progress=progress,
                             extra={"synthetic": "the songs of mini-artists as 2-song albums with drawn covers",
                                    "size": size, "seed": seed, "audio_from": os.path.basename(source),
                                    "split_rule": "by album, per artist: 6 train, 2 valid, 2 test albums",
                                    "label_rule": "genre and parent of the artist; lo-fi: noise floor -35 dB; "
                                                  "holiday: 20 % of albums (cover only)"})
