"""The music21 corpus as score material of the synthetic music proxies (``mini-mtat``, ``mini-artists``,
``mini-artists-tags``): the catalogue of usable pieces with their provenance, parsing a piece into note events,
looping them into a rendering window, a drum pattern, and the provenance tag rule.

Nothing here draws a random number of its own: the callers' seeded generators make every choice, so the proxies'
stores are the same whichever module holds these helpers.
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import os
import re
import warnings

import numpy as np

from sampleaudio.data_prep.synthetic.render import Note, instrument_tag
from sampleaudio.errors import AudioDecodeError

__all__ = ["Piece", "COLLECTIONS", "RHYTHMS", "catalog", "parse_score", "score_events", "score_parts", "loop_notes",
           "drum_pattern", "provenance_tags"]


@dataclasses.dataclass(frozen=True)
class Piece:
    """One usable score of the corpus and its provenance (style tags, voices, tempo range)."""

    piece_id: str  # corpus-relative path, plus '#X' for one tune of an ABC collection
    collection: str
    styles: tuple[str, ...]
    polyphonic: bool
    bpm: tuple[int, int]


#: collection: (glob under the corpus, style tags, polyphonic, quarter-note bpm range, weight)
COLLECTIONS = {
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
#: ABC R: header -> (tags, quarter-note bpm range)
RHYTHMS = {
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
    for name, (pattern, styles, poly, bpm, _) in COLLECTIONS.items():
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
                        if rhythm not in RHYTHMS:
                            continue
                        extra, rng = RHYTHMS[rhythm]
                        tags = styles + extra
                    pieces.append(Piece(f"{rel}#{x}", name, tags, poly, rng))
            else:
                pieces.append(Piece(rel, name, styles, poly, bpm))
    return tuple(pieces)


@functools.lru_cache(maxsize=64)
def parse_score(piece_id: str):
    """The music21 score of one catalogue piece (one tune of an ABC collection when the id has ``#X``)."""
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


def score_events(score, max_parts: int = 4) -> tuple[list[list[tuple[float, float, int]]], float]:
    """[(offset ql, length ql, midi key)] per part (top part first), and the piece's length in quarters."""
    parts = list(score.parts) if hasattr(score, "parts") and len(score.parts) else [score]
    out, end = [], 0.0
    for part in parts[:max_parts]:
        notes = []
        flat = part.flatten()  # offsets in the flattened part are offsets in the part's hierarchy, read in O(1)
        for n in flat.notes:
            length = float(n.quarterLength) or 0.25
            offset = float(flat.elementOffset(n))
            for p in n.pitches:
                notes.append((offset, length, int(p.midi)))
            end = max(end, offset + length)
        if notes:
            out.append(sorted(notes))
    return out, end


def score_parts(piece_id: str) -> tuple[list[list[tuple[float, float, int]]], float]:
    """:func:`score_events` of :func:`parse_score`, with music21's warnings silenced; a score music21 cannot read
    or that holds no notes raises :class:`~sampleaudio.errors.AudioDecodeError` naming the piece."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parts, length = score_events(parse_score(piece_id))
    except Exception as exc:  # music21 raises many types on scores it cannot read
        raise AudioDecodeError(piece_id, f"music21 could not parse the score ({exc!r})") from exc
    if not parts or length <= 0:
        raise AudioDecodeError(piece_id, "the score holds no notes")
    return parts, length


def loop_notes(voices, start: float, window: float, length: float, spq: float, velocity: int,
               rng: np.random.Generator) -> list[Note]:
    """The notes of ``voices`` ([(events, GM program, transposition)]) sounding in ``[start, start + window)``
    quarters of the piece looped end to end, in seconds (``spq`` seconds per quarter), each velocity
    ``velocity`` +- 8 drawn from ``rng``; keys are folded up into the GM range."""
    notes = []
    for events, program, shift in voices:
        loops = int(np.ceil((start + window) / length)) + 1
        for lap in range(loops):
            for offset, dur, key in events:
                t = offset + lap * length - start
                if t < 0 or t >= window:
                    continue
                vel = int(np.clip(velocity + rng.integers(-8, 9), 1, 127))
                k = key + shift
                while k < 24:
                    k += 12
                notes.append(Note(t * spq, max(dur * spq * 0.95, 0.05), min(k, 108), vel, program))
    return notes


def drum_pattern(window: float, spq: float, velocity: int) -> list[Note]:
    """Kick and snare alternating on the beats of ``window`` quarters, a softer hi-hat on the off-beats."""
    notes = []
    for b in range(int(window) + 1):
        t = b * spq
        notes.append(Note(t, 0.1, 36 if b % 2 == 0 else 38, velocity, 0, drums=True))
        notes.append(Note(t + spq / 2, 0.05, 42, max(1, velocity - 20), 0, drums=True))
    return notes


def provenance_tags(piece: Piece, recipe: dict) -> list[str]:
    """``mini-mtat``'s tag rule, shared by ``mini-artists-tags``: the piece's style tags, one instrument tag per
    General MIDI program of the recipe, ``drums``, ``solo``, ``vocal`` / ``no vocals``, ``fast`` / ``slow`` from
    its tempo and ``loud`` / ``quiet`` from its velocity."""
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
