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
import functools
import glob
import json
import os
import re
import warnings
from collections import Counter

import numpy as np

from data_prep.synthetic.render import Note, instrument_tag, render_notes
from sampleaudio.audio import SAMPLE_RATE
from sampleaudio.errors import AudioDecodeError, ParameterError
from sampleaudio.records import Clip, Manifest, write_dataset

__all__ = ["NAME", "VERSION", "SIZES", "CLIP_SECONDS", "catalog", "plan", "MiniMTATLoader", "convert", "describe"]

NAME = "mini-mtat"
VERSION = "1.1"
CLIP_SECONDS = 3 * 59049 / SAMPLE_RATE + 0.05
SIZES = {"small": 60, "default": 1200}
SPLIT_FRACTIONS = (0.7, 0.1, 0.2)


@dataclasses.dataclass(frozen=True)
class Piece:
    piece_id: str  # corpus-relative path, plus '#X' for one tune of an ABC collection
    collection: str
    styles: tuple[str, ...]
    polyphonic: bool
    bpm: tuple[int, int]


# collection: (glob under the corpus, style tags, polyphonic, quarter-note bpm range, weight)
_COLLECTIONS = {
    "bach": ("bach/bwv*", ("chorale", "baroque"), True, (56, 96), 0.14),
    "palestrina": ("palestrina/*.krn", ("renaissance", "polyphony"), True, (60, 100), 0.08),
    "monteverdi": ("monteverdi/*", ("madrigal", "renaissance"), True, (60, 110), 0.04),
    "trecento": ("trecento/*", ("medieval",), True, (70, 130), 0.05),
    "classical": ("{mozart,haydn,beethoven}/**/*", ("classical",), True, (70, 160), 0.03),
    "essen-german": ("essenFolksong/{altdeu,ballad,boehme,dva,erk,fink,kinder}*.abc", ("folk", "german folk"),
                     False, (70, 150), 0.16),
    "essen-chinese": ("essenFolksong/han*.abc", ("folk", "chinese"), False, (60, 140), 0.10),
    "dance": ("{oneills1850,ryansMammoth}/*.abc", ("folk", "celtic"), False, (0, 0), 0.40),
}
# ABC R: header -> (tags, quarter-note bpm range)
_RHYTHMS = {
    "reel": (("dance", "reel"), (180, 230)),
    "jig": (("dance", "jig"), (150, 190)),
    "double jig": (("dance", "jig"), (150, 190)),
    "slide": (("dance", "jig"), (160, 200)),
    "slip jig": (("dance", "slip jig"), (140, 180)),
    "slipjig": (("dance", "slip jig"), (140, 180)),
    "hornpipe": (("dance", "hornpipe"), (120, 150)),
    "clog": (("dance", "hornpipe"), (120, 150)),
    "strathspey": (("dance", "strathspey"), (100, 130)),
    "highland fling": (("dance", "strathspey"), (100, 130)),
    "air": (("air",), (50, 80)),
    "waltz": (("dance", "waltz"), (120, 170)),
    "march": (("march",), (100, 130)),
}
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


def _corpus_root() -> str:
    import music21

    return os.path.join(os.path.dirname(music21.__file__), "corpus")


def _expand(pattern: str) -> list[str]:
    m = re.search(r"\{([^}]*)\}", pattern)
    if not m:
        return [pattern]
    return [p for alt in m.group(1).split(",") for p in _expand(pattern[:m.start()] + alt + pattern[m.end():])]


def _split_abc(text: str) -> list[tuple[str, dict[str, str]]]:
    """ABC collection -> [(X number, headers)], reading only the header fields (T:, R:, M:)."""
    tunes = []
    for block in re.split(r"\n(?=X:)", "\n" + text):
        if not block.strip().startswith("X:"):
            continue
        head = {}
        for line in block.strip().splitlines():
            if len(line) > 1 and line[1] == ":" and line[0] in "XTRMK":
                head.setdefault(line[0], line[2:].strip())
            if line.startswith("K:"):
                break
        tunes.append((head.get("X", "").strip(), head))
    return tunes


@functools.lru_cache(maxsize=1)
def catalog() -> tuple[Piece, ...]:
    """Every usable piece of the installed music21 corpus, with its provenance tags (no music is parsed)."""
    root = _corpus_root()
    pieces = []
    for name, (pattern, styles, poly, bpm, _) in _COLLECTIONS.items():
        files = sorted({f for p in _expand(pattern) for f in glob.glob(os.path.join(root, p), recursive=True)
                        if os.path.isfile(f) and f.endswith((".mxl", ".xml", ".krn", ".abc", ".musicxml"))})
        for f in files:
            rel = os.path.relpath(f, root)
            if f.endswith(".abc"):
                with open(f, encoding="latin-1") as fh:
                    tunes = _split_abc(fh.read())
                for x, head in tunes:
                    if not x:
                        continue
                    tags, rng = styles, bpm
                    if name == "dance":
                        rhythm = head.get("R", "").strip().lower()
                        if rhythm not in _RHYTHMS:
                            continue
                        extra, rng = _RHYTHMS[rhythm]
                        tags = styles + extra
                    pieces.append(Piece(f"{rel}#{x}", name, tags, poly, rng))
            else:
                pieces.append(Piece(rel, name, styles, poly, bpm))
    return tuple(pieces)


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


def _tags(piece: Piece, recipe: dict) -> list[str]:
    tags = set(piece.styles)
    tags.update(instrument_tag(p) for p in recipe["programs"])
    if recipe["drums"]:
        tags.add("drums")
    if recipe["solo"]:
        tags.add("solo")
    tags.add("vocal" if "choir" in tags else "no vocals")
    if recipe["bpm"] >= 150:
        tags.add("fast")
    elif recipe["bpm"] <= 80:
        tags.add("slow")
    if recipe["velocity"] >= 100:
        tags.add("loud")
    elif recipe["velocity"] <= 50:
        tags.add("quiet")
    return sorted(tags)


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
    weights = {c: _COLLECTIONS[c][4] for c in by_collection}
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
    counts = Counter(t for piece, recipe, _ in recipes for t in _tags(piece, recipe))
    minimum = max(2, int(0.02 * len(recipes)))
    vocab = sorted((t for t, c in counts.items() if c >= minimum), key=lambda t: (counts[t], t))[-50:]
    index = {t: i for i, t in enumerate(vocab)}
    clips = []
    for k, (piece, recipe, split) in enumerate(recipes):
        labels = tuple(sorted(index[t] for t in _tags(piece, recipe) if t in index))
        if not labels:
            continue
        collection_id = piece.piece_id.split("#")[0]
        clips.append(Clip(clip_id=f"{k:05d}", split=split, labels=labels, source=json.dumps(recipe, sort_keys=True),
                          artist_id=piece.collection, track_id=collection_id))
    return clips, vocab


@functools.lru_cache(maxsize=64)
def _parse(piece_id: str):
    import music21

    root = _corpus_root()
    if "#" in piece_id:
        rel, x = piece_id.split("#", 1)
        with open(os.path.join(root, rel), encoding="latin-1") as fh:
            text = fh.read()
        blocks = [b for b in re.split(r"\n(?=X:)", "\n" + text) if b.strip().startswith("X:")]
        block = next(b for b in blocks if b.strip().splitlines()[0][2:].strip() == x)
        return music21.converter.parse(block, format="abc")
    return music21.converter.parse(os.path.join(root, piece_id))


def _events(score, max_parts: int = 4) -> tuple[list[list[tuple[float, float, int]]], float]:
    """[(offset ql, length ql, midi key)] per part (top part first), and the piece's length in quarters."""
    parts = list(score.parts) if hasattr(score, "parts") and len(score.parts) else [score]
    out, end = [], 0.0
    for part in parts[:max_parts]:
        notes = []
        for n in part.flatten().notes:
            length = float(n.quarterLength) or 0.25
            for p in n.pitches:
                notes.append((float(n.getOffsetInHierarchy(part)), length, int(p.midi)))
            end = max(end, float(n.getOffsetInHierarchy(part)) + length)
        if notes:
            out.append(sorted(notes))
    return out, end


@dataclasses.dataclass(frozen=True)
class MiniMTATLoader:
    """Render one ``mini-mtat`` clip from its recipe (picklable for worker processes)."""

    seconds: float = CLIP_SECONDS

    @staticmethod
    def _notes(voices, start, window, length, spq, recipe, rng) -> list[Note]:
        notes = []
        for events, program, shift in voices:
            loops = int(np.ceil((start + window) / length)) + 1
            for lap in range(loops):
                for offset, dur, key in events:
                    t = offset + lap * length - start
                    if t < 0 or t >= window:
                        continue
                    vel = int(np.clip(recipe["velocity"] + rng.integers(-8, 9), 1, 127))
                    k = key + shift
                    while k < 24:
                        k += 12
                    notes.append(Note(t * spq, max(dur * spq * 0.95, 0.05), min(k, 108), vel, program))
        return notes

    def __call__(self, clip: Clip) -> np.ndarray:
        recipe = json.loads(clip.source)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parts, length = _events(_parse(recipe["piece"]))
        except Exception as exc:  # music21 raises many types on scores it cannot read
            raise AudioDecodeError(recipe["piece"], f"music21 could not parse the score ({exc!r})") from exc
        if not parts or length <= 0:
            raise AudioDecodeError(recipe["piece"], "the score holds no notes")
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
        notes = self._notes(voices, start, window, length, spq, recipe, rng)
        if not notes:  # the excerpt fell into rests: take the piece from its beginning
            notes = self._notes(voices, 0.0, window, length, spq, recipe, rng)
        if recipe["drums"]:
            beats = int(window) + 1
            for b in range(beats):
                t = b * spq
                notes.append(Note(t, 0.1, 36 if b % 2 == 0 else 38, recipe["velocity"], 0, drums=True))
                notes.append(Note(t + spq / 2, 0.05, 42, max(1, recipe["velocity"] - 20), 0, drums=True))
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
    return write_dataset(clips, out, dataset=NAME, labels=vocab, multi_label=True, converter=__name__,
                         converter_version=VERSION, loader=MiniMTATLoader(), workers=workers,
                         clips_per_shard=64, seed=seed, progress=progress,
                         extra={"synthetic": "music21 corpus scores rendered with TimGM6mb.sf2 (tinysoundfont)",
                                "size": size, "seed": seed, "clip_seconds": CLIP_SECONDS,
                                "split_rule": "one clip per piece; pieces split 70/10/20 (seeded)"})


def describe() -> str:
    return "mini-mtat: music21 corpus rendered with a GM soundfont; multi-label tags from provenance (proxy)"
