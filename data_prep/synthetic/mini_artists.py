"""``mini-artists`` and ``mini-artists-genres``: synthesised proxies for artist-label representation learning
(Park et al., ISMIR 2018): an MSD-artist-like source set and a GTZAN-like genre-labelled target set.

Built like ``mini-mtat``: real scores from the music21 corpus rendered with pretty-midi's TimGM6mb.sf2 through
tinysoundfont. Each synthetic *artist* is a stable identity drawn once from a seeded generator:

- a genre, which fixes the corpus it plays from and the instrument palette it picks from: ``chorale`` (Bach
  chorales), ``renaissance`` (Palestrina), ``german-folk`` and ``chinese-folk`` (the Essen collection),
  ``celtic-dance`` (O'Neill's and Ryan's dance tunes, tempo from the tune's rhythm);
- its own instrument set (one program per voice), tempo factor, key (a transposition centre), loudness,
  drums or not, a brightness (a one-pole low-pass) and a noise floor: its "production";
- its own 20 pieces (no piece is played by two artists).

``mini-artists`` (source): songs 1-15 of each artist train, 16-18 valid, 19-20 test, as the authors' MSD
artist split; the label is the artist (for the basic model) and ``artist_id`` drives the Siamese sampler.
``mini-artists-genres`` (target): other artists (other pieces), labelled by genre, split 48/21/31 per genre
(seeded, stratified: the proportions of GTZAN's fault-filtered 443/197/290 split); the transfer evaluation of
Sec. 4 (MAP, kNN, linear softmax) runs on it.

This is a proxy: its numbers are never comparable to the paper's.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from sampleaudio.data_prep import gtzan, msd_artist
from sampleaudio.data_prep.synthetic.render import render_notes
from sampleaudio.data_prep.synthetic.scores import catalog, drum_pattern, loop_notes, score_parts
from sampleaudio.errors import AudioDecodeError, ParameterError
from sampleaudio.stores import Clip, DatasetInfo, Manifest, write_dataset

__all__ = ["NAME", "TARGET_NAME", "VERSION", "SIZES", "GENRES", "artists", "plan", "plan_target",
           "MiniArtistsLoader", "convert", "convert_target", "INFO", "TARGET_INFO"]

NAME = "mini-artists"
TARGET_NAME = "mini-artists-genres"
VERSION = "1.0"
INFO = DatasetInfo.proxy(
    msd_artist.INFO, name=NAME, requires=("music21", "pretty_midi", "tinysoundfont"),
    description="mini-artists: music21 scores rendered by synthetic artists (stable instruments, tempo, key, "
                "production); artist labels, MSD artist split (proxy)")
#: ``mini-artists-genres`` (:mod:`sampleaudio.data_prep.synthetic.mini_artists_genres` declares it as its ``INFO``)
TARGET_INFO = DatasetInfo.proxy(
    gtzan.INFO, name=TARGET_NAME, requires=("music21", "pretty_midi", "tinysoundfont"),
    description="mini-artists-genres: other synthetic artists of mini-artists, labelled by genre (proxy)")
SONGS_PER_ARTIST = 20
#: size -> (source artists, target artists per genre, target songs per artist, clip seconds)
SIZES = {"small": (4, 2, 4, 3.05), "default": (24, 4, 8, 6.0)}

# genre: (catalog collections, polyphonic, GM palette, drum probability)
GENRES = {
    "chorale": (("bach",), True, [19, 20, 52, 48, 61, 0, 42, 71], 0.0),
    "renaissance": (("palestrina",), True, [52, 53, 73, 74, 48, 6, 24, 68], 0.0),
    "german-folk": (("essen-german",), False, [21, 0, 24, 40, 73, 25, 22, 46], 0.3),
    "chinese-folk": (("essen-chinese",), False, [73, 75, 107, 46, 77, 40, 104, 0], 0.2),
    "celtic-dance": (("dance",), False, [110, 40, 73, 21, 109, 24, 22, 81], 0.6),
}


@dataclasses.dataclass(frozen=True)
class Artist:
    name: str
    genre: str
    programs: tuple[int, ...]
    tempo: float  # factor on the piece's tempo range midpoint
    key: int  # transposition centre in semitones
    velocity: int
    drums: bool
    brightness: float  # one-pole low-pass coefficient (0 = none)
    noise_db: float
    pieces: tuple[str, ...]
    bpm: tuple[tuple[int, int], ...]  # per piece


def _draw_artist(name: str, genre: str, pieces, rng: np.random.Generator) -> Artist:
    _, poly, palette, drum_p = GENRES[genre]
    count = 4 if poly else 3
    programs = [int(p) for p in rng.choice(palette, size=count - (0 if poly else 1), replace=False)]
    if not poly:
        programs.append(int(rng.choice([32, 33, 35, 42, 43])))  # bass
    return Artist(name=name, genre=genre, programs=tuple(programs), tempo=round(float(rng.uniform(0.75, 1.25)), 3),
                  key=int(rng.integers(-6, 7)), velocity=int(rng.choice([50, 70, 90, 110])),
                  drums=bool(rng.random() < drum_p), brightness=float(rng.choice([0.0, 0.5, 0.8])),
                  noise_db=float(rng.choice([-60.0, -45.0, -35.0])),
                  pieces=tuple(p.piece_id for p in pieces), bpm=tuple(p.bpm for p in pieces))


def artists(size: str = "default", seed: int = 0) -> tuple[list[Artist], list[Artist]]:
    """The source and target artists (disjoint artists, disjoint pieces), from ``seed`` only."""
    if size not in SIZES:
        raise ParameterError(f"size must be one of {sorted(SIZES)}. Received: size={size!r}")
    n_source, per_genre, target_songs, _ = SIZES[size]
    rng = np.random.default_rng(seed)
    pool = {g: [p for p in catalog() if p.collection in cols and (p.bpm[1] > 0)] for g, (cols, *_) in GENRES.items()}
    for g in pool:
        pool[g] = [pool[g][i] for i in rng.permutation(len(pool[g]))]
    genres = sorted(GENRES)
    source, target = [], []
    for k in range(n_source):
        g = genres[k % len(genres)]
        take, pool[g] = pool[g][:SONGS_PER_ARTIST], pool[g][SONGS_PER_ARTIST:]
        source.append(_draw_artist(f"artist{k:03d}", g, take, rng))
    for g in genres:
        for k in range(per_genre):
            take, pool[g] = pool[g][:target_songs], pool[g][target_songs:]
            target.append(_draw_artist(f"{g}-artist{k:02d}", g, take, rng))
    return source, target


def _recipe(artist: Artist, song: int, seconds: float, rng: np.random.Generator) -> str:
    low, high = artist.bpm[song]
    bpm = 0.5 * (low + high) * artist.tempo * float(rng.uniform(0.97, 1.03))
    return json.dumps({"piece": artist.pieces[song], "programs": list(artist.programs), "bpm": round(bpm, 2),
                       "transpose": artist.key + int(rng.integers(-1, 2)), "velocity": artist.velocity,
                       "drums": artist.drums, "brightness": artist.brightness, "noise_db": artist.noise_db,
                       "start": round(float(rng.random()), 4), "seconds": seconds,
                       "seed": int(rng.integers(2 ** 31))}, sort_keys=True)


def plan(size: str = "default", seed: int = 0) -> tuple[list[Clip], list[str]]:
    """The source set's clips (recipes as ``source``) and its labels (the artists)."""
    source, _ = artists(size, seed)
    seconds = SIZES[size][3]
    rng = np.random.default_rng(seed + 1)
    clips = []
    for a, artist in enumerate(source):
        for s in range(len(artist.pieces)):
            split = "train" if s < 15 else "valid" if s < 18 else "test"  # MSD artist split: 15 / 3 / 2
            clips.append(Clip(f"{artist.name}-{s + 1:02d}", split, (a,), _recipe(artist, s, seconds, rng),
                              artist_id=artist.name, track_id=artist.pieces[s]))
    return clips, [a.name for a in source]


def plan_target(size: str = "default", seed: int = 0) -> tuple[list[Clip], list[str]]:
    """The target set's clips labelled by genre, split 48/21/31 per genre (seeded)."""
    _, target = artists(size, seed)
    seconds = SIZES[size][3]
    genres = sorted(GENRES)
    rng = np.random.default_rng(seed + 2)
    by_genre: dict[str, list[tuple[Artist, int]]] = {g: [] for g in genres}
    for artist in target:
        by_genre[artist.genre].extend((artist, s) for s in range(len(artist.pieces)))
    clips = []
    for g in genres:
        songs = [by_genre[g][i] for i in rng.permutation(len(by_genre[g]))]
        n_train, n_valid = round(0.48 * len(songs)), round(0.21 * len(songs))
        for k, (artist, s) in enumerate(songs):
            split = "train" if k < n_train else "valid" if k < n_train + n_valid else "test"
            clips.append(Clip(f"{artist.name}-{s + 1:02d}", split, (genres.index(g),),
                              _recipe(artist, s, seconds, rng), artist_id=artist.name, track_id=artist.pieces[s]))
    return sorted(clips, key=lambda c: c.clip_id), genres


@dataclasses.dataclass(frozen=True)
class MiniArtistsLoader:
    """Render one song from its recipe (picklable for worker processes)."""

    def __call__(self, clip: Clip) -> np.ndarray:
        recipe = json.loads(clip.source)
        parts, length = score_parts(recipe["piece"])
        rng = np.random.default_rng(recipe["seed"])
        seconds = recipe["seconds"]
        spq = 60.0 / recipe["bpm"]
        window = seconds / spq
        start = recipe["start"] * max(0.0, length - window)
        programs, shift = recipe["programs"], recipe["transpose"]
        if len(programs) == 4:  # polyphonic: one program per voice
            voices = [(parts[i % len(parts)], programs[i], shift) for i in range(min(4, max(len(parts), 1)))]
        else:  # melody, a double an octave below, a bass on the downbeats
            bass = [(o, 1.0, k) for o, _, k in parts[0] if abs(o - round(o)) < 1e-6 and int(round(o)) % 2 == 0]
            voices = [(parts[0], programs[0], shift), (parts[0], programs[1], shift - 12),
                      (bass, programs[2], shift - 24)]
        notes = loop_notes(voices, start, window, length, spq, recipe["velocity"], rng)
        if not notes:
            notes = loop_notes(voices, 0.0, window, length, spq, recipe["velocity"], rng)
        if recipe["drums"]:
            notes += drum_pattern(window, spq, recipe["velocity"])
        audio = render_notes(notes, seconds)
        if recipe["brightness"] > 0:  # the artist's "production": a one-pole low-pass
            from scipy.signal import lfilter

            a = recipe["brightness"]
            audio = lfilter([1 - a], [1, -a], audio).astype(np.float32)
        peak = float(np.max(np.abs(audio)))
        if peak < 1e-5:
            raise AudioDecodeError(recipe["piece"], "rendered silence")
        target = {50: 0.15, 70: 0.35, 90: 0.55, 110: 0.85}.get(recipe["velocity"], 0.5)
        audio = audio * (target / peak)
        audio = audio + rng.standard_normal(audio.shape).astype(np.float32) * 10 ** (recipe["noise_db"] / 20)
        return np.clip(audio, -1, 1).astype(np.float32)


def _extra(size, seed, what):
    return {"synthetic": "music21 corpus scores rendered with TimGM6mb.sf2 (tinysoundfont), one identity per "
                         "synthetic artist", "size": size, "seed": seed, "clip_seconds": SIZES[size][3],
            "split_rule": what}


def convert(out: str, *, size: str = "default", seed: int = 0, workers: int = 1, progress: bool = True) -> Manifest:
    """Generate the ``mini-artists`` source store at ``out``."""
    clips, labels = plan(size, seed)
    return write_dataset(clips, out, info=INFO, labels=labels, converter=__name__,
                         converter_version=VERSION, loader=MiniArtistsLoader(), workers=workers, clips_per_shard=64,
                         seed=seed, progress=progress,
                         extra=_extra(size, seed, "20 songs per artist: 1-15 train, 16-18 valid, 19-20 test"))


def convert_target(out: str, *, size: str = "default", seed: int = 0, workers: int = 1,
                   progress: bool = True) -> Manifest:
    """Generate the ``mini-artists-genres`` target store at ``out``."""
    clips, labels = plan_target(size, seed)
    return write_dataset(clips, out, info=TARGET_INFO, labels=labels, converter=__name__,
                         converter_version=VERSION, loader=MiniArtistsLoader(), workers=workers, clips_per_shard=64,
                         seed=seed, progress=progress,
                         extra=_extra(size, seed, "other artists and pieces than mini-artists; genre labels; "
                                                  "48/21/31 per genre, seeded"))
