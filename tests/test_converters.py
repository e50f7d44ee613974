import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import layouts
import numpy as np
import pandas as pd
import pytest

from sampleaudio import audio, pipeline
from sampleaudio.cli import main as cli_main
from sampleaudio.data_prep import dcase2017, mtat, speech_commands
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import SPLITS, read_index, read_manifest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def mtat_store(tmp_path_factory):
    src = tmp_path_factory.mktemp("mtat_src")
    facts = layouts.make_mtat(str(src))
    out = tmp_path_factory.mktemp("mtat_out")
    assert cli_main(["prep", "mtat", "--src", str(src), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    return src, out, facts


def test_mtat_top50_split_and_skips(mtat_store):
    src, out, facts = mtat_store
    m = read_manifest(out)
    assert m.labels == mtat.TOP50 and m.multi_label
    index = read_index(out)
    # every clip with a top tag is there except the broken ones; the rare-only clip is dropped
    assert facts["dropped"] not in set(index["clip_id"])
    assert len(index) == len(facts["expected"])
    for _, row in index.iterrows():
        rel, on = facts["expected"][row["clip_id"]]
        assert row["split"] == mtat.split_of(rel)
        assert [int(i) for i in row["labels"].split()] == [mtat.TOP50.index(t) for t in
                                                           np.array(mtat.TOP50 + ["x", "y"])[:50][on.astype(bool)]]
    assert m.splits["train"]["clips"] == 24 and m.splits["valid"]["clips"] == 2 and m.splits["test"]["clips"] == 6
    reasons = {os.path.relpath(s["path"], os.path.join(src, "mp3")): s["reason"] for s in m.skipped}
    assert "known broken" in reasons[facts["known_broken"]]
    assert "corrupt" in reasons[facts["corrupt"]]


def test_split_rule_by_folder():
    assert [mtat.split_of(f"{h}/x.mp3") for h in "0bcdf"] == ["train", "train", "valid", "test", "test"]
    with pytest.raises(DatasetLayoutError):
        mtat.split_of("g/x.mp3")


def test_round_trip_gives_back_the_samples(mtat_store):
    src, out, facts = mtat_store
    m = read_manifest(out)
    ds = pipeline.read_clips(out, "valid")
    seen = 0
    for ex in ds:
        clip_id = ex["clip_id"].numpy().decode()
        rel, on = facts["expected"][clip_id]
        want = audio.load(os.path.join(src, "mp3", rel))
        got = ex["audio"].numpy()
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1.0 / 32767 + 1e-7)
        np.testing.assert_array_equal(ex["labels"].numpy(), on.astype(np.float32))
        seen += 1
    assert seen == m.splits["valid"]["clips"]
    # the evaluation pipeline returns the same samples, standardised and tile-padded
    segment = 22050
    for x, _y, _i in pipeline.eval_dataset(out, "valid", segment=segment, batch_size=4):
        restored = x.numpy()[..., 0] * m.std + m.mean
        assert restored.shape[1] == segment
    clip = next(iter(pipeline.read_clips(out, "valid")))["audio"].numpy()
    first = next(iter(pipeline.eval_dataset(out, "valid", segment=segment, batch_size=1)))[0].numpy()[0, :, 0]
    np.testing.assert_allclose(first * m.std + m.mean, np.resize(clip, segment), atol=1e-5)


def test_inspect_prints_a_readable_summary(mtat_store, capsys):
    _, out, _ = mtat_store
    assert cli_main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    for word in ("mtat", "train", "valid", "test", "skipped files: 2", "most frequent labels"):
        assert word in text


def test_speech_commands_lists_and_noise(tmp_path):
    src = tmp_path / "sc"
    facts = layouts.make_speech_commands(str(src), words=speech_commands.WORDS[:6] + ["extra_folder"])
    with pytest.warns(UserWarning, match="lacks word folder"):
        clips, skipped, info = speech_commands.list_clips(str(src))
    by_id = {c.clip_id: c for c in clips}
    assert not any("_background_noise_" in c.clip_id for c in clips)
    assert "extra_folder" in info["ignored_folders"] and "zero" in info["missing_words"]
    for split in ("train", "valid", "test"):
        for rel in facts[split]:
            if rel.startswith("extra_folder"):
                continue
            assert by_id[rel].split == split
            assert by_id[rel].labels == (speech_commands.WORDS.index(rel.split("/")[0]),)
            assert by_id[rel].artist_id == rel.split("/")[1].split("_nohash_")[0]
    # a listed file missing on disk is reported, not fatal
    os.remove(src / facts["test"][0])
    with pytest.warns(UserWarning):
        clips, skipped, _ = speech_commands.list_clips(str(src))
    assert [s["clip_id"] for s in skipped] == [facts["test"][0]]


def test_speech_commands_requires_its_lists(tmp_path):
    (tmp_path / "yes").mkdir()
    with pytest.raises(DatasetLayoutError, match="validation_list.txt"):
        speech_commands.list_clips(str(tmp_path))


def test_dcase_merges_sets_and_draws_validation_per_class(tmp_path):
    src = tmp_path / "dcase"
    rows = layouts.make_dcase2017(str(src), per_class=5)
    clips = dcase2017.list_clips(str(src))
    by_split = {s: [c for c in clips if c.split == s] for s in SPLITS}
    eval_files = {r[0][:-4] for r in rows["evaluation"]}
    assert {c.clip_id for c in by_split["test"]} == eval_files
    # the original's rule, recomputed independently with pandas
    dev = pd.DataFrame(rows["training"] + rows["testing"], columns=["file", "start", "end", "label"])
    want_valid = set()
    for c in dcase2017.CLASSES:
        want_valid |= set(dev[dev["label"] == c].sample(frac=0.1, random_state=123)["file"])
    assert {c.clip_id + ".wav" for c in by_split["valid"]} == want_valid
    multi = [c for c in clips if len(c.labels) == 2]
    assert multi, "fixture has clips with two weak labels"
    for c in clips:
        assert os.path.basename(c.source) == "Y" + c.clip_id + ".wav" and os.path.exists(c.source)
    assert dcase2017.list_clips(str(src), seed=5) != clips  # the seed matters


def test_dcase_rejects_unknown_labels(tmp_path):
    src = tmp_path / "dcase"
    layouts.make_dcase2017(str(src), per_class=1)
    with open(src / dcase2017.SETS["evaluation"][0], "a") as f:
        f.write("zzz_0.000_10.000.wav\t0.000\t10.000\tUnicorn\n")
    with pytest.raises(DatasetLayoutError, match="Unicorn"):
        dcase2017.list_clips(str(src))


def test_prep_cli_for_each_real_layout(tmp_path):
    layouts.make_speech_commands(str(tmp_path / "sc"), words=speech_commands.WORDS[:3], speakers=4)
    warnings.simplefilter("ignore", UserWarning)  # the fixture holds 3 of the 35 words
    layouts.make_dcase2017(str(tmp_path / "dc"), per_class=1, seconds=1.0, sr=22050)
    assert cli_main(["prep", "speech-commands", "--src", str(tmp_path / "sc"), "--out", str(tmp_path / "o1"),
                     "--workers", "2", "--quiet"]) == 0
    assert cli_main(["prep", "dcase2017", "--src", str(tmp_path / "dc"), "--out", str(tmp_path / "o2"),
                     "--quiet"]) == 0
    sc = read_manifest(tmp_path / "o1")
    assert sc.labels == speech_commands.WORDS and not sc.multi_label
    assert sc.splits["train"]["clips"] == 6 and sc.splits["valid"]["clips"] == 3
    assert read_manifest(tmp_path / "o2").labels == dcase2017.CLASSES
    # a folder in the wrong layout is a clear error, not a traceback
    assert cli_main(["prep", "mtat", "--src", str(tmp_path / "sc"), "--out", str(tmp_path / "o3")]) == 1


_CONVERT = textwrap.dedent("""
    import sys, time
    import numpy as np
    from sampleaudio.data_prep import speech_commands
    from sampleaudio.stores import FileLoader, write_dataset

    class SlowLoader(FileLoader):
        def __call__(self, clip):
            time.sleep(0.03)
            return super().__call__(clip)

    src, out = sys.argv[1], sys.argv[2]
    clips, skipped, _ = speech_commands.list_clips(src)
    write_dataset(clips, out, info=speech_commands.INFO, labels=speech_commands.WORDS, converter="test",
                  converter_version="0", loader=SlowLoader(), clips_per_shard=8,
                  skipped=skipped, progress=False)
""")


def _run_convert(src, out, env):
    return subprocess.Popen([sys.executable, "-c", _CONVERT, str(src), str(out)], env=env, cwd=ROOT)


def _tree(path):
    return {n: open(os.path.join(path, n), "rb").read() for n in sorted(os.listdir(path))}


def test_killed_conversion_resumes_to_identical_shards(tmp_path):
    src = tmp_path / "sc"
    layouts.make_speech_commands(str(src), words=speech_commands.WORDS[:10], speakers=4)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert _run_convert(src, whole, env).wait(timeout=300) == 0

    proc = _run_convert(src, killed, env)
    deadline = time.time() + 120
    while time.time() < deadline:
        done = [n for n in os.listdir(killed)] if killed.exists() else []
        if sum(n.endswith(".tfrecord.json") for n in done) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    names = os.listdir(killed)
    assert "manifest.json" not in names, "the run was killed before it finished"
    finished = sum(n.endswith(".tfrecord.json") for n in names)
    assert 2 <= finished < len(json.load(open(killed / "plan.json"))["shards"])
    # a torn write of a shard that was in progress: it must be replaced, not trusted
    unfinished = sorted(n for n in json.load(open(killed / "plan.json"))["shards"] if n + ".json" not in names)
    with open(killed / f"{unfinished[0]}.tmp-999", "wb") as f:
        f.write(b"partial")
    # a user's file whose name merely contains ".tmp-" is not the converter's to delete
    (killed / "notes.tmp-1").write_bytes(b"mine")
    mtimes = {n: os.path.getmtime(killed / n) for n in names if n.endswith(".tfrecord.json")}

    assert _run_convert(src, killed, env).wait(timeout=300) == 0
    assert (killed / "notes.tmp-1").read_bytes() == b"mine"
    (killed / "notes.tmp-1").unlink()
    assert _tree(killed) == _tree(whole)
    for n, t in mtimes.items():  # complete shards were not redone
        assert os.path.getmtime(killed / n) == t


def test_resuming_into_a_folder_of_another_conversion_is_refused(tmp_path):
    layouts.make_speech_commands(str(tmp_path / "a"), words=speech_commands.WORDS[:2], speakers=4)
    layouts.make_speech_commands(str(tmp_path / "b"), words=speech_commands.WORDS[2:4], speakers=4)
    speech_commands.convert(str(tmp_path / "a"), str(tmp_path / "out"), progress=False)
    with pytest.raises(DatasetLayoutError, match="different clip list"):
        speech_commands.convert(str(tmp_path / "b"), str(tmp_path / "out"), progress=False)
