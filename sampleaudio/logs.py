"""TensorFlow's start-up lines kept off the terminal of the command line and the reproduction scripts.

TensorFlow 2.21 prints 4-6 lines from C++ while ``import tensorflow`` runs (oneDNN, CPU features, absl's
"before InitializeLog" warning), and ``TF_CPP_MIN_LOG_LEVEL`` does not reach them: they are written through absl
before its logging is initialised. :func:`quiet_tensorflow` therefore silences file descriptor 2 for exactly the
duration of that import (an import hook, so the commands that never load TensorFlow do not pay for it) and sets
``TF_CPP_MIN_LOG_LEVEL=2`` for the rest of the process (unless the user set it). Anything printed after the
import, the package's own errors included, is untouched. ``--verbose`` on every command keeps all of it.

The library itself never does this: importing :mod:`sampleaudio` in a program or a notebook leaves TensorFlow's
logging as TensorFlow configures it.
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types

__all__ = ["quiet_tensorflow", "verbose_tensorflow", "add_verbose_argument", "inherit_quiet"]

#: set by :func:`quiet_tensorflow`, so that worker processes it starts are quiet too (:func:`inherit_quiet`)
_ENV = "SAMPLEAUDIO_QUIET_TENSORFLOW"


class _SilentLoader(importlib.abc.Loader):
    """Runs the wrapped loader with file descriptor 2 pointed at ``/dev/null``."""

    def __init__(self, loader: importlib.abc.Loader):
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        sys.stderr.flush()
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            self._loader.exec_module(module)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
        module.get_logger().setLevel("ERROR")  # TensorFlow's Python-side warnings (retracing, deprecations)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` the usual way once, and wraps its loader in :class:`_SilentLoader`."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        verbose_tensorflow()  # one import only; and find_spec below must not come back here
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _SilentLoader(spec.loader)
        return spec


def quiet_tensorflow(verbose: bool = False) -> None:
    """Keep TensorFlow's C++ start-up lines off stderr (for a command line; no effect once it is imported).

    Args:
        verbose: keep everything (the ``--verbose`` of every command); only undoes an earlier call.
    """
    verbose_tensorflow()
    if verbose:
        os.environ.pop(_ENV, None)
        return
    os.environ[_ENV] = "1"
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.meta_path.insert(0, _QuietTensorFlowFinder())


def inherit_quiet() -> None:
    """In a worker process (a pool's initializer): quiet if the process that started it called
    :func:`quiet_tensorflow`."""
    if os.environ.get(_ENV) == "1":
        quiet_tensorflow()


def verbose_tensorflow() -> None:
    """Undo :func:`quiet_tensorflow` if TensorFlow is not imported yet."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowFinder)]


def add_verbose_argument(parser: argparse.ArgumentParser) -> None:
    """Give a script ``--verbose`` and keep TensorFlow's start-up lines quiet unless it is passed.

    For the reproduction scripts, whose parsers are built just before TensorFlow is first imported: the quiet
    import hook is installed here and removed again when ``--verbose`` is parsed.
    """

    class _Verbose(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            verbose_tensorflow()
            setattr(namespace, self.dest, True)

    parser.add_argument("--verbose", nargs=0, action=_Verbose, default=False,
                        help="keep TensorFlow's own log lines (hidden by default)")
    quiet_tensorflow()
