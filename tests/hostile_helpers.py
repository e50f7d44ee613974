"""Helpers of the hostile-input tests (tests/test_hostile*.py): snapshots that prove nothing was touched, a
folder of a user's own look-alike files, the one-line CLI check, tiny stores, configs and run folders.

Every hostile test generates its bad input itself and asserts the outcome a user must get: one line naming the
file or argument and the problem (the package's own error classes; a non-zero exit code from the CLI and the
scripts), or a per-file error beside the good files' results; and, where the tool writes, that nothing outside
its own files was touched.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import numpy as np
import pytest
import soundfile as sf

from sampleaudio.cli import main as cli_main
from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, TrainConfig, model_params
from sampleaudio.data_prep import get_info
from sampleaudio.stores import Clip, write_dataset


def snapshot(root) -> dict:
    """Every path under ``root`` with its kind, size, mtime and content hash: equal snapshots = untouched."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            digest = hashlib.sha256(open(p, "rb").read()).hexdigest() if os.path.isfile(p) else ""
            out[os.path.relpath(p, root)] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return out


def user_files(root) -> dict:
    """A folder of a user's own things, some with names a careless cleaner would match."""
    os.makedirs(root, exist_ok=True)
    for name, data in {"notes.tmp-1": b"mine", "draft.tmp-backup": b"keep", "song.tmp-2.wav": b"RIFF....",
                       "train-00000-of-00001.tfrecord.tmp-x": b"not ours either"}.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    os.makedirs(os.path.join(root, "sub.tmp-3"), exist_ok=True)
    with open(os.path.join(root, "sub.tmp-3", "inner.txt"), "w") as f:
        f.write("inner")
    return snapshot(root)


def one_line_error(capsys, argv, code=1) -> str:
    """Run the CLI; assert exit ``code`` and exactly one line on stderr; return that line."""
    rc = cli_main(argv) if code != 2 else None
    if code == 2:
        with pytest.raises(SystemExit) as info:
            cli_main(argv)
        rc = info.value.code
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == code, err
    assert len(err) == 1, err
    return err[0]


def tone_file(path, seconds=0.5, sr=22050, freq=440.0):
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr)
    return str(path)


class Tones:
    def __call__(self, clip):
        k = int(clip.source)
        t = np.arange(2000) / 22050
        return (0.4 * np.sin(2 * np.pi * (300 + 50 * k) * t)).astype(np.float32)


def tiny_store(out, labels=("low", "high"), n=10, **kwargs):
    clips = [Clip(f"c{k}", ["train", "valid", "test"][k % 3], (k % len(labels),), str(k)) for k in range(n)]
    return write_dataset(clips, out, info=get_info("speech-commands"), labels=list(labels),
                         converter="test", converter_version="0", loader=Tones(), clips_per_shard=2,
                         progress=False, **kwargs)


def tiny_config(store, **train) -> ExperimentConfig:
    base = {"lr": 0.05, "num_stages": 1, "max_epochs_per_stage": 1, "patience": 1, "steps_per_epoch": 2}
    base.update(train)
    return ExperimentConfig(name="hostile", data=DataConfig(data_dir=str(store), segment=729, batch_size=8),
                            model=model_params(block="basic", num_blocks=3, init_features=4),
                            train=TrainConfig(**base), eval=EvalConfig())


def make_run(store, run_dir) -> str:
    """A finished-looking run folder built without training (a fresh tiny model): what tag/export/evaluate read."""
    import tones

    from sampleaudio.train import build_model

    run_dir = os.fspath(run_dir)
    config = tiny_config(store)
    task = tones.TONES
    build_model(config.model, task, 729).save(os.path.join(run_dir, "best.keras"))
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        f.write(config.to_json())
    with open(os.path.join(run_dir, "model_card.json"), "w") as f:
        json.dump({"labels": ["low", "high"], "task": dataclasses.asdict(task), "segment": 729, "mean": 0.0,
                   "std": 0.3, "dataset": "tones", "synthetic": False}, f)
    return run_dir


def make_export(run_dir, out) -> str:
    """``run_dir`` exported as a SavedModel at ``out`` (a version folder)."""
    from sampleaudio.export import export_run

    return export_run(os.fspath(run_dir), os.fspath(out), max_request_seconds=1.0)
