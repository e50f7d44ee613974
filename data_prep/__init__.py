"""Dataset converters: each turns one dataset's on-disk layout into a sampleaudio TFRecord store.

Real datasets (exactly as Kim, Lee, Nam, IEEE JSTSP 2019 and the authors' code split them):

- ``mtat``: MagnaTagATune, top-50 tags, split by mp3 folder (:mod:`data_prep.mtat`)
- ``speech-commands``: Speech Commands v0.02, 35 words (:mod:`data_prep.speech_commands`)
- ``dcase2017``: DCASE 2017 Task 4 weak labels, 17 classes (:mod:`data_prep.dcase2017`)

For Park et al. (ISMIR 2018): ``gtzan`` (:mod:`data_prep.gtzan`), ``fma-small`` (:mod:`data_prep.fma`) and
``msd-artist`` (:mod:`data_prep.msd_artist`, from a user-supplied artist list), ``msd-tags`` (the same songs
with their Last.fm tags: the tag model's source set, :mod:`data_prep.msd_tags`).

The embedded synthetic benchmark (proxies built from material ``pip install`` brings) lives in
:mod:`data_prep.synthetic`: ``mini-mtat``, ``mini-speech-commands``, ``mini-dcase``, ``mini-artists``,
``mini-artists-genres``, ``mini-artists-tags``.
"""

from __future__ import annotations

import importlib

from sampleaudio.errors import UnknownNameError

__all__ = ["CONVERTERS", "REAL", "SYNTHETIC", "get_converter"]

REAL = {
    "mtat": "data_prep.mtat",
    "speech-commands": "data_prep.speech_commands",
    "dcase2017": "data_prep.dcase2017",
    "gtzan": "data_prep.gtzan",
    "fma-small": "data_prep.fma",
    "msd-artist": "data_prep.msd_artist",
    "msd-tags": "data_prep.msd_tags",
}
SYNTHETIC = {
    "mini-mtat": "data_prep.synthetic.mini_mtat",
    "mini-speech-commands": "data_prep.synthetic.mini_speech_commands",
    "mini-dcase": "data_prep.synthetic.mini_dcase",
    "mini-artists": "data_prep.synthetic.mini_artists",
    "mini-artists-genres": "data_prep.synthetic.mini_artists_genres",
    "mini-artists-tags": "data_prep.synthetic.mini_artists_tags",
}
CONVERTERS = {**REAL, **SYNTHETIC}


def get_converter(name: str):
    """The converter module registered under ``name`` (it has ``convert(...)`` and ``describe()``)."""
    if name not in CONVERTERS:
        raise UnknownNameError(f"unknown dataset '{name}'; known: {', '.join(CONVERTERS)}")
    return importlib.import_module(CONVERTERS[name])
