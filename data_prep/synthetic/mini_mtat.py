"""``mini-mtat``: a synthesised multi-label music-tagging proxy of MagnaTagATune.

Real scores from the music21 corpus (Bach chorales, Palestrina, Monteverdi, the trecento, Mozart/Haydn/
Beethoven, the Essen folk-song collection, O'Neill's 1850 and Ryan's Mammoth dance collections) are rendered
with the General MIDI soundfont that pretty-midi ships (TimGM6mb.sf2) through tinysoundfont.

Tags come from real provenance, not from the audio: style/genre from the collection and the tune's ABC
``R:`` (rhythm) header (reel, jig, hornpipe, strathspey, air, ...), instrument families from the General MIDI
programs used, tempo (fast/slow), dynamics (loud/quiet), solo, drums and vocal/no vocals. The vocabulary is
the most frequent tags of the generated set (at most 50, each on at least 2 % of clips), as MTAT's top 50.

Each piece gives one clip, so the split (70/10/20 by piece, seeded) never puts the same score in two splits.
Clips last 8.1 s (three 59,049-sample segments) instead of MTAT's 29 s, so the demo trains in minutes.

This is a proxy: its numbers are never comparable to MagnaTagATune's.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter

import numpy as np

from sampleaudio.audio import SAMPLE_RATE
from sampleaudio.data_prep import mtat
from sampleaudio.data_prep.synthetic.render import render_notes
from sampleaudio.data_prep.synthetic.scores import (
    COLLECTIONS,
    Piece,
    catalog,
    drum_pattern,
    loop_notes,
    provenance_tags,
    score_parts,
)
from sampleaudio.errors import AudioDecodeError, ParameterError
from sampleaudio.stores import Clip, DatasetInfo, Manifest, write_dataset

__all__ = ["NAME", "VERSION", "SIZES", "CLIP_SECONDS", "catalog", "plan", "MiniMTATLoader", "convert", "INFO"]

NAME = "mini-mtat"
VERSION = "1.1"
INFO = DatasetInfo.proxy(
    mtat.INFO, name=NAME, requires=("music21", "pretty_midi", "tinysoundfont"),
    description="mini-mtat: music21 corpus rendered with a GM soundfont; multi-label tags from provenance (proxy)")
CLIP_SECONDS = 3 * 59049 / SAMPLE_RATE + 0.05
SIZES = {"small": 60, "default": 1200}
SPLIT_FRACTIONS = (0.7, 0.1, 0.2)


# instrument palettes (GM programs) by style
_PALETTES = {
    "chorale": [19, 52, 48, 61, 0, 20],
    "renaissance": [52, 73, 74, 48, 6, 24, 19],
    "madrigal": [52, 53, 48, 6],
    "medieval": [73, 74, 24, 46, 52, 6],
    "classical": [40, 41, 42, 0, 6, 48, 71, 68],
    "folk": [73, 0, 24, 21, 40, 46, 110, 25, 71, 22],
    "chinese": [73, 75, 107, 46, 0, 77, 40],
    "dance": [110, 40, 73, 21, 109, 0, 24, 46, 22, 81],
}


def _arrange(piece: Piece, rng: np.random.Generator) -> dict:
    """Draw a rendering recipe for one piece: instruments, tempo, dynamics, drums, excerpt."""
    style = piece.styles[-1] if piece.collection == "dance" and "air" not in piece.styles else piece.styles[0]
    palette = _PALETTES.get(style, _PALETTES["folk"] if "folk" in piece.styles else _PALETTES["classical"])
    solo = bool(rng.random() < (0.2 if piece.polyphonic else 0.45))
    if solo:
        programs = [int(rng.choice(palette))]
    elif piece.polyphonic:
        if rng.random() < 0.5:  # one timbre for every voice (organ chorale, a cappella choir)
            programs = [int(rng.choice(palette))] * 4
        else:
            programs = [int(p) for p in rng.choice(palette, size=4)]
    else:  # melody, a second instrument an octave below, a bass line on the downbeats
        programs = [int(rng.choice(palette)), int(rng.choice(palette)), int(rng.choice([32, 33, 42, 43]))]
    low, high = piece.bpm
    bpm = float(rng.uniform(low, high))
    drums = bool(not solo and not piece.polyphonic and rng.random() < 0.35)
    velocity = int(rng.choice([45, 70, 90, 112], p=[0.25, 0.35, 0.2, 0.2]))
    return {"piece": piece.piece_id, "programs": programs, "solo": solo, "bpm": round(bpm, 2), "drums": drums,
            "velocity": velocity, "start": round(float(rng.random()), 4), "seed": int(rng.integers(2 ** 31))}


def plan(size: str = "default", seed: int = 0) -> tuple[list[Clip], list[str]]:
    """The clips (recipes as ``source``), their split and tags, and the vocabulary, without rendering."""
    if size not in SIZES:
        raise ParameterError(f"size must be one of {sorted(SIZES)}. Received: size={size!r}")
    n = SIZES[size]
    rng = np.random.default_rng(seed)
    pieces = catalog()
    by_collection: dict[str, list[Piece]] = {}
    for p in pieces:
        by_collection.setdefault(p.collection, []).append(p)
    weights = {c: COLLECTIONS[c][4] for c in by_collection}
    chosen: list[Piece] = []
    for c in sorted(by_collection):
        k = min(len(by_collection[c]), max(1, int(round(n * weights[c] / sum(weights.values())))))
        idx = rng.choice(len(by_collection[c]), size=k, replace=False)
        chosen.extend(by_collection[c][i] for i in sorted(idx))
    chosen = [chosen[i] for i in rng.permutation(len(chosen))][:n]
    n_train, n_valid = int(SPLIT_FRACTIONS[0] * len(chosen)), int(SPLIT_FRACTIONS[1] * len(chosen))
    recipes = []
    for k, piece in enumerate(chosen):
        split = "train" if k < n_train else "valid" if k < n_train + n_valid else "test"
        recipe = _arrange(piece, rng)
        recipes.append((piece, recipe, split))
    counts = Counter(t for piece, recipe, _ in recipes for t in provenance_tags(piece, recipe))
    minimum = max(2, int(0.02 * len(recipes)))
    vocab = sorted((t for t, c in counts.items() if c >= minimum), key=lambda t: (counts[t], t))[-50:]
    index = {t: i for i, t in enumerate(vocab)}
    clips = []
    for k, (piece, recipe, split) in enumerate(recipes):
        labels = tuple(sorted(index[t] for t in provenance_tags(piece, recipe) if t in index))
        if not labels:
            continue
        collection_id = piece.piece_id.split("#")[0]
        clips.append(Clip(clip_id=f"{k:05d}", split=split, labels=labels, source=json.dumps(recipe, sort_keys=True),
                          artist_id=piece.collection, track_id=collection_id))
    return clips, vocab


@dataclasses.dataclass(frozen=True)
class MiniMTATLoader:
    """Render one ``mini-mtat`` clip from its recipe (picklable for worker processes)."""

    seconds: float = CLIP_SECONDS

    def __call__(self, clip: Clip) -> np.ndarray:
        recipe = json.loads(clip.source)
        parts, length = score_parts(recipe["piece"])
        rng = np.random.default_rng(recipe["seed"])
        spq = 60.0 / recipe["bpm"]  # seconds per quarter note
        window = self.seconds / spq
        start = recipe["start"] * max(0.0, length - window)
        programs = recipe["programs"]
        if recipe["solo"]:
            voices = [(parts[0], programs[0], 0)]
        elif len(programs) == 4:
            voices = [(parts[i % len(parts)], programs[i], 0) for i in range(min(4, max(len(parts), 1)))]
        else:
            bass = [(o, 1.0, k) for o, _, k in parts[0] if abs(o - round(o)) < 1e-6 and int(round(o)) % 2 == 0]
            voices = [(parts[0], programs[0], 0), (parts[0], programs[1], -12), (bass, programs[2], -24)]
        notes = loop_notes(voices, start, window, length, spq, recipe["velocity"], rng)
        if not notes:  # the excerpt fell into rests: take the piece from its beginning
            notes = loop_notes(voices, 0.0, window, length, spq, recipe["velocity"], rng)
        if recipe["drums"]:
            notes += drum_pattern(window, spq, recipe["velocity"])
        audio = render_notes(notes, self.seconds)
        peak = float(np.max(np.abs(audio)))
        if peak < 1e-5:
            raise AudioDecodeError(recipe["piece"], "rendered silence")
        target = {45: 0.12, 70: 0.35, 90: 0.55, 112: 0.85}.get(recipe["velocity"], 0.5)
        audio = audio * (target / peak)
        audio = audio + rng.standard_normal(audio.shape).astype(np.float32) * 10 ** (-55 / 20)
        return audio.astype(np.float32)


def convert(out: str, *, size: str = "default", seed: int = 0, workers: int = 1, progress: bool = True) -> Manifest:
    """Generate ``mini-mtat`` into a TFRecord store at ``out``."""
    clips, vocab = plan(size, seed)
    return write_dataset(clips, out, info=INFO, labels=vocab, converter=__name__,
                         converter_version=VERSION, loader=MiniMTATLoader(), workers=workers,
                         clips_per_shard=64, seed=seed, progress=progress,
                         extra={"synthetic": "music21 corpus scores rendered with TimGM6mb.sf2 (tinysoundfont)",
                                "size": size, "seed": seed, "clip_seconds": CLIP_SECONDS,
                                "split_rule": "one clip per piece; pieces split 70/10/20 (seeded)"})
