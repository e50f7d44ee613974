"""Render note events with a General MIDI soundfont (tinysoundfont + pretty-midi's TimGM6mb.sf2).

The synthesiser runs at 22,050 Hz directly, so nothing is resampled. Rendering is deterministic: the same
events give the same samples.
"""

from __future__ import annotations

import dataclasses
import functools
import os

import numpy as np

from sampleaudio.audio import SAMPLE_RATE
from sampleaudio.errors import ParameterError

__all__ = ["Note", "soundfont_path", "render_notes", "GM_FAMILY_TAGS", "instrument_tag"]

DRUM_CHANNEL = 9


@dataclasses.dataclass(frozen=True)
class Note:
    """One note: start and length in seconds, GM program (``drums=True``: GM percussion key map)."""

    start: float
    length: float
    key: int
    velocity: int
    program: int
    drums: bool = False


def soundfont_path() -> str:
    """The General MIDI soundfont shipped inside the pretty-midi wheel."""
    import pretty_midi

    path = os.path.join(os.path.dirname(pretty_midi.__file__), "TimGM6mb.sf2")
    if not os.path.exists(path):
        raise FileNotFoundError(f"TimGM6mb.sf2 not found in the pretty-midi package ({path}); "
                                "reinstall pretty-midi")
    return path


@functools.lru_cache(maxsize=1)
def _soundfont_bytes() -> bytes:
    with open(soundfont_path(), "rb") as f:
        return f.read()


def render_notes(notes: list[Note], seconds: float, sr: int = SAMPLE_RATE, tail: float = 0.0) -> np.ndarray:
    """Mono float32 audio of ``seconds`` (+ ``tail``) holding ``notes``.

    Each program gets its own MIDI channel (drums on channel 10); at most 15 melodic programs.
    """
    import tinysoundfont

    synth = tinysoundfont.Synth(samplerate=sr, gain=-3.0)
    sfid = synth.sfload(_soundfont_bytes())
    channels: dict[tuple[int, bool], int] = {}
    free = [c for c in range(16) if c != DRUM_CHANNEL]
    for n in notes:
        key = (n.program, n.drums)
        if key in channels:
            continue
        if n.drums:
            channels[key] = DRUM_CHANNEL
            synth.program_select(DRUM_CHANNEL, sfid, 128, 0, is_drums=True)
        else:
            if not free:
                raise ParameterError("more than 15 melodic programs in one clip")
            chan = free.pop(0)
            channels[key] = chan
            synth.program_select(chan, sfid, 0, n.program)
    total = int(round((seconds + tail) * sr))
    events = []
    for i, n in enumerate(notes):
        on = int(round(n.start * sr))
        off = int(round((n.start + n.length) * sr))
        if on >= total:
            continue
        chan = channels[(n.program, n.drums)]
        events.append((on, 1, i, chan, n.key, n.velocity))
        events.append((min(off, total), 0, i, chan, n.key, 0))
    events.sort()
    out = np.zeros((total, 2), dtype=np.float32)
    pos = 0
    for t, kind, _, chan, key, vel in events:
        if t > pos:
            buf = synth.generate_simple(t - pos)
            out[pos:t] = np.frombuffer(buf, dtype=np.float32).reshape(-1, 2)
            pos = t
        if kind:
            synth.noteon(chan, key, max(1, min(127, vel)))
        else:
            synth.noteoff(chan, key)
    if pos < total:
        out[pos:] = np.frombuffer(synth.generate_simple(total - pos), dtype=np.float32).reshape(-1, 2)
    return out.mean(axis=1)


#: GM program ranges -> instrument tag (the tags a listener would give; see the dataset card).
GM_FAMILY_TAGS = [
    (range(0, 6), "piano"), (range(6, 8), "harpsichord"), (range(8, 16), "bells"), (range(16, 21), "organ"),
    (range(21, 24), "accordion"), (range(24, 32), "guitar"), (range(32, 40), "bass"), (range(40, 41), "violin"),
    (range(41, 42), "strings"), (range(42, 44), "cello"), (range(44, 46), "strings"), (range(46, 47), "harp"),
    (range(47, 48), "drums"), (range(48, 52), "strings"), (range(52, 55), "choir"), (range(55, 56), "synth"),
    (range(56, 64), "brass"), (range(64, 72), "woodwind"), (range(72, 80), "flute"), (range(80, 104), "synth"),
    (range(104, 109), "guitar"), (range(109, 110), "bagpipe"), (range(110, 111), "violin"),
    (range(111, 112), "woodwind"), (range(112, 120), "drums"), (range(120, 128), "effects"),
]


def instrument_tag(program: int) -> str:
    for r, tag in GM_FAMILY_TAGS:
        if program in r:
            return tag
    raise ParameterError(f"GM program must be in [0, 127]. Received: {program}")
