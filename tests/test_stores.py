"""The store layer (sampleaudio.stores): the bytes it writes, the older formats it reads, the features a dataset
declares, and a full disk."""

import dataclasses
import errno
import hashlib
import json
import os

import covers
import layouts
import numpy as np
import pytest
import tones
from conftest import ToneLoader

from sampleaudio import migrate, pipeline
from sampleaudio.cli import main as cli_main
from sampleaudio.data_prep import speech_commands
from sampleaudio.errors import DiskFullError, ParameterError
from sampleaudio.stores import (
    STANDARD_FEATURES,
    Clip,
    DatasetInfo,
    Feature,
    Store,
    Task,
    read_manifest,
    write_dataset,
)

#: SHA-256 of the shards of two fixtures, as sampleaudio wrote them before stores declared their features
#: (format 2): the stored bytes of today's datasets never change.
SPEECH_SHARDS = {
    "test-00000-of-00002.tfrecord": "a10b755c62b789d98e02f8fa60a8dfd545630ef6b33479c63e15fd79a20ff8b2",
    "test-00001-of-00002.tfrecord": "7466516f9f084762bae384ae99ab6e012df66389c561dbfc2cddf556c8903687",
    "train-00000-of-00003.tfrecord": "be7b25c8fa3b68e39d0107f711c24764b96aba277f6bc176e284ff6d091eaa1f",
    "train-00001-of-00003.tfrecord": "42230d231d473d31a2c233147f16ad078f4977981021cb2c3aba2e45f951d1f2",
    "train-00002-of-00003.tfrecord": "0b7ce3140b7db4c9d5b5f8949c88adddf83684fde01630355df2a604061e6bad",
    "valid-00000-of-00002.tfrecord": "28b979a06850e4bbe55d9a662c52194d8a4d085e4b15f86710ffa3b2c9e94e4e",
    "valid-00001-of-00002.tfrecord": "9282f306758fe1152b8a26282aaeaf3b8c13aa201581c639552273341fcec3a0",
}
TONE_SHARDS = {
    22050: {"test-00000-of-00001.tfrecord": "ff5ba3d84309dfe2060a9168f8dfc396fd61bb57803a9d8d3874cc3b3c456479",
            "train-00000-of-00002.tfrecord": "ec44efef22494889bdea8f1ccd8b9746ccde77b6ca033531b96ad0cbeb680e7a",
            "train-00001-of-00002.tfrecord": "9898d8bea837efa600bd2c6972a5a9b797257a78312d25f8a2ac5ab5d80c6f79",
            "valid-00000-of-00001.tfrecord": "2ea31ecbd2f95b50de1341b95f2e142d41a9527adefb8b5a5cebb7b24fec3518"},
    16000: {"test-00000-of-00001.tfrecord": "868a5de81c0263c36b44c3e1aeb8a82534ed5bce251f3276e38674eac35ed9f8",
            "train-00000-of-00002.tfrecord": "ce0608c898c11ed0f2ce231777485998a9ac1a66dffcd881551f45885139b201",
            "train-00001-of-00002.tfrecord": "280a8f167a3dc63c6f616dced2e78a13a7ace6be42f3723f38c99e526a429d22",
            "valid-00000-of-00001.tfrecord": "d80d7780ae01a43dc0f0560f891df2005e1ff33e792fe2f5e15fbb0a14f31d05"},
}


def tone_clips(n: int = 40) -> list[Clip]:
    return [Clip(f"c{k:03d}", ["train", "train", "train", "valid", "test"][k % 5], (k % 2,), f"{k % 2}:{k}")
            for k in range(n)]


def write_tones(out, **kwargs):
    return write_dataset(tone_clips(), out, info=tones.INFO, labels=["low", "high"], converter="test",
                         converter_version="0", clips_per_shard=16, progress=False,
                         **{"loader": ToneLoader(), **kwargs})


def digests(folder, suffix=".tfrecord") -> dict[str, str]:
    return {name: hashlib.sha256(open(os.path.join(folder, name), "rb").read()).hexdigest()
            for name in sorted(os.listdir(folder)) if name.endswith(suffix)}


@pytest.fixture(scope="module")
def speech_store(tmp_path_factory):
    src = tmp_path_factory.mktemp("sc_src")
    layouts.make_speech_commands(str(src), words=speech_commands.WORDS[:4], sr=22050)
    out = tmp_path_factory.mktemp("sc")
    speech_commands.convert(str(src), str(out), clips_per_shard=3, progress=False)
    return str(src), str(out)


def test_the_shards_of_todays_datasets_keep_their_bytes(speech_store, tmp_path):
    _, out = speech_store
    assert digests(out) == SPEECH_SHARDS
    for rate, want in TONE_SHARDS.items():
        write_tones(tmp_path / str(rate), sample_rate=rate)
        assert digests(tmp_path / str(rate)) == want


def test_the_manifest_records_the_features_and_the_task(speech_store):
    _, out = speech_store
    store = Store.open(out)
    assert store.format_version == 3 and store.features == STANDARD_FEATURES and store.declared_features == ()
    assert store.task == dataclasses.replace(speech_commands.INFO.task, num_classes=35)
    assert store.info["homepage"] == speech_commands.INFO.homepage and store.info["proxy_of"] is None


def as_format_2(store: str) -> None:
    """Rewrite a store's manifest as sampleaudio wrote it before format 3 (the shards are the same bytes)."""
    path = os.path.join(store, "manifest.json")
    with open(path) as f:
        raw = json.load(f)
    for key in ("features", "task", "info"):
        del raw[key]
    raw["format_version"] = 2
    with open(path, "w") as f:
        json.dump(raw, f)


def test_a_format_2_store_reads_as_before(speech_store, tmp_path):
    import shutil

    _, out = speech_store
    old = str(tmp_path / "old")
    shutil.copytree(out, old)
    as_format_2(old)
    store = Store.open(old, verify=True)
    assert store.format_version == 2 and store.features == migrate.V2_FEATURES and store.info == {}
    assert store.task == Store.open(out).task  # the frozen table's task, with the store's label count
    for split in ("train", "test"):
        new_clips, old_clips = (list(pipeline.read_clips(s, split).as_numpy_iterator()) for s in (out, old))
        assert [sorted(c) for c in old_clips] == [sorted(c) for c in new_clips]
        for a, b in zip(old_clips, new_clips):
            for key in a:
                np.testing.assert_array_equal(a[key], b[key])
    # a format-2 store of a dataset that table did not know opens; only its task is refused, naming the dataset
    shutil.copytree(tmp_path / "old", tmp_path / "toy")
    manifest = os.path.join(tmp_path / "toy", "manifest.json")
    raw = json.load(open(manifest))
    json.dump({**raw, "dataset": "toy"}, open(manifest, "w"))
    toy = Store.open(tmp_path / "toy")
    assert toy.clips("train") == 8
    with pytest.raises(KeyError, match="no task for dataset 'toy'.*convert it again"):
        _ = toy.task


def test_a_format_3_manifest_is_checked(speech_store, tmp_path):
    import shutil

    from sampleaudio.errors import DatasetLayoutError

    _, out = speech_store
    for name, change in (("task", {"num_classes": 3}), ("features", None)):
        shutil.copytree(out, tmp_path / name)
        path = os.path.join(tmp_path / name, "manifest.json")
        raw = json.load(open(path))
        if name == "task":
            raw["task"].update(change)
        else:
            raw["features"] = [f for f in raw["features"] if f["name"] != "audio"]
        json.dump(raw, open(path, "w"))
        with pytest.raises(DatasetLayoutError, match="is corrupt"):
            Store.open(tmp_path / name)


def test_a_dataset_declares_an_image_feature_without_a_store_change(tmp_path, capsys):
    """A converter module of its own (tests/covers.py) declares a cover-image feature: its store's clips carry the
    PNG bytes, read back through Store and the tf.data reader; a cover that is no PNG skips and lists its clip."""
    import tensorflow as tf

    src = tmp_path / "src"
    stored = covers.make_covers(str(src))
    manifest = covers.convert(str(src), str(tmp_path / "store"), workers=2)  # the loader travels to workers
    store = Store.open(tmp_path / "store", verify=True)
    assert [(f.name, f.kind) for f in store.declared_features] == [("cover", "bytes"), ("fold", "int")]
    assert store.task.name == "covers" and store.features[:len(STANDARD_FEATURES)] == STANDARD_FEATURES
    assert [(s["clip_id"], s["reason"]) for s in manifest.skipped] == [("c2", "not a PNG image")]
    seen = {}
    for split in store.splits:
        for ex in pipeline.read_clips(store, split).as_numpy_iterator():
            seen[ex["clip_id"].decode()] = ex
    assert sorted(seen) == sorted(set(stored) - {"c2"})
    for clip_id, ex in seen.items():
        assert ex["cover"] == stored[clip_id] and ex["fold"] == int(clip_id[1:]) % 3
        assert ex["audio"].shape == (5512,) and ex["labels"].shape == (2,)
    assert seen["c1"]["cover"] == b""  # no cover: the declared default
    image = tf.io.decode_png(seen["c5"]["cover"]).numpy()
    assert image.shape == (4, 3, 3) and (image == 100).all()
    assert cli_main(["inspect", str(tmp_path / "store")]) == 0
    assert "cover (bytes), fold (int)" in capsys.readouterr().out


def test_declarations_are_checked():
    task = Task("x", 2, False, 0.5, "accuracy", 1.0)
    with pytest.raises(ParameterError, match="standard"):
        DatasetInfo("x", task, features=(Feature("audio", "bytes"),))
    with pytest.raises(ParameterError, match="kind must be one of"):
        Feature("cover", "image")
    with pytest.raises(ParameterError, match="cannot hold a str"):
        Feature("fold", "int", default="one")
    with pytest.raises(ParameterError, match="no proxy"):
        DatasetInfo("y", task)
    with pytest.raises(ParameterError, match="does not declare"):
        write_dataset([Clip("a", "train", (0,), "s", features={"cover": b""})], "unused", info=DatasetInfo("x", task),
                      labels=["a", "b"], converter="t", converter_version="0")


class FullDisk:
    """A tone per clip, until clip ``at``: there the disk is full (as the OS or TensorFlow's writer says it)."""

    def __init__(self, at: str, tf_error: bool = False):
        self.at, self.tf_error = at, tf_error

    def __call__(self, clip):
        if clip.clip_id == self.at:
            if self.tf_error:
                import tensorflow as tf

                raise tf.errors.ResourceExhaustedError(None, None, "/store/x.tmp-1; No space left on device")
            raise OSError(errno.ENOSPC, "No space left on device")
        return ToneLoader()(clip)


def assert_no_temporaries(folder) -> None:
    assert not [n for n in os.listdir(folder) if ".tmp-" in n]


@pytest.mark.parametrize("workers, tf_error", [(1, True), (2, False)])
def test_a_full_disk_leaves_nothing_behind_and_resumes(tmp_path, workers, tf_error):
    whole = tmp_path / "whole"
    write_tones(whole)
    out = tmp_path / "full"
    with pytest.raises(DiskFullError) as info:
        write_tones(out, loader=FullDisk("c037", tf_error), workers=workers)  # c037: in the second train shard
    assert str(out) in str(info.value) and "\n" not in str(info.value) and info.value.errno == errno.ENOSPC
    assert_no_temporaries(out)
    assert not os.path.exists(out / "manifest.json")
    write_tones(out, workers=workers)
    assert digests(out, "") == digests(whole, "")  # every file, manifest and index included


def test_prep_on_a_full_disk_is_one_line_naming_the_folder(speech_store, tmp_path, monkeypatch, capsys):
    from sampleaudio.stores import writer

    src, _ = speech_store
    load, calls = writer.load, []

    def fills_up(path, **kwargs):
        calls.append(path)
        if len(calls) == 10:  # the second clip of the second shard (8 train clips in one shard, then valid)
            raise OSError(errno.ENOSPC, "No space left on device")
        return load(path, **kwargs)

    whole, out = str(tmp_path / "whole"), str(tmp_path / "out")
    args = ["prep", "speech-commands", "--src", src, "--workers", "1", "--quiet", "--out"]
    assert cli_main(args + [whole]) == 0
    args.append(out)
    monkeypatch.setattr(writer, "load", fills_up)
    assert cli_main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"'{out}'" in err and "no space left" in err and "run the same command" in err
    assert_no_temporaries(out)
    assert len([n for n in os.listdir(out) if n.endswith(".tfrecord.json")]) == 1  # the complete shard is kept
    monkeypatch.setattr(writer, "load", load)
    assert cli_main(args) == 0
    assert digests(out, "") == digests(whole, "")
    assert read_manifest(out).splits == read_manifest(whole).splits
