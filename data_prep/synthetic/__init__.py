"""The embedded benchmark: synthesised proxies of the three Kim 2019 datasets, from pip-installed material.

- ``mini-mtat`` (:mod:`sampleaudio.data_prep.synthetic.mini_mtat`): music21 scores rendered with a GM soundfont, tags.
- ``mini-speech-commands`` (:mod:`sampleaudio.data_prep.synthetic.mini_speech_commands`): eSpeak NG words over noise.
- ``mini-dcase`` (:mod:`sampleaudio.data_prep.synthetic.mini_dcase`): GM sound-event gestures over noise, weak labels.
- ``mini-artists`` / ``mini-artists-genres`` (:mod:`sampleaudio.data_prep.synthetic.mini_artists`): synthetic artists with
  stable identities (Park 2018's source set) and a genre-labelled target set of other artists;
  ``mini-artists-tags`` (:mod:`sampleaudio.data_prep.synthetic.mini_artists_tags`): the same songs labelled by tags.

Every proxy goes through the same writer as the real datasets, so everything downstream runs unchanged.
Their numbers are never comparable to the real datasets'. Each proxy's module declares itself
(``INFO = DatasetInfo.proxy(<the real dataset's INFO>, name=..., requires=...)``): the real dataset it stands for,
whose task and features it shares, and the modules its generator imports; nothing here lists them.
"""

from __future__ import annotations

import os

from sampleaudio.errors import UnknownNameError

__all__ = ["cache_dir", "ensure", "require_synth"]


def cache_dir() -> str:
    """Where generated proxies are kept: ``$SAMPLEAUDIO_CACHE``, else ``~/.cache/sampleaudio``."""
    return os.environ.get("SAMPLEAUDIO_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "sampleaudio")


def require_synth(name: str) -> None:
    """Raise one clear :class:`~sampleaudio.errors.MissingDependencyError` when the generator of proxy ``name``
    cannot import what it needs (its declaration's ``requires``: all from the ``synth`` extra, tinysoundfont
    with --no-deps), naming the extra to install."""
    import importlib.util

    from sampleaudio.data_prep import get_info
    from sampleaudio.errors import MissingDependencyError

    missing = [m for m in get_info(name).requires if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingDependencyError(
            f"generating the '{name}' proxy needs {', '.join(missing)}: pip install 'sampleaudio[synth]' && "
            "pip install --no-deps tinysoundfont")


def ensure(name: str, *, size: str = "default", seed: int = 0, root: str | None = None, workers: int = 2,
           progress: bool = True) -> str:
    """Path of the generated proxy ``name``; generates it on first use (a half-made one is resumed).

    The folder is named by proxy, generator version, size and seed, so a store made by an older generator
    is never mistaken for the current one.
    """
    from sampleaudio.data_prep import get_converter, synthetic_datasets

    if name not in synthetic_datasets():
        raise UnknownNameError(f"unknown proxy '{name}'; known: {sorted(synthetic_datasets())}")
    converter = get_converter(name)
    out = os.path.join(root or cache_dir(), f"{name}-v{converter.VERSION}-{size}-seed{seed}")
    if not os.path.exists(os.path.join(out, "manifest.json")):
        require_synth(name)
        converter.convert(out, size=size, seed=seed, workers=workers, progress=progress)
    return out
