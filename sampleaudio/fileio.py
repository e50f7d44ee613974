"""Atomic file writes: every file sampleaudio writes appears whole or not at all.

A file is written under a temporary name beside it (``<path>.tmp-<pid>``: the only names the converters'
crash recovery ever deletes), flushed and fsynced, then renamed over ``path`` (atomic on POSIX and Windows), and
the folder is fsynced so the rename itself survives a power cut.

Files derived from something else (a converted checkpoint, the vectors of a vocabulary cut from a word-vector
file: caches) go through :func:`derived_file`: each carries a record of what it was made from and its SHA-256,
is verified before it is used, and is rebuilt, with one warning naming it, when it does not verify (flipped
bytes, a file zero-filled by a power cut, another variant's file copied over it, an older converter's output).

:func:`is_inside` is the containment test of paths that must stay in a folder (a dataset's files in ``--src``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
from collections.abc import Callable, Iterator
from typing import IO, Any, TypeVar

from sampleaudio.errors import ParameterError

__all__ = ["temporary_name", "fsync_dir", "atomic_open", "write_text_atomic", "write_json_atomic", "sha256_file",
           "DerivedFileWarning", "derived_file", "write_derived", "verify_derived", "is_inside"]

T = TypeVar("T")


def temporary_name(path: str) -> str:
    """The name ``path`` is written under until it is complete."""
    return f"{path}.tmp-{os.getpid()}"


def fsync_dir(path: str) -> None:
    """Flush a folder's entries (a rename) to disk, where the platform allows it."""
    with contextlib.suppress(OSError):  # not every platform/file system can open a folder
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """``open(path, mode)`` whose result replaces ``path`` only when the block ends without an exception.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with atomic_open(os.path.join(folder, "a.txt")) as f:
    ...     _ = f.write("whole")
    >>> open(os.path.join(folder, "a.txt")).read(), sorted(os.listdir(folder))
    ('whole', ['a.txt'])
    """
    if "w" not in mode:
        raise ParameterError(f"atomic_open writes a new file: mode must contain 'w'. Received: {mode!r}")
    tmp = temporary_name(path)
    try:
        with open(tmp, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    fsync_dir(os.path.dirname(path) or ".")


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_json_atomic(path: str, obj: Any, *, indent: int | None = 2, sort_keys: bool = True) -> None:
    """Write ``obj`` as JSON to ``path`` atomically."""
    write_text_atomic(path, json.dumps(obj, indent=indent, sort_keys=sort_keys))


def sha256_file(path: str) -> tuple[str, int]:
    """``(hex SHA-256, size in bytes)`` of a file, read in 1 MiB blocks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def is_inside(root: str | os.PathLike, path: str | os.PathLike) -> bool:
    """Whether ``path``'s real location (symbolic links resolved) is ``root``'s real folder or under it.

    >>> is_inside("/usr", "/usr/lib/../bin"), is_inside("/usr", "/usr/../etc/passwd")
    (True, False)
    """
    top = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


# ---------------------------------------------------------------------------------------------- derived files

#: Version of the record written beside every derived file.
_RECORD_FORMAT = 1


class DerivedFileWarning(UserWarning):
    """A derived file (a cache) did not verify and is being rebuilt."""


def _record_path(path: str) -> str:
    return f"{path}.made-from.json"


def _derived_temporary(path: str) -> str:
    """The temporary name of a derived file; keeps its suffixes (``.weights.h5``, ``.npz``), which the libraries
    writing such files insist on."""
    name = os.path.basename(path)
    suffix = name[name.index("."):] if "." in name else ""
    return f"{temporary_name(path)}{suffix}"


def verify_derived(path: str, made_from: dict) -> str | None:
    """``None`` when ``path`` is what its record says and the record's ``made_from`` equals ``made_from``;
    otherwise why not (``"missing"`` when there is no file)."""
    if not os.path.isfile(path):
        return "missing"
    record_path = _record_path(path)
    try:
        with open(record_path, encoding="utf-8") as f:
            record = json.load(f)
    except FileNotFoundError:
        return f"has no record of what it was made from ('{os.path.basename(record_path)}')"
    except (OSError, ValueError) as exc:
        return f"has an unreadable record '{os.path.basename(record_path)}' ({exc.__class__.__name__})"
    if not isinstance(record, dict) or record.get("format") != _RECORD_FORMAT:
        return f"has a record '{os.path.basename(record_path)}' of another format"
    recorded = record.get("made_from")
    if recorded != json.loads(json.dumps(made_from)):  # compared as JSON: tuples are lists there
        recorded = recorded if isinstance(recorded, dict) else {}
        key = next((k for k in sorted(set(made_from) | set(recorded)) if recorded.get(k) != made_from.get(k)), "?")
        return (f"was made from something else ({key}: {recorded.get(key)!r} in its record, "
                f"{made_from.get(key)!r} wanted)")
    digest, size = sha256_file(path)
    if size != record.get("size"):
        return f"has {size} bytes, its record says {record.get('size')} (truncated or replaced)"
    if digest != record.get("sha256"):
        return "does not match the SHA-256 of its record (damaged or replaced)"
    return None


def write_derived(path: str, build: Callable[[str], None], *, made_from: dict) -> None:
    """Write the derived file ``path``: ``build(tmp)`` writes it under a temporary name (with ``path``'s
    suffixes), which is fsynced and renamed over ``path``; then its record (``made_from``, size, SHA-256) is
    written beside it (``<path>.made-from.json``), atomically too. A crash at any point leaves a file that does
    not verify (and is rebuilt), never a wrong one that does."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        os.remove(_record_path(path))  # from now on the old file does not verify
    tmp = _derived_temporary(path)
    try:
        build(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        digest, size = sha256_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    fsync_dir(folder)
    write_json_atomic(_record_path(path), {"format": _RECORD_FORMAT, "made_from": made_from, "size": size,
                                           "sha256": digest})


def derived_file(path: str, *, made_from: dict, build: Callable[[str], None], load: Callable[[str], T],
                 what: str = "cache file") -> T:
    """``load(path)`` of a derived file that verifies (:func:`verify_derived`), else of one rebuilt first
    (:func:`write_derived`).

    A file that exists but does not verify, or that verifies and still cannot be loaded (``load`` raising
    ``OSError``, ``ValueError`` or ``KeyError``), is rebuilt with one :class:`DerivedFileWarning` naming it and
    why; a missing one is built silently.

    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "words.txt")
    >>> def build(tmp):
    ...     write_text_atomic(tmp, "piano")
    >>> derived_file(path, made_from={"source": "a"}, build=build, load=lambda p: open(p).read())
    'piano'
    """
    problem = verify_derived(path, made_from)
    if problem is None:
        try:
            return load(path)
        except (OSError, ValueError, KeyError) as exc:
            problem = f"verifies but cannot be loaded ({' '.join(str(exc).split()) or exc.__class__.__name__})"
    if problem != "missing":
        # one line: no source line is shown for an explicit warning without a file of code
        warnings.warn_explicit(f"{what} '{path}' {problem}; rebuilding it", DerivedFileWarning,
                               filename="sampleaudio", lineno=0)
    write_derived(path, build, made_from=made_from)
    return load(path)
