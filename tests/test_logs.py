"""Quiet by default: no TensorFlow C++ start-up lines from a command unless --verbose (sampleaudio.logs)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sampleaudio import __version__
from sampleaudio.cli import main


def _env() -> dict:
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # what a user's shell has: nothing
    env.pop("SAMPLEAUDIO_QUIET_TENSORFLOW", None)
    return env


def _stderr(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_tensorflow_prints_on_import_and_the_quiet_import_does_not():
    loud = _stderr("import tensorflow")
    assert "oneDNN" in loud or "InitializeLog" in loud  # the lines exist (else this test proves nothing)
    assert _stderr("from sampleaudio.logs import quiet_tensorflow; quiet_tensorflow(); import tensorflow") == ""
    assert "InitializeLog" in _stderr("from sampleaudio.logs import quiet_tensorflow\n"
                                      "quiet_tensorflow(); quiet_tensorflow(verbose=True); import tensorflow")


def test_a_failing_command_is_one_line_and_verbose_keeps_tensorflows_lines(tmp_path):
    missing = str(tmp_path / "no-such-run")
    done = subprocess.run([sys.executable, "-m", "sampleaudio.cli", "evaluate", missing], capture_output=True,
                          text=True, env=_env(), timeout=300)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("sampleaudio evaluate: error:"), done.stderr
    assert done.stdout == ""
    done = subprocess.run([sys.executable, "-m", "sampleaudio.cli", "evaluate", missing, "--verbose"],
                          capture_output=True, text=True, env=_env(), timeout=300)
    assert done.returncode == 1 and done.stderr.count("\n") > 1


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"sampleaudio {__version__}\n"
