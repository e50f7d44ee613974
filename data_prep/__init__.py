"""Dataset converters: each turns one dataset's on-disk layout into a sampleaudio TFRecord store.

Real datasets (exactly as Kim, Lee, Nam, IEEE JSTSP 2019 and the authors' code split them):

- ``mtat``: MagnaTagATune, top-50 tags, split by mp3 folder (:mod:`sampleaudio.data_prep.mtat`)
- ``speech-commands``: Speech Commands v0.02, 35 words (:mod:`sampleaudio.data_prep.speech_commands`)
- ``dcase2017``: DCASE 2017 Task 4 weak labels, 17 classes (:mod:`sampleaudio.data_prep.dcase2017`)

For Park et al. (ISMIR 2018): ``gtzan`` (:mod:`sampleaudio.data_prep.gtzan`), ``fma-small`` (:mod:`sampleaudio.data_prep.fma`) and
``msd-artist`` (:mod:`sampleaudio.data_prep.msd_artist`, from a user-supplied artist list), ``msd-tags`` (the same songs
with their Last.fm tags: the tag model's source set, :mod:`sampleaudio.data_prep.msd_tags`).

Every real converter keeps to its ``--src``: a file whose real path (symbolic links resolved) is outside the real
``--src`` folder is never opened. An audio file there is skipped and listed in the manifest's skipped files
(:func:`keep_inside_src`); a metadata file there (an annotation list) is refused (:func:`require_inside_src`).
Point ``--src`` at the real folder when the dataset's folders are links to another disk.

The embedded synthetic benchmark (proxies built from material ``pip install`` brings) lives in
:mod:`sampleaudio.data_prep.synthetic`: ``mini-mtat``, ``mini-speech-commands``, ``mini-dcase``, ``mini-artists``,
``mini-artists-genres``, ``mini-artists-tags``.
"""

from __future__ import annotations

import importlib
import os

from sampleaudio.errors import DatasetLayoutError, UnknownNameError
from sampleaudio.fileio import is_inside

__all__ = ["CONVERTERS", "REAL", "SYNTHETIC", "get_converter", "keep_inside_src", "require_inside_src"]

REAL = {
    "mtat": "sampleaudio.data_prep.mtat",
    "speech-commands": "sampleaudio.data_prep.speech_commands",
    "dcase2017": "sampleaudio.data_prep.dcase2017",
    "gtzan": "sampleaudio.data_prep.gtzan",
    "fma-small": "sampleaudio.data_prep.fma",
    "msd-artist": "sampleaudio.data_prep.msd_artist",
    "msd-tags": "sampleaudio.data_prep.msd_tags",
}
SYNTHETIC = {
    "mini-mtat": "sampleaudio.data_prep.synthetic.mini_mtat",
    "mini-speech-commands": "sampleaudio.data_prep.synthetic.mini_speech_commands",
    "mini-dcase": "sampleaudio.data_prep.synthetic.mini_dcase",
    "mini-artists": "sampleaudio.data_prep.synthetic.mini_artists",
    "mini-artists-genres": "sampleaudio.data_prep.synthetic.mini_artists_genres",
    "mini-artists-tags": "sampleaudio.data_prep.synthetic.mini_artists_tags",
}
CONVERTERS = {**REAL, **SYNTHETIC}


def get_converter(name: str):
    """The converter module registered under ``name`` (it has ``convert(...)`` and ``describe()``)."""
    if name not in CONVERTERS:
        raise UnknownNameError(f"unknown dataset '{name}'; known: {', '.join(CONVERTERS)}")
    return importlib.import_module(CONVERTERS[name])


def _outside(src: str, path: str) -> str:
    return (f"its real path '{os.path.realpath(path)}' is outside --src '{os.path.realpath(src)}' (a symbolic link "
            "out of the dataset); not opened")


def keep_inside_src(src: str, clips: list, skipped: list[dict] | None = None) -> tuple[list, list[dict]]:
    """``(clips, skipped)``: the clips whose audio file really is inside ``src``, and ``skipped`` (a new list
    when ``None``) with one entry (``clip_id``, ``path``, ``reason``) per clip whose file is not. Nothing is
    opened; a clip is anything with ``clip_id`` and ``source`` (:class:`sampleaudio.records.Clip`)."""
    skipped = [] if skipped is None else skipped
    kept = []
    for clip in clips:
        if is_inside(src, clip.source):
            kept.append(clip)
        else:
            skipped.append({"clip_id": clip.clip_id, "path": clip.source, "reason": _outside(src, clip.source)})
    return kept, skipped


def require_inside_src(src: str, path: str) -> str:
    """``path`` (a metadata file of the dataset at ``src``), refused when its real path is outside ``src``."""
    if not is_inside(src, path):
        raise DatasetLayoutError(f"'{path}': {_outside(src, path)}")
    return path

