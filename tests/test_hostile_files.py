"""Hostile files the package reads: its own caches damaged or swapped, crafted ``--weights`` files (musicnn's
``.weights.h5`` and checkpoints, Keras-2 HDF5 of Park 2018 and SampleCNN) and crafted word-vector text files.

Each case is generated here. A cache that does not verify is rebuilt with one warning naming it and gives the
right weights; a bad user file is one :class:`~sampleaudio.errors.ParameterError` line naming the file, raised
before its data is read (helpers: tests/hostile_helpers.py).
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import time
import tracemalloc
import warnings

import h5py
import keras
import numpy as np
import pytest
from hostile_helpers import one_line_error, snapshot, tone_file

from sampleaudio import wordvectors as wv
from sampleaudio.errors import ParameterError
from sampleaudio.families.musicnn import model as mn
from sampleaudio.fileio import DerivedFileWarning, derived_file
from sampleaudio.weights import load_keras2_weights, read_keras2_weights

needs_wheel = pytest.mark.skipif(importlib.util.find_spec("musicnn") is None,
                                 reason="the musicnn wheel (pip install --no-deps musicnn)")


def _one_warning(record, path) -> str:
    """The single DerivedFileWarning of ``record``, which names ``path``; its text, one line."""
    ours = [str(w.message) for w in record if issubclass(w.category, DerivedFileWarning)]
    assert len(ours) == 1, ours
    assert os.path.basename(str(path)) in ours[0] and "\n" not in ours[0]
    return ours[0]


# ---------------------------------------------------------------------------- caches: musicnn weights (item 1)


@pytest.fixture(scope="module")
def musicnn_cache(tmp_path_factory):
    """A cache holding the converted musicnn-mtt and musicnn-msd weights, and musicnn-mtt's weights."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SAMPLEAUDIO_CACHE", str(cache))
        model, _ = mn.load_variant("musicnn-mtt")
        mn.load_variant("musicnn-msd")
    return str(cache), model.get_weights()


def _flip(data):
    return data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0xFF]) + data[len(data) // 2 + 1:]


MUSICNN_DAMAGE = {
    "flipped byte": lambda mtt, msd: mtt.write_bytes(_flip(mtt.read_bytes())),
    "zero-filled (power cut)": lambda mtt, msd: mtt.write_bytes(bytes(mtt.stat().st_size)),
    "truncated": lambda mtt, msd: mtt.write_bytes(mtt.read_bytes()[:mtt.stat().st_size // 3]),
    "empty": lambda mtt, msd: mtt.write_bytes(b""),
    "other variant's file": lambda mtt, msd: shutil.copy(msd, mtt),
    "other variant's file and record": lambda mtt, msd: [shutil.copy(f"{msd}{s}", f"{mtt}{s}")
                                                         for s in ("", ".made-from.json")],
    "no record (an older cache)": lambda mtt, msd: os.remove(f"{mtt}.made-from.json"),
    "garbage record": lambda mtt, msd: open(f"{mtt}.made-from.json", "w").write("{"),
    "older converter's record": lambda mtt, msd: open(f"{mtt}.made-from.json", "w").write(
        open(f"{mtt}.made-from.json").read().replace('"converter_version": 2', '"converter_version": 1')),
    "made from another wheel's checkpoint": lambda mtt, msd: open(f"{mtt}.made-from.json", "w").write(
        re.sub(r'"index_sha256": "[0-9a-f]+"', '"index_sha256": "00"', open(f"{mtt}.made-from.json").read())),
}


@needs_wheel
@pytest.mark.parametrize("damage", list(MUSICNN_DAMAGE))
def test_a_damaged_or_swapped_musicnn_cache_is_rebuilt_with_one_warning(musicnn_cache, damage, tmp_path,
                                                                        monkeypatch):
    source, reference = musicnn_cache
    cache = tmp_path / "cache"
    shutil.copytree(source, cache)
    monkeypatch.setenv("SAMPLEAUDIO_CACHE", str(cache))
    mtt, = glob.glob(str(cache / "**" / "MTT_musicnn.weights.h5"), recursive=True)
    msd, = glob.glob(str(cache / "**" / "MSD_musicnn.weights.h5"), recursive=True)
    from pathlib import Path

    MUSICNN_DAMAGE[damage](Path(mtt), Path(msd))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model, card = mn.load_variant("musicnn-mtt")
    message = _one_warning(record, mtt)
    assert "rebuilding" in message
    assert card["labels"] == mn.MTT_LABELS
    for ours, theirs in zip(model.get_weights(), reference):
        np.testing.assert_array_equal(ours, theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DerivedFileWarning)  # rebuilt: it verifies now
        mn.load_variant("musicnn-mtt")
    assert not [n for n in os.listdir(os.path.dirname(mtt)) if ".tmp-" in n]


def test_the_rebuild_notice_is_one_line_on_stderr(tmp_path):
    """Outside pytest's warning capture: what a user sees when a cache is rebuilt."""
    import subprocess
    import sys

    code = ("from sampleaudio.fileio import derived_file, write_derived\n"
            f"p = {str(tmp_path / 'c.txt')!r}\n"
            "build = lambda t: open(t, 'w').write('good')\n"
            "write_derived(p, build, made_from={'a': 1})\n"
            "open(p, 'w').write('bad!')\n"
            "print(derived_file(p, made_from={'a': 1}, build=build, load=lambda q: open(q).read()))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout == "good\n"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "c.txt" in lines[0] and "DerivedFileWarning" in lines[0], lines


def test_a_derived_file_whose_build_fails_leaves_nothing(tmp_path):
    path = tmp_path / "c" / "x.npz"

    def build(tmp):
        with open(tmp, "wb") as f:
            f.write(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        derived_file(str(path), made_from={"a": 1}, build=build, load=lambda p: None)
    assert os.listdir(tmp_path / "c") == []


# ------------------------------------------------------------------------ caches: word vectors (item 1)

GLOVE = "the 0.1 0.2 0.3\npiano 1.0 0.0 0.0\nvocal 0.0 0.0 4.0\nguitar 2.0 2.0 0.0\n"

WORDS_DAMAGE = {
    "flipped byte": lambda c, other: c.write_bytes(_flip(c.read_bytes())),
    "zero-filled (power cut)": lambda c, other: c.write_bytes(bytes(c.stat().st_size)),
    "truncated": lambda c, other: c.write_bytes(c.read_bytes()[:c.stat().st_size // 2]),
    "empty": lambda c, other: c.write_bytes(b""),
    "another vocabulary's cache and record": lambda c, other: [shutil.copy(f"{other}{s}", f"{c}{s}")
                                                               for s in ("", ".made-from.json")],
    "no record (an older cache)": lambda c, other: os.remove(f"{c}.made-from.json"),
    "garbage record": lambda c, other: open(f"{c}.made-from.json", "w").write("[]"),
    "made from another vectors file": lambda c, other: open(f"{c}.made-from.json", "w").write(
        re.sub(r'"source": "[^"]+"', '"source": "/elsewhere/glove.txt"', open(f"{c}.made-from.json").read())),
}


@pytest.mark.parametrize("damage", list(WORDS_DAMAGE))
def test_a_damaged_or_swapped_word_vector_cache_is_rebuilt_with_one_warning(damage, tmp_path):
    from pathlib import Path

    glove = tmp_path / "glove.txt"
    glove.write_text(GLOVE)
    cache_dir = str(tmp_path / "cache")
    wv.load_word_vectors(str(glove), ["guitar"], cache_dir=cache_dir)
    other = glob.glob(os.path.join(cache_dir, "wordvectors", "*.npz"))[0]
    wv.load_word_vectors(str(glove), ["piano", "vocal"], cache_dir=cache_dir)
    cached = [p for p in glob.glob(os.path.join(cache_dir, "wordvectors", "*.npz")) if p != other][0]
    WORDS_DAMAGE[damage](Path(cached), other)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        table = wv.load_word_vectors(str(glove), ["piano", "vocal"], cache_dir=cache_dir)
    _one_warning(record, cached)
    assert sorted(table.words) == ["piano", "vocal"]
    np.testing.assert_array_equal(table.get("vocal"), [0, 0, 4])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DerivedFileWarning)
        assert wv.load_word_vectors(str(glove), ["piano", "vocal"], cache_dir=cache_dir).get("piano")[0] == 1


# ------------------------------------------------------------------- musicnn --weights (item 3, via the CLI)


def _vgg_weights(path):
    mn.musicnn_vgg(50).save_weights(path)
    return str(path)


def _edit_weights(source, path, edit):
    """A copy of a .weights.h5 file with ``edit(h5py.File)`` applied."""
    shutil.copy(source, path)
    with h5py.File(path, "r+") as f:
        edit(f)
    return str(path)


def _huge(f):
    del f["layers/dense/vars/0"]
    f["layers/dense/vars"].create_dataset("0", shape=(1506, 1_400_000), dtype="float32")  # 8.4 GB declared


def _external(f):
    del f["layers/dense/vars"]
    f["layers/dense/vars"] = h5py.ExternalLink("/etc/passwd", "/")


def _drop_bias(f):
    del f["layers/dense/vars/1"]


def _soft(f):
    del f["layers/dense/vars/1"]
    f["layers/dense/vars/1"] = h5py.SoftLink("/layers/dense/vars/0")


def _device(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zero.weights.h5")
    return str(tmp_path / "zero.weights.h5")


def _integers(f):
    data = np.asarray(f["layers/dense/vars/1"]).astype(np.int64)
    del f["layers/dense/vars/1"]
    f["layers/dense/vars"].create_dataset("1", data=data)


@pytest.fixture(scope="module")
def mtt_weights(tmp_path_factory):
    """musicnn-mtt's weights as a user's .weights.h5 file (random: the wheel is not needed)."""
    path = tmp_path_factory.mktemp("w") / "mine.weights.h5"
    mn.musicnn(50, name="MTT_musicnn").save_weights(path)
    return str(path)


def _checkpoint(tmp_path, cut=None, drop_data=False, variant="MTT_musicnn"):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    src = mn.checkpoint_dir(variant)
    for name in (".index", ".data-00000-of-00001"):
        data = open(os.path.join(src, name), "rb").read()
        if drop_data and name.startswith(".data"):
            continue
        if cut and name == cut[0]:
            data = data[:cut[1]]
        (folder / name).write_bytes(data)
    return str(folder)


WEIGHTS_CASES = {
    "missing path": (lambda t, w: str(t / "nowhere.weights.h5"), "no such file"),
    "missing checkpoint folder": (lambda t, w: str(t / "nowhere"), "no such file or folder"),
    "a folder without a checkpoint": (lambda t, w: str((t / "empty").mkdir() or t / "empty"), "holds no"),
    "a .keras file": (lambda t, w: str(t / "m.keras"), "not a whole saved model"),
    "a Keras 2 .h5 file": (lambda t, w: str(t / "old.h5"), "Keras 2 file"),
    "zero-filled .weights.h5": (lambda t, w: (t / "z.weights.h5").write_bytes(bytes(4096)) and str(t / "z.weights.h5"),
                                "not a readable HDF5 file"),
    "truncated .weights.h5": (lambda t, w: (t / "t.weights.h5").write_bytes(open(w, "rb").read()[:500_000])
                              and str(t / "t.weights.h5"), "weights"),
    "another architecture's .weights.h5": (lambda t, w: _vgg_weights(t / "vgg.weights.h5"), "another architecture"),
    "a weight declaring 8 GB": (lambda t, w: _edit_weights(w, t / "huge.weights.h5", _huge), "1506, 1400000"),
    "an external link": (lambda t, w: _edit_weights(w, t / "ext.weights.h5", _external), "links are not followed"),
    "integer weights": (lambda t, w: _edit_weights(w, t / "int.weights.h5", _integers), "not floating-point"),
    "a layer missing a weight": (lambda t, w: _edit_weights(w, t / "drop.weights.h5", _drop_bias),
                                 "1 weights in the file, 2 in the model"),
    "a soft link": (lambda t, w: _edit_weights(w, t / "soft.weights.h5", _soft), "links are not followed"),
    "musicnn of other widths": (lambda t, w: mn.musicnn(50, midend_filters=32).save_weights(t / "w.weights.h5")
                                or str(t / "w.weights.h5"), "in the file"),
    "a garbage checkpoint index": (lambda t, w: (t / "ck.index").write_bytes(b"\0" * 64) and str(t / "ck"),
                                   "cannot be read"),
    "a FIFO": (lambda t, w: os.mkfifo(t / "pipe.weights.h5") or str(t / "pipe.weights.h5"), "not a regular file"),
    "a device": (lambda t, w: _device(t), "not a regular file"),
}


@pytest.mark.parametrize("case", list(WEIGHTS_CASES))
def test_bad_musicnn_weights_are_one_line(case, mtt_weights, tmp_path, capsys):
    make, message = WEIGHTS_CASES[case]
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(tmp_path / "m.keras")
    (tmp_path / "old.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    weights = make(tmp_path, mtt_weights)
    before = snapshot(tmp_path)
    started = time.time()
    line = one_line_error(capsys, ["tag", "musicnn-mtt", tone_file(tmp_path.parent / "a.wav"), "--weights", weights,
                                   "--quiet"])
    assert message in line and os.path.basename(weights) in line, line
    assert time.time() - started < 30  # nothing huge was read
    assert snapshot(tmp_path) == before


def test_good_musicnn_weights_load(mtt_weights):
    model, _ = mn.load_variant("musicnn-mtt", mtt_weights)
    with h5py.File(mtt_weights) as f:
        np.testing.assert_array_equal(model.get_layer("logits").get_weights()[1], f["layers/dense_1/vars/1"][()])


@needs_wheel
@pytest.mark.parametrize("kind, message", [
    ("another architecture's checkpoint", "lacks variable"), ("truncated data file", "is truncated"),
    ("truncated index", "cannot be read"), ("missing data file", "is truncated"),
])
def test_bad_musicnn_checkpoints_are_one_line(kind, message, tmp_path):
    folder = {"another architecture's checkpoint": lambda: _checkpoint(tmp_path, variant="MTT_vgg"),
              "truncated data file": lambda: _checkpoint(tmp_path, cut=(".data-00000-of-00001", 100_000)),
              "truncated index": lambda: _checkpoint(tmp_path, cut=(".index", 100)),
              "missing data file": lambda: _checkpoint(tmp_path, drop_data=True)}[kind]()
    with pytest.raises(ParameterError, match=message) as info:
        mn.load_variant("musicnn-mtt", folder)
    assert folder in str(info.value) and "\n" not in str(info.value)


# ------------------------------------------------------------------ Keras-2 HDF5 reader (item 3: Park 2018)


def _tiny():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d1")])
    model.set_weights([np.arange(12, dtype="float32").reshape(4, 3), np.ones(3, "float32")])
    return model


def _keras2(path, edit=None):
    """A Keras-2 weights file of :func:`_tiny` (``layer_names`` / ``weight_names`` attributes), then ``edit``."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([b"d1"])
        g = f.create_group("d1")
        g.attrs["weight_names"] = np.array([b"d1/kernel:0", b"d1/bias:0"])
        g.create_dataset("d1/kernel:0", data=np.arange(12, dtype="float32").reshape(4, 3))
        g.create_dataset("d1/bias:0", data=np.ones(3, "float32"))
        if edit:
            edit(f)
    return str(path)


def _replace(name, **kwargs):
    def edit(f):
        del f[name]
        f.create_dataset(name, **kwargs)
    return edit


def _virtual(f):
    layout = h5py.VirtualLayout(shape=(3,), dtype="float32")
    layout[:] = h5py.VirtualSource("/etc/passwd", "x", shape=(3,))
    del f["d1/d1/bias:0"]
    f["d1/d1"].create_virtual_dataset("bias:0", layout)


def _link(kind):
    def edit(f):
        del f["d1"]
        f["d1"] = h5py.ExternalLink(kind, "/d1") if kind else h5py.SoftLink("/elsewhere")
    return edit


KERAS2_CASES = {
    "a missing layer group": (lambda f: f.attrs.__setitem__("layer_names", np.array([b"d1", b"d2"])), "'/d2' is missing"),
    "a missing weight dataset": (lambda f: f["d1"].attrs.__setitem__("weight_names",
                                                                     np.array([b"d1/kernel:0", b"d1/gone:0"])),
                                 "gone:0' is missing"),
    "an external link to another HDF5 file": (_link("other.h5"), "links are not followed"),
    "an external link to /etc/passwd": (_link("/etc/passwd"), "links are not followed"),
    "a soft link": (_link(None), "links are not followed"),
    "integer layer names": (lambda f: f.attrs.__setitem__("layer_names", np.array([1, 2])), "not names"),
    "integer weight names": (lambda f: f["d1"].attrs.__setitem__("weight_names", np.array([0, 1])), "not names"),
    "no layer_names attribute": (lambda f: f.attrs.__delitem__("layer_names"), "no 'layer_names'"),
    "a 2 MB file declaring an 8 GB array": (_replace("d1/d1/kernel:0", shape=(2_000_000_000,), dtype="float32"),
                                            "(2000000000,)"),
    "a string dataset": (_replace("d1/d1/bias:0", data=np.array([b"a", b"b", b"c"])), "not floating-point"),
    "external raw storage (/etc/passwd)": (_replace("d1/d1/bias:0", shape=(3,), dtype="float32",
                                                    external=[("/etc/passwd", 0, 12)]), "other files"),
    "a virtual dataset": (_virtual, "other files"),
    "a shape other than the model's": (_replace("d1/d1/kernel:0", data=np.zeros((3, 4), "float32")), "(3, 4)"),
    "a compressed dataset declaring 8 GB": (_replace("d1/d1/kernel:0", shape=(2_000_000_000,), dtype="float32",
                                                     chunks=(1_000_000,), compression="gzip"), "(2000000000,)"),
    "a group where a weight should be": (lambda f: (f["d1/d1"].__delitem__("bias:0"),
                                                    f["d1/d1"].create_group("bias:0")), "is not a dataset"),
    "an empty layer name": (lambda f: f.attrs.__setitem__("layer_names", np.array([b"d1", b""])),
                            "something other than names"),
    "scalar layer_names": (lambda f: f.attrs.__setitem__("layer_names", b"d1"), "not names"),
}


@pytest.mark.parametrize("case", list(KERAS2_CASES))
def test_crafted_keras2_files_are_refused_before_reading(case, tmp_path):
    edit, message = KERAS2_CASES[case]
    _keras2(tmp_path / "other.h5")
    path = _keras2(tmp_path / "w.h5", edit)
    assert os.path.getsize(path) < 2_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ParameterError, match=message) as info:
            load_keras2_weights(_tiny(), path)
        if case != "a shape other than the model's":  # the reader alone knows no model shapes
            with pytest.raises(ParameterError, match=message):
                read_keras2_weights(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000
    assert "w.h5" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("case, message", [("missing path", "no such file"), ("a folder", "is a folder"),
                                           ("text", "not a readable HDF5"), ("truncated", "w.h5")])
def test_unreadable_keras2_files(case, message, tmp_path):
    full = _keras2(tmp_path / "full.h5")
    path = tmp_path / "w.h5"
    if case == "a folder":
        path.mkdir()
    elif case == "text":
        path.write_text("layer_names\n")
    elif case == "truncated":
        path.write_bytes(open(full, "rb").read()[:1200])
    with pytest.raises(ParameterError, match=message):
        load_keras2_weights(_tiny(), path)


def test_a_good_keras2_file_loads_and_park2018_cli_errors_are_one_line(tmp_path, capsys):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d1")])
    assert load_keras2_weights(model, _keras2(tmp_path / "ok.h5")).loaded == ["d1"]
    np.testing.assert_array_equal(model.get_weights()[0], np.arange(12).reshape(4, 3))
    wav = tone_file(tmp_path / "a.wav")
    for name, (edit, message) in list(KERAS2_CASES.items())[2:7]:
        weights = _keras2(tmp_path / f"{len(name)}.h5", edit)
        line = one_line_error(capsys, ["embed", "park2018-artist", wav, "--out", str(tmp_path / "e.npz"),
                                       "--weights", weights, "--quiet"])
        assert message in line and weights in line
    assert not (tmp_path / "e.npz").exists()


# ------------------------------------------------------------------------------- GloVe text files (item 4)


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


GLOVE_CASES = {
    "one number too many": ("piano 1 2 3\nvocal 4 5 6 7\n", "line 2 has more than 3 numbers"),
    "NaN": ("piano 1 2 3\nvocal 4 nan 6\n", "line 2 holds 'nan'"),
    "Inf": ("piano inf 2 3\n", "line 1 holds 'inf'"),
    "-Inf": ("piano 1 2 3\nvocal 4 5 -Infinity\n", "line 2 holds '-Infinity'"),
    "1e38 (float32 norms overflow)": ("piano 1 2 3\nvocal 1e38 0 0\n", "line 2 holds '1e38'"),
    "1e39 (float32 overflow)": ("piano 1 2 3\nvocal 0 1e39 0\n", "line 2 holds '1e39'"),
    "word2vec header with fewer words than declared": ("5 3\npiano 1 2 3\nvocal 4 5 6\n", "declares 5 words"),
    "word2vec header and another dimension": ("2 3\npiano 1 2 3\nvocal 4 5\n", "line 3 has 2 numbers, not 3"),
    "a gzip file": (None, "word vectors"),
    "a header line only": ("2 3\n", "declares 2 words"),
    "a number too few": ("piano 1 2 3\nvocal 4 5\n", "line 2 has 2 numbers, not 3"),
    "tab-separated": ("piano\t1\t2\t3\nvocal\t4\t5\t6\n", "line 1 is not"),
    "a word2vec header of dimension 0": ("2 0\npiano\nvocal\n", "line 2 has 0 numbers"),
    "a UTF-16 file": (None, "word vectors"),
    "an empty file": ("", "empty"),
    "blank lines only": ("\n\n  \n", "empty"),
    "a number that is not one": ("piano 1 2 3\nvocal 4 5 0x6\n", "line 2 is not"),
}


@pytest.mark.parametrize("case", list(GLOVE_CASES))
def test_bad_glove_files_are_one_line_with_file_and_line(case, tmp_path):
    import gzip

    text, message = GLOVE_CASES[case]
    path = tmp_path / "vectors.txt"
    if case == "a gzip file":
        path.write_bytes(gzip.compress(("piano 1 2 3\n" * 2000 + "vocal 4 5 6\n").encode()))
    elif case == "a UTF-16 file":
        path.write_bytes(("piano 1 2 3\n" * 50 + "vocal 4 5 6\n").encode("utf-16"))
    else:
        _write(path, text)
    for read in (lambda: wv.read_glove_text(path), lambda: wv.load_word_vectors(str(path), ["piano", "vocal"],
                                                                                 cache_dir=str(tmp_path / "c"))):
        with pytest.raises(ParameterError, match=message) as info:
            read()
        assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert not os.path.exists(tmp_path / "c" / "wordvectors") or not os.listdir(tmp_path / "c" / "wordvectors")


def test_a_300_mb_line_is_refused_after_reading_one_megabyte(tmp_path):
    path = tmp_path / "one-line.txt"
    with open(path, "wb") as f:  # sparse: 300 MB on paper, a few kB on disk
        f.write(b"piano ")
        f.seek(300_000_000)
        f.write(b" 1\n")
    tracemalloc.start()
    started = time.time()
    try:
        with pytest.raises(ParameterError, match="line 1 is longer than"):
            wv.read_glove_text(path)
        with pytest.raises(ParameterError, match="line 1 is longer than"):
            wv.vector_dim(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64_000_000 and time.time() - started < 20


def test_a_line_just_over_the_bound_is_refused(tmp_path):
    path = _write(tmp_path / "long.txt", "piano " + "1 " * (wv.MAX_LINE_CHARS // 2) + "\n")
    with pytest.raises(ParameterError, match="line 1 is longer than"):
        wv.read_glove_text(path)


def test_bom_word2vec_header_and_crlf_files_read_right(tmp_path):
    bom = _write(tmp_path / "bom.txt", "\ufeffpiano 1 2 3\nvocal 4 5 6\n")
    assert wv.read_glove_text(bom, ["piano"]).words == ["piano"]  # the first word, not '\ufeffpiano'
    assert wv.vector_dim(str(bom)) == 3
    header = _write(tmp_path / "w2v.txt", "2 3\npiano 1 2 3\nvocal 4 5 6\n")
    table = wv.read_glove_text(header)
    assert table.dim == 3 and table.words == ["piano", "vocal"]  # not a "1-d" file
    assert wv.vector_dim(str(header)) == 3
    crlf = _write(tmp_path / "crlf.txt", "piano 1 2 3\r\nnan 4 5 6\r\n")  # 'nan' and 'inf' are words of GloVe
    table = wv.read_glove_text(crlf)
    np.testing.assert_array_equal(table.get("nan"), [4, 5, 6])
    assert table.words == ["piano", "nan"]
