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

Nothing here is a hand-kept table: a module of this folder or of ``synthetic/`` that declares ``INFO`` (a
:class:`~sampleaudio.stores.DatasetInfo`: its name, task, features and sources) and a ``convert`` function is a
converter, found by :func:`converters`. Adding a dataset is adding such a module (and its fixture in the tests).
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import functools
import importlib
import importlib.util
import os
import pkgutil
from types import ModuleType

from sampleaudio.errors import DatasetLayoutError, UnknownNameError
from sampleaudio.fileio import is_inside
from sampleaudio.stores import DatasetInfo, Task

__all__ = ["converters", "get_converter", "get_info", "real_datasets", "synthetic_datasets", "task_for", "tasks",
           "keep_inside_src", "require_inside_src"]

_FOLDERS = (__name__, f"{__name__}.synthetic")


def _declares_info(name: str) -> bool:
    """Whether module ``name``'s source binds ``INFO`` at top level (read without importing it: a helper module
    may need an optional dependency, e.g. ``beam``)."""
    spec = importlib.util.find_spec(name)
    source = spec.loader.get_source(name) if spec is not None and spec.loader is not None else None
    if not source:
        return False
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "INFO" for t in targets):
                return True
        elif isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == "INFO" for a in node.names):
            return True
    return False


@functools.cache
def converters() -> dict[str, ModuleType]:
    """Every converter module by its dataset's name: the real datasets', then the synthetic proxies'."""
    found: dict[str, ModuleType] = {}
    for package in _FOLDERS:
        path = importlib.import_module(package).__path__
        for mod in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
            name = f"{package}.{mod.name}"
            if mod.ispkg or not _declares_info(name):
                continue
            module = importlib.import_module(name)
            info = getattr(module, "INFO", None)
            if isinstance(info, DatasetInfo) and callable(getattr(module, "convert", None)):
                found[info.name] = module
    return found


def _unknown(what: str, name: str, known) -> UnknownNameError:
    close = difflib.get_close_matches(name, list(known), n=3)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return UnknownNameError(f"{what} '{name}'{hint} (known: {', '.join(known)})")


def get_converter(name: str) -> ModuleType:
    """The converter module of dataset ``name`` (it has ``INFO`` and ``convert(...)``).

    Raises:
        UnknownNameError: naming the closest known datasets.
    """
    found = converters()
    if name not in found:
        raise _unknown("unknown dataset", name, found)
    return found[name]


def get_info(name: str) -> DatasetInfo:
    """The :class:`~sampleaudio.stores.DatasetInfo` dataset ``name`` declares."""
    return get_converter(name).INFO


def real_datasets() -> list[str]:
    """Names of the real datasets (the converters that are no synthetic proxy)."""
    return [name for name, module in converters().items() if module.INFO.proxy_of is None]


def synthetic_datasets() -> list[str]:
    """Names of the synthetic proxies."""
    return [name for name, module in converters().items() if module.INFO.proxy_of is not None]


def tasks() -> dict[str, Task]:
    """The task of every real dataset, by its name."""
    return {name: get_info(name).task for name in real_datasets()}


def task_for(dataset: str, num_classes: int | None = None) -> Task:
    """The task of a dataset (its name, an alias, or its synthetic proxy's name); ``num_classes`` overrides the
    class count (a store's own label count: an opened store's :attr:`~sampleaudio.stores.Store.task` has it).

    Raises:
        UnknownNameError: naming the closest known names.
    """
    names: dict[str, Task] = {}
    for info in (m.INFO for m in converters().values()):
        names.update({alias: info.task for alias in info.task.aliases})
        names[info.name] = info.task
    if dataset not in names:
        raise _unknown("no task for dataset", dataset, sorted(names))
    task = names[dataset]
    if num_classes is not None and num_classes != task.num_classes:
        task = dataclasses.replace(task, num_classes=num_classes)
    return task


def _outside(src: str, path: str) -> str:
    return (f"its real path '{os.path.realpath(path)}' is outside --src '{os.path.realpath(src)}' (a symbolic link "
            "out of the dataset); not opened")


def keep_inside_src(src: str, clips: list, skipped: list[dict] | None = None) -> tuple[list, list[dict]]:
    """``(clips, skipped)``: the clips whose audio file really is inside ``src``, and ``skipped`` (a new list
    when ``None``) with one entry (``clip_id``, ``path``, ``reason``) per clip whose file is not. Nothing is
    opened; a clip is anything with ``clip_id`` and ``source`` (:class:`sampleaudio.stores.Clip`)."""
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
