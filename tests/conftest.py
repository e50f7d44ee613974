import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(__file__))  # the fixture builders in tests/layouts.py


import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tones  # noqa: E402


class ToneLoader:
    """Class 0: a 300 Hz tone, class 1: a 2 kHz tone, in noise; source = 'class:seed'."""

    def __call__(self, clip):
        c, seed = map(int, clip.source.split(":"))
        rng = np.random.default_rng(seed)
        t = np.arange(3000) / 22050
        f = 300 if c == 0 else 2000
        return (0.5 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) + 0.1 * rng.standard_normal(3000)).astype(
            np.float32)


@pytest.fixture(scope="session")
def tone_store(tmp_path_factory):
    """A tiny single-label store (two tones, 60 clips of 3,000 samples; dataset ``tones``, ``tests/tones.py``) for
    training tests."""
    from sampleaudio.stores import Clip, write_dataset

    out = tmp_path_factory.mktemp("tones")
    clips = [Clip(f"c{k:03d}", ["train", "train", "train", "valid", "test"][k % 5], (k % 2,), f"{k % 2}:{k}")
             for k in range(60)]
    write_dataset(clips, out, info=tones.INFO, labels=["low", "high"], converter="test", converter_version="0",
                  loader=ToneLoader(), clips_per_shard=16, progress=False)
    return str(out)


@pytest.fixture(scope="module")
def run(tone_store, tmp_path_factory):
    """A finished-looking run folder on the tone store, built without training (``hostile_helpers.make_run``);
    modules with a ``run`` fixture of their own use theirs."""
    from hostile_helpers import make_run

    return make_run(tone_store, tmp_path_factory.mktemp("run"))


@pytest.fixture(scope="module")
def exported(run, tmp_path_factory):
    """``run`` exported as a SavedModel version folder."""
    from hostile_helpers import make_export

    return make_export(run, tmp_path_factory.mktemp("serving") / "m" / "1")
