"""Dataset converters: each turns one dataset's on-disk layout into a sampleaudio TFRecord store.

Real datasets (exactly as Kim, Lee, Nam, IEEE JSTSP 2019 and the authors' code split them):

- ``mtat``: MagnaTagATune, top-50 tags, split by mp3 folder (:mod:`sampleaudio.data_prep.mtat`)
- ``speech-commands``: Speech Commands v0.02, 35 words (:mod:`sampleaudio.data_prep.speech_commands`)
- ``dcase2017``: DCASE 2017 Task 4 weak labels, 17 classes (:mod:`sampleaudio.data_prep.dcase2017`)

For Park et al. (ISMIR 2018): ``gtzan`` (:mod:`sampleaudio.data_prep.gtzan`), ``fma-small`` (:mod:`sampleaudio.data_prep.fma`) and
``msd-artist`` (:mod:`sampleaudio.data_prep.msd_artist`, from a user-supplied artist list), ``msd-tags`` (the same songs
with their Last.fm tags: the tag model's source set, :mod:`sampleaudio.data_prep.msd_tags`).

The embedded synthetic benchmark (proxies built from material ``pip install`` brings) lives in
:mod:`sampleaudio.data_prep.synthetic`: ``mini-mtat``, ``mini-speech-commands``, ``mini-dcase``, ``mini-artists``,
``mini-artists-genres``, ``mini-artists-tags``.
"""

from __future__ import annotations

import importlib

from sampleaudio.errors import UnknownNameError

__all__ = ["CONVERTERS", "REAL", "SYNTHETIC", "get_converter"]

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
