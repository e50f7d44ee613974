"""Exceptions raised by sampleaudio.

One root exception, :class:`SampleAudioError`, so callers can catch everything the package raises on
bad input with a single ``except``; the subclasses say which kind of input was bad (librosa's
``util/exceptions.py`` does the same).
"""

from __future__ import annotations

import errno

__all__ = ["SampleAudioError", "AudioDecodeError", "ImageDecodeError", "FeatureDecodeError", "DatasetLayoutError", "DiskFullError",
           "ParameterError", "MissingDependencyError", "TrainingDivergedError", "expected_error_line"]


class SampleAudioError(Exception):
    """Root of every exception sampleaudio raises on bad input."""


class AudioDecodeError(SampleAudioError):
    """An audio file is missing, empty, truncated, corrupt or in an unsupported format.

    Attributes:
        path: the file that could not be decoded.
        reason: a short human-readable cause.
    """

    def __init__(self, path: str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot decode audio file '{self.path}': {reason}")

    def __reduce__(self):  # keep the two fields across process boundaries (worker pools)
        return (AudioDecodeError, (self.path, self.reason))


class FeatureDecodeError(SampleAudioError):
    """A clip's value of a feature its dataset declares (an image file, a text file) cannot be read or fails its
    check; the converter skips the clip and lists it, as it does undecodable audio.

    Attributes:
        path: the file (or value) that could not be read.
        reason: a short human-readable cause.
    """

    def __init__(self, path: str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot read '{self.path}': {reason}")

    def __reduce__(self):
        return (FeatureDecodeError, (self.path, self.reason))


class ImageDecodeError(SampleAudioError):
    """An image file (an album cover) is missing, unreadable, not an image or too large.

    Attributes:
        path: the image.
        reason: a short human-readable cause.
    """

    def __init__(self, path: str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot decode image '{self.path}': {reason}")

    def __reduce__(self):
        return (ImageDecodeError, (self.path, self.reason))


class DatasetLayoutError(SampleAudioError):
    """A dataset folder does not have the on-disk layout its converter expects."""


class DiskFullError(SampleAudioError, OSError):
    """The disk filled up while a store was written into ``folder``; the half-written file was removed and the
    complete ones kept, so the same conversion resumes once there is space. Still an ``OSError`` (``ENOSPC``)."""

    def __init__(self, folder: str):
        super().__init__(errno.ENOSPC, "No space left on device", str(folder))
        self.folder = str(folder)

    def __str__(self) -> str:
        return (f"no space left on the device of '{self.folder}': the partly written file was removed and the "
                "complete shards kept; free some space and run the same command again to resume")

    def __reduce__(self):
        return (DiskFullError, (self.folder,))


class ParameterError(SampleAudioError, ValueError):
    """An argument has an invalid value."""


class MissingDependencyError(SampleAudioError, ImportError):
    """An optional dependency is not installed; the message names the extra (or package) to install."""


class TrainingDivergedError(SampleAudioError):
    """Training produced a non-finite loss; the run keeps its last good checkpoint and writes no model."""


class UnknownNameError(ParameterError, KeyError):
    """A name (dataset, task, proxy, architecture) that is not in its table; still a ``KeyError`` for callers
    that looked it up in a dict."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ""


class WorkerSetupError(SampleAudioError, RuntimeError):
    """A multi-worker job that cannot start or resume as it stands (no Slurm step, workers out of step)."""


#: Packages whose absence is an install problem, not a bug: the extra that brings them.
_INSTALL_HINTS = {"tensorflow": "sampleaudio[cpu]' (or 'sampleaudio[gpu]' on a CUDA machine)",
                  "keras": "sampleaudio[cpu]' (or 'sampleaudio[gpu]' on a CUDA machine)"}


def expected_error_line(exc: BaseException) -> str | None:
    """One line for an error the user can act on, ``None`` for anything else (a bug, whose traceback matters).

    Expected: every :class:`SampleAudioError`; an ``ImportError`` of a missing optional extra (its message says
    ``pip install ...``, or the missing module is TensorFlow or Keras); an ``OSError`` on a path the user named
    (missing, unreadable, a full disk).

    >>> expected_error_line(ParameterError("--top must be positive"))
    '--top must be positive'
    >>> expected_error_line(FileNotFoundError(2, "No such file or directory", "runs/x"))
    "'runs/x': No such file or directory"
    >>> expected_error_line(KeyError("a bug")) is None
    True
    """
    if isinstance(exc, SampleAudioError):
        return " ".join(str(exc).split())
    if isinstance(exc, ImportError):
        if "pip install" in str(exc):
            return " ".join(str(exc).split())
        if exc.name in _INSTALL_HINTS:
            return f"{exc.name} is not installed: pip install '{_INSTALL_HINTS[exc.name]}"
        return None
    if isinstance(exc, OSError):
        where = f"'{exc.filename}': " if exc.filename else ""
        return f"{where}{exc.strerror or ' '.join(str(exc).split())}"
    return None
