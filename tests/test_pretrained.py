"""The pretrained-model seam: a registered name works wherever a run folder does (tag, embed, export)."""

import sys
import textwrap

import numpy as np
import pytest

from sampleaudio.errors import ParameterError
from sampleaudio.inference import Tagger
from sampleaudio.pretrained import PRETRAINED, is_pretrained, load_pretrained

LOADER = """
import keras

def load(weights):
    inp = keras.Input((400, 1))
    x = keras.layers.Conv1D(3, 4, strides=4, name="conv")(inp)
    x = keras.layers.GlobalMaxPooling1D(name="final_pool")(x)
    out = keras.layers.Dense(2, activation="sigmoid", name="out")(x)
    return keras.Model(inp, out), {"labels": ["a", "b"], "segment": 400, "mean": 0.0, "std": 1.0,
                                   "sample_rate": 8000, "weights": weights}
"""


@pytest.fixture
def toy(tmp_path, monkeypatch):
    (tmp_path / "toy_pretrained_loader.py").write_text(textwrap.dedent(LOADER))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(PRETRAINED, "toy-tagger", "toy_pretrained_loader:load")
    yield "toy-tagger"
    sys.modules.pop("toy_pretrained_loader", None)


def test_a_registered_name_tags_at_its_own_sample_rate(toy):
    assert is_pretrained(toy) and not is_pretrained("runs/x")
    _, card = load_pretrained(toy, "w.h5")
    assert card["weights"] == "w.h5"
    tagger = Tagger.from_path(toy)
    assert tagger.sample_rate == 8000
    # one second at 16 kHz is resampled to 8,000 samples: 20 segments of 400
    result = tagger.tag([(np.random.default_rng(0).standard_normal(16000).astype(np.float32), 16000)])[0]
    assert result.error is None and result.taggram.shape == (20, 2)
    assert result.times[1] == pytest.approx(400 / 8000)


def test_an_unknown_name_is_a_clear_error():
    with pytest.raises(ParameterError, match="unknown pretrained model 'nope'"):
        load_pretrained("nope")
