"""Atomic file writes: every file sampleaudio writes appears whole or not at all.

A file is written under a temporary name beside it (``<path>.tmp-<pid>``: the only names the converters'
crash recovery ever deletes), flushed and fsynced, then renamed over ``path`` (atomic on POSIX and Windows), and
the folder is fsynced so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import IO, Any

from sampleaudio.errors import ParameterError

__all__ = ["temporary_name", "fsync_dir", "atomic_open", "write_text_atomic", "write_json_atomic"]


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
