"""One atomic-write helper for every file the package writes (sampleaudio.fileio)."""

from __future__ import annotations

import json
import os

import pytest

from sampleaudio import fileio


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "state.json"
    fileio.write_json_atomic(str(path), {"epoch": 1})
    with pytest.raises(RuntimeError), fileio.atomic_open(str(path)) as f:
        f.write('{"epoch": 2, "trunc')
        raise RuntimeError("killed mid-write")
    assert json.loads(path.read_text()) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["state.json"]


def test_the_temporary_name_is_the_one_crash_recovery_removes(tmp_path):
    from sampleaudio.stores.writer import _remove_own_temporaries

    (tmp_path / "shard-0.tfrecord.tmp-1").write_text("partial")
    (tmp_path / "notes.tmp-1").write_text("a user's file")
    assert fileio.temporary_name("shard-0.tfrecord") == f"shard-0.tfrecord.tmp-{os.getpid()}"
    _remove_own_temporaries(str(tmp_path), ["shard-0.tfrecord"])
    assert os.listdir(tmp_path) == ["notes.tmp-1"]


def test_read_only_modes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="mode"), fileio.atomic_open(str(tmp_path / "x"), "r"):
        pass
