"""The inputs of tagging, embedding and indexing: files, folders, glob patterns and arrays, and their decoding.

Inputs may be file paths, folders (searched recursively for audio files), glob patterns, numpy arrays
(mono, at the model card's ``sample_rate``: 22,050 Hz for sampleaudio's runs) or ``(array, sample_rate)`` pairs
(resampled to the card's rate, as files are). An existing path is always a path (``Song [Live].wav`` is not
a pattern); a pattern or folder that matches no file is an error, and a folder says what it left out (files that
are not audio by their extension, hidden files, audio that needs the ``formats`` extra), so nothing is skipped
silently.
"""

from __future__ import annotations

import collections
import glob
import os
import warnings

import numpy as np

from sampleaudio.audio import AUDIO_EXTENSIONS, FFMPEG_EXTENSIONS, MAX_SECONDS, have_ffmpeg, load, resample
from sampleaudio.cards import DEFAULT_SAMPLE_RATE
from sampleaudio.errors import AudioDecodeError, ParameterError

__all__ = ["expand_inputs", "scan_inputs", "decode_source", "source_name", "AUDIO_EXTENSIONS"]


def expand_inputs(inputs) -> list:
    """Files, folders (recursive), globs, arrays and ``(array, sr)`` pairs -> a flat list of sources, in order
    (:func:`scan_inputs`; its notes, files a folder held that are not taken, are issued as a warning)."""
    sources, notes = scan_inputs(inputs, unique=False)
    for note in notes:
        warnings.warn(note, stacklevel=3)
    return sources


def scan_inputs(inputs, *, unique: bool = True) -> tuple[list, list[str]]:
    """``(sources, notes)``: files, folders (recursive), globs, arrays and ``(array, sr)`` pairs as a flat list, and
    one note per folder that held files it did not take (how many, of which kinds) or audio that needs the
    ``formats`` extra, so that nothing is left out silently. With ``unique`` (the command line's way: its outputs
    are keyed by path) a file named twice is listed once, with a note.

    A folder contributes the files whose extension is an audio one (:data:`sampleaudio.audio.AUDIO_EXTENSIONS`),
    sorted; hidden files (``.DS_Store``, ``._song.m4a``) are not audio. An existing path is taken as it is, even
    when its name holds ``*?[``; a non-existing file stays in the list (its result will say it does not exist).

    Raises:
        ParameterError: a folder holds no audio file, or a glob pattern matches nothing.
    """
    if isinstance(inputs, (str, os.PathLike, np.ndarray, tuple)):
        inputs = [inputs]
    out, notes = [], []
    for item in inputs:
        if isinstance(item, (np.ndarray, tuple)):
            out.append(item)
            continue
        try:
            item = os.fspath(item)
        except TypeError as exc:
            raise ParameterError(f"an input must be a path, an array or an (array, sample_rate) pair. "
                                 f"Received: {type(item).__name__}") from exc
        if os.path.isdir(item):
            found, other, hidden, unreadable = [], collections.Counter(), 0, []
            for folder, dirs, files in os.walk(item, onerror=unreadable.append):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for f in files:
                    if f.startswith("."):
                        hidden += 1
                    elif f.lower().endswith(AUDIO_EXTENSIONS):
                        found.append(os.path.join(folder, f))
                    else:
                        other[os.path.splitext(f)[1].lower() or "(no extension)"] += 1
            notes += [f"folder '{e.filename}' cannot be read ({e.strerror}): its files are left out"
                      for e in unreadable]
            if not found:
                raise ParameterError(f"folder '{item}' holds no audio file ({', '.join(AUDIO_EXTENSIONS)})")
            notes.extend(_folder_notes(item, found, other, hidden))
            out.extend(sorted(found))
        elif not os.path.lexists(item) and any(ch in item for ch in "*?["):
            found = sorted(p for p in glob.glob(item, recursive=True) if not os.path.isdir(p))
            if not found:
                raise ParameterError(f"pattern '{item}' matches no file")
            out.extend(found)
        else:
            out.append(item)
    if not unique:
        return out, notes
    seen: set = set()  # a file named twice (overlapping globs, a folder and a file in it) is done once
    once = [s for s in out if not isinstance(s, str) or not (s in seen or seen.add(s))]
    if len(once) < len(out):
        notes.append(f"{len(out) - len(once):,} input(s) named a file already listed; each file is done once")
    return once, notes


def _folder_notes(folder: str, found: list[str], other: collections.Counter, hidden: int) -> list[str]:
    notes = []
    if other or hidden:
        kinds = ", ".join(f"{ext} x{n}" for ext, n in other.most_common(8))
        more = f", {len(other) - 8} other kinds" if len(other) > 8 else ""
        parts = ([f"{sum(other.values()):,} not audio by their extension ({kinds}{more})"] if other else []) + \
            ([f"{hidden:,} hidden"] if hidden else [])
        notes.append(f"folder '{folder}': {len(found):,} audio file(s) taken; skipped {' and '.join(parts)}")
    if not have_ffmpeg():
        needy = collections.Counter(os.path.splitext(p)[1].lower() for p in found
                                    if p.lower().endswith(FFMPEG_EXTENSIONS))
        if needy:
            kinds = ", ".join(f"{ext} x{n}" for ext, n in needy.most_common())
            notes.append(f"folder '{folder}': {sum(needy.values()):,} file(s) need FFmpeg to decode ({kinds}) and "
                         "will fail: pip install 'sampleaudio[formats]'")
    return notes


def source_name(source, k: int) -> str:
    """A source's name in results: its path, or ``array<k>``."""
    return source if isinstance(source, str) else f"array{k}"


def decode_source(source, sample_rate: int = DEFAULT_SAMPLE_RATE,
                  max_seconds: float | None = MAX_SECONDS) -> np.ndarray:
    """The mono float32 waveform of a source at ``sample_rate`` (a file decoded by :func:`sampleaudio.audio.load`,
    an array checked, a pair resampled)."""
    if isinstance(source, str):
        return load(source, sr=sample_rate, max_seconds=max_seconds)
    if isinstance(source, tuple):
        if len(source) != 2:
            raise AudioDecodeError("<array>", "expected an (array, sample_rate) pair")
        audio, sr = source
        if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
            raise AudioDecodeError("<array>", f"sample rate must be a positive integer, got {sr!r}")
        audio = np.asarray(audio, dtype=np.float32)
        audio = resample(audio, sr, sample_rate)
    else:
        audio = np.asarray(source, dtype=np.float32)
    if audio.ndim != 1:
        raise AudioDecodeError("<array>", f"expected a mono 1-D waveform, got shape {audio.shape}")
    if audio.shape[0] == 0 or not np.all(np.isfinite(audio)):
        raise AudioDecodeError("<array>", "empty, or holds NaN/Inf")
    return audio
