"""Song retrieval: the embedding index (exact and faiss), its save/load, and the index/similar/plot CLIs."""

import os
import sys
import textwrap

import numpy as np
import pytest

from sampleaudio.cli import main
from sampleaudio.errors import ParameterError
from sampleaudio.pretrained import PRETRAINED
from sampleaudio.retrieval import EmbeddingIndex

PARK2018 = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "weights", "park2018",
                        "model_siamese_10000.h5")


def test_exact_search_by_hand(tmp_path):
    vectors = [[1, 0], [0, 1], [1, 1], [-1, 0]]
    index = EmbeddingIndex(vectors, ["a", "b", "c", "d"], [{"genre": g} for g in "xyxy"], model="m")
    scores, idx = index.search([[2, 0.1]], top=3)
    # cosines with [2, .1] (norm 2.0025): a 2/2.0025 = .9988, c 2.1/(2.0025 sqrt 2) = .7415, b .1/2.0025 = .0499
    assert idx.tolist() == [[0, 2, 1]]
    np.testing.assert_allclose(scores[0], [0.99875, 0.74154, 0.04994], atol=1e-4)
    rows = index.query(np.array([1.0, 0.0]), top=2, exclude="a")
    assert [r["path"] for r in rows] == ["c", "b"] and rows[0]["genre"] == "x" and rows[0]["rank"] == 1
    loaded = EmbeddingIndex.load(index.save(str(tmp_path / "idx")))
    assert loaded.paths == index.paths and loaded.metadata == index.metadata and loaded.model == "m"
    np.testing.assert_allclose(loaded.vectors, index.vectors, atol=1e-7)  # renormalised on load: 1 ulp
    with pytest.raises(ParameterError, match="dimension"):
        index.search([[1, 2, 3]])
    with pytest.raises(ParameterError, match="not an embedding index"):
        EmbeddingIndex.load(str(tmp_path))


def test_faiss_backends_agree_with_exact():
    pytest.importorskip("faiss", reason="the faiss extra")
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((2000, 32)).astype(np.float32)
    queries = rng.standard_normal((20, 32)).astype(np.float32)
    exact = EmbeddingIndex(vectors, [str(i) for i in range(2000)])
    flat = EmbeddingIndex(vectors, exact.paths, backend="faiss")
    s1, i1 = exact.search(queries, 10)
    s2, i2 = flat.search(queries, 10)
    assert (i1 == i2).mean() > 0.99
    np.testing.assert_allclose(s1, s2, atol=1e-5)
    ivf = EmbeddingIndex(vectors, exact.paths, backend="faiss-ivf", nprobe=ivf_lists(2000))
    _, i3 = ivf.search(queries, 10)
    assert (i3 == i1).mean() > 0.99  # every list probed: exact


def ivf_lists(n):
    return max(1, min(n // 39, int(4 * np.sqrt(n))))


TOY = """
import keras

def load(weights):
    # a fixed "embedding": the mean absolute amplitude and the mean of the signal's square, per 2,000 samples
    inp = keras.Input((2000, 1))
    a = keras.layers.GlobalAveragePooling1D()(keras.ops.abs(inp))
    b = keras.layers.GlobalAveragePooling1D()(keras.ops.square(inp))
    out = keras.layers.Concatenate(name="final_pool")([a, b, a * 0 + 0.01])
    return keras.Model(inp, out), {"labels": ["x", "y", "z"], "segment": 2000, "mean": 0.0, "std": 1.0,
                                   "embedding_layer": "final_pool"}
"""


@pytest.fixture
def toy(tmp_path, monkeypatch):
    (tmp_path / "toy_embed_loader.py").write_text(textwrap.dedent(TOY))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(PRETRAINED, "toy-embedder", "toy_embed_loader:load")
    yield "toy-embedder"
    sys.modules.pop("toy_embed_loader", None)


def _songs(folder):
    import soundfile as sf

    rng = np.random.default_rng(0)
    for genre, level in (("quiet", 0.05), ("loud", 0.6)):
        os.makedirs(folder / genre, exist_ok=True)
        for k in range(3):
            sf.write(folder / genre / f"{genre}{k}.wav", level * (1 + 0.1 * k) * rng.standard_normal(8000), 22050)


def test_index_similar_and_plot_cli(toy, tmp_path, capsys):
    _songs(tmp_path / "songs")
    (tmp_path / "songs" / "meta.csv").write_text("path,artist\nquiet/quiet0.wav,A\nloud/loud1.wav,B\n")
    assert main(["index", toy, str(tmp_path / "songs"), "--out", str(tmp_path / "idx"), "--quiet",
                 "--metadata", str(tmp_path / "songs" / "meta.csv")]) == 0
    index = EmbeddingIndex.load(str(tmp_path / "idx"))
    assert len(index) == 6 and index.model == toy
    assert {m["folder"] for m in index.metadata} == {"quiet", "loud"}
    assert [m.get("artist") for m in index.metadata if m.get("artist")] == ["B", "A"]  # sorted paths: loud first
    capsys.readouterr()
    assert main(["similar", str(tmp_path / "songs" / "quiet" / "quiet0.wav"), "--index", str(tmp_path / "idx"),
                 "--top", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("query:") and len(lines) == 3
    assert all("folder=quiet" in line for line in lines[1:]) and "quiet0.wav" not in "".join(lines[1:])
    assert main(["plot-embeddings", "--index", str(tmp_path / "idx"), "--out", str(tmp_path / "map.png"),
                 "--method", "pca"]) == 0
    assert (tmp_path / "map.png").stat().st_size > 1000
    assert main(["plot-embeddings", "--index", str(tmp_path / "idx"), "--out", str(tmp_path / "m.png"),
                 "--color-by", "mood"]) == 1  # a clear error, not a traceback
    assert "mood" in capsys.readouterr().err


@pytest.mark.skipif(not os.path.exists(PARK2018), reason="the authors' model_siamese_10000.h5 is absent")
def test_index_with_the_released_model(tmp_path, capsys):
    _songs(tmp_path / "songs")
    assert main(["index", "park2018-artist", str(tmp_path / "songs" / "loud"), "--weights", PARK2018,
                 "--out", str(tmp_path / "idx"), "--quiet"]) == 0
    index = EmbeddingIndex.load(str(tmp_path / "idx"))
    assert index.dim == 256 and index.weights == os.path.abspath(PARK2018)
    capsys.readouterr()
    assert main(["similar", str(tmp_path / "songs" / "loud" / "loud0.wav"), "--index", str(tmp_path / "idx")]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 3  # query + the 2 other songs
