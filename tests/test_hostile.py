"""Hostile input, generated here: odd audio files, malformed layouts, crafted stores and run folders, bad
arguments and bad serving requests (caches, weight files, word vectors, links out of a dataset and the scripts:
tests/test_hostile_files.py and tests/test_hostile_data.py; the helpers: tests/hostile_helpers.py).

For each one the test asserts the outcome a user must get: one line naming the file or argument and the problem
(the package's own error classes; exit code non-zero from the CLI), or a per-file error beside the good files'
results; and, where the tool writes, that nothing outside its own files was touched.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from hostile_helpers import (
    Tones,
    one_line_error,
    snapshot,
    tiny_config,
    tiny_store,
    tone_file,
    user_files,
)

from sampleaudio import audio
from sampleaudio.cli import main as cli_main
from sampleaudio.data_prep import get_info
from sampleaudio.errors import (
    AudioDecodeError,
    DatasetLayoutError,
    ParameterError,
    SampleAudioError,
    TrainingDivergedError,
)
from sampleaudio.stores import Clip, read_manifest, shard_paths, verify_store, write_dataset

SPEECH = get_info("speech-commands")

# ------------------------------------------------------------------- severe 1: prep deletes nobody's files


def test_conversion_removes_only_its_own_temporaries(tmp_path):
    out = tmp_path / "out"
    before = user_files(out)
    tiny_store(out)
    own_tmp = out / "train-00000-of-00002.tfrecord.tmp-4242"  # a leftover of a killed run: ours, by its exact name
    own_tmp.write_bytes(b"torn")
    tiny_store(out)  # resume
    assert not own_tmp.exists()
    after = snapshot(out)
    assert {k: after[k] for k in before} == before  # every user file untouched, even the ".tmp-" ones
    assert read_manifest(out).splits["train"]["clips"] == 4


def test_conversion_refuses_store_files_without_a_plan_and_a_second_writer(tmp_path):
    tiny_store(tmp_path / "a")
    os.remove(tmp_path / "a" / "plan.json")
    before = snapshot(tmp_path / "a")
    with pytest.raises(DatasetLayoutError, match="no plan.json"):
        tiny_store(tmp_path / "a", labels=("x", "y", "z"))  # another dataset must not adopt these shards
    assert snapshot(tmp_path / "a") == before

    import fcntl

    (tmp_path / "b").mkdir()
    with open(tmp_path / "b" / ".sampleaudio-prep.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another conversion is writing here
        with pytest.raises(DatasetLayoutError, match="in use by another conversion"):
            tiny_store(tmp_path / "b")
    assert sorted(os.listdir(tmp_path / "b")) == [".sampleaudio-prep.lock"]
    with pytest.raises(DatasetLayoutError, match="not a folder"):
        tiny_store(tmp_path / "a" / "manifest.json")


# ------------------------------------------------------------- severe 2: export --overwrite deletes nothing


def test_export_overwrite_refuses_everything_but_its_own_exports(run, exported, tmp_path):
    from sampleaudio.export import export_run

    run_before = snapshot(run)
    for target in (run, os.path.dirname(run), os.path.join(run, ".")):
        with pytest.raises(ParameterError, match="is or contains"):
            export_run(run, target, overwrite=True)
    user = tmp_path / "mine"
    user_before = user_files(user)
    with pytest.raises(ParameterError, match="not a SavedModel exported by sampleaudio"):
        export_run(run, str(user), overwrite=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ParameterError, match="not a SavedModel"):
        export_run(run, str(tmp_path / "file"), overwrite=True)
    assert snapshot(run) == run_before and snapshot(user) == user_before
    assert (tmp_path / "file").read_text() == "x"

    # a real export is replaced, and a user's "<out>.staging" folder beside it survives
    staging = exported + ".staging"
    os.makedirs(staging, exist_ok=True)
    (tmp_path / "s").write_text("keep")
    shutil.copy(tmp_path / "s", os.path.join(staging, "keep.txt"))
    old_pb = os.path.getmtime(os.path.join(exported, "saved_model.pb"))
    assert export_run(run, exported, overwrite=True, max_request_seconds=1.0) == exported
    assert os.path.getmtime(os.path.join(exported, "saved_model.pb")) >= old_pb
    assert open(os.path.join(staging, "keep.txt")).read() == "keep"
    assert not [n for n in os.listdir(os.path.dirname(exported)) if n.startswith(".1.staging")]
    assert snapshot(run) == run_before


def test_export_refuses_a_crafted_card(run, tmp_path):
    import keras

    from sampleaudio.export import export_model

    model = keras.saving.load_model(os.path.join(run, "best.keras"))
    card = json.loads(open(os.path.join(run, "model_card.json")).read())
    for bad, message in (({"labels": ["a", "b", "c"]}, "3 labels but the model has 2"), ({"std": 0.0}, "std"),
                         ({"segment": -5}, "segment"), ({"labels": ["a", "a"]}, "unique"),
                         ({"mean": float("nan")}, "mean")):
        with pytest.raises(ParameterError, match=message):
            export_model(model, {**card, **bad}, str(tmp_path / "x"))
    assert not os.path.exists(tmp_path / "x")


# ----------------------------------------------------------------- severe 3: tagging memory is bounded


def test_decoding_runs_at_most_workers_files_ahead(run, monkeypatch):
    from sampleaudio import inference
    from sampleaudio import sources as tagging_sources

    started = []

    def fake_decode(source, sample_rate, max_seconds):
        started.append(source)
        return np.zeros(1500, np.float32)

    monkeypatch.setattr(tagging_sources, "decode_source", fake_decode)
    tagger = inference.Tagger.from_path(run, workers=3)
    sources = [f"f{k}.wav" for k in range(40)]
    for i, (segs, error) in enumerate(tagger._decoded(sources)):
        assert error is None and segs.shape == (2, 729)
        # decoded but not yet consumed: never more than the worker count, however many files there are
        assert len(started) <= i + 1 + 3
    assert len(started) == 40


# ----------------------------------------------- severe 4: a huge file is that file's error, not the run's


def _long_silence(path, hours: float):
    with sf.SoundFile(path, "w", samplerate=1000, channels=1, format="FLAC", subtype="PCM_16") as f:
        zeros = np.zeros(1 << 20, np.int16)
        left = int(hours * 3600 * 1000)
        while left:
            f.write(zeros[:min(left, zeros.size)])
            left -= min(left, zeros.size)
    return str(path)


def test_hours_of_silence_are_a_per_file_error(run, tmp_path, monkeypatch, capsys):
    from sampleaudio import inference

    huge = _long_silence(tmp_path / "silence.flac", hours=6)  # 21.6 M samples at 1 kHz, ~100 kB of FLAC
    assert os.path.getsize(huge) < 1_000_000
    good = tone_file(tmp_path / "good.wav")
    results = inference.tag([huge, good], run)
    assert "6:00:00" in results[0].error and "--max-seconds" in results[0].error and results[0].scores is None
    assert results[1].error is None and np.all(np.isfinite(results[1].scores))
    # the limit is the user's to raise; a part of the file can always be read
    assert audio.load(huge, sr=1000, duration=2.0).shape == (2000,)
    assert audio.load(good, max_seconds=0.6).shape[0] > 0
    with pytest.raises(AudioDecodeError, match="limit of 0.1 s"):
        audio.load(good, max_seconds=0.1)
    # any other per-file failure, out-of-memory included, is that file's error too
    from sampleaudio import sources

    real = sources.decode_source

    def flaky(source, sample_rate, max_seconds):
        if "boom" in str(source):
            raise MemoryError()
        return real(source, sample_rate, max_seconds)

    monkeypatch.setattr(sources, "decode_source", flaky)
    results = inference.tag([str(tmp_path / "boom.wav"), good], run)
    assert "out of memory" in results[0].error and results[1].error is None
    # CLI: the good file is tagged, the bad one is one line, then the summary line; exit code 1
    rc = cli_main(["tag", run, huge, good, "--quiet"])
    out, err = capsys.readouterr()
    assert rc == 1 and "good.wav" in out and err.count("\n") == 2 and "silence.flac" in err.splitlines()[0]
    assert "1 done, 0 skipped (done before), 1 failed" in err.splitlines()[1]


def test_a_loader_running_out_of_memory_skips_that_clip(tmp_path):
    class Greedy(Tones):
        def __call__(self, clip):
            if clip.clip_id == "c3":
                raise MemoryError()
            return super().__call__(clip)

    clips = [Clip(f"c{k}", "train", (0,), str(k)) for k in range(5)]
    m = write_dataset(clips, tmp_path / "o", info=SPEECH, labels=["a"],
                      converter="t", converter_version="0", loader=Greedy(), progress=False)
    assert m.splits["train"]["clips"] == 4 and m.skipped[0]["reason"] == "out of memory while decoding"


# ------------------------------------------------------------------------------ odd audio files (5, misc)


def test_odd_files_get_one_clear_error_each(tmp_path, monkeypatch):
    good = tone_file(tmp_path / "good.wav")
    os.mkfifo(tmp_path / "pipe.wav")
    os.symlink(tmp_path / "loop_b.wav", tmp_path / "loop_a.wav")
    os.symlink(tmp_path / "loop_a.wav", tmp_path / "loop_b.wav")
    os.symlink(tmp_path / "gone.wav", tmp_path / "dangling.wav")
    mp3 = tmp_path / "full.mp3"
    sf.write(mp3, 0.1 * np.random.default_rng(0).standard_normal(22050).astype(np.float32), 22050)
    (tmp_path / "cut.mp3").write_bytes(mp3.read_bytes()[:300])
    cases = {"pipe.wav": "FIFO", "loop_a.wav": "symbolic link loop", "dangling.wav": "dangling symbolic link",
             "cut.mp3": "truncated"}
    for name, message in cases.items():
        with pytest.raises(AudioDecodeError, match=message) as info:
            audio.load(tmp_path / name)  # a FIFO must not hang
        assert "pipe?" not in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ParameterError, match="offset"):
        audio.load(good, offset=float("inf"))
    with pytest.raises(ParameterError, match="duration"):
        audio.load(good, duration=float("nan"))
    # unreadable (tested as root too: the permission check is what an unprivileged user hits)
    locked = tone_file(tmp_path / "locked.wav")
    os.chmod(locked, 0)
    if os.geteuid() == 0:
        monkeypatch.setattr(audio.os, "access", lambda p, mode: not str(p).endswith("locked.wav"))
    with pytest.raises(AudioDecodeError, match="permission denied"):
        audio.load(locked)
    # ... and in a conversion it is a skipped clip, not an aborted run
    clips = [Clip("ok", "train", (0,), good), Clip("locked", "train", (0,), locked),
             Clip("fifo", "train", (0,), str(tmp_path / "pipe.wav"))]
    m = write_dataset(clips, tmp_path / "store", info=SPEECH, labels=["a"],
                      converter="t", converter_version="0", progress=False)
    assert m.splits["train"]["clips"] == 1
    assert sorted(s["clip_id"] for s in m.skipped) == ["fifo", "locked"]


# ------------------------------------------------------------------------ inputs with glob characters (6)


def test_existing_paths_with_brackets_are_paths_and_empty_patterns_are_errors(run, tmp_path, capsys):
    from sampleaudio.inference import expand_inputs, tag

    odd = tone_file(tmp_path / "Song [Remastered 2011].wav")
    star = tone_file(tmp_path / "what*.wav")
    assert expand_inputs([odd, star]) == [odd, star]
    results = tag([odd], run)
    assert results[0].source == odd and results[0].error is None
    with pytest.raises(ParameterError, match="matches no file"):
        expand_inputs(str(tmp_path / "nothing*.wav"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="holds no audio file"):
        expand_inputs(str(tmp_path / "empty"))
    line = one_line_error(capsys, ["tag", run, str(tmp_path / "nothing*.wav"), "--quiet"])
    assert "nothing*.wav" in line and "matches no file" in line
    line = one_line_error(capsys, ["tag", run, odd, "--quiet", "--out", str(tmp_path / "no" / "such" / "t.csv")])
    assert "does not exist" in line


# ------------------------------------------------------------------------------------ divergence (7)


def test_nan_training_stops_and_keeps_the_last_good_checkpoint(tone_store, tmp_path, capsys):
    from sampleaudio.train import train

    run_dir = tmp_path / "run"
    with pytest.raises(TrainingDivergedError, match="diverged"):
        train(tiny_config(tone_store, lr=1e30, max_epochs_per_stage=2, patience=2, optimizer="sgd"),
              str(run_dir), verbose=0)
    assert not (run_dir / "best.keras").exists() and not (run_dir / "model_card.json").exists()
    assert not os.path.exists(run_dir / "history.csv") or "nan" not in (run_dir / "history.csv").read_text()
    # asked for its model, the run says it diverged (not "resume it with the same arguments", which would diverge
    # again)
    line = one_line_error(capsys, ["export", str(run_dir), "--out", str(tmp_path / "e" / "1")])
    assert "diverged" in line and "lower --lr" in line and "resume" not in line


def test_nan_model_outputs_are_per_file_errors_and_are_not_exported(run, tmp_path):
    import keras

    from sampleaudio.export import export_model
    from sampleaudio.inference import Tagger

    model = keras.saving.load_model(os.path.join(run, "best.keras"))
    model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    card = json.loads(open(os.path.join(run, "model_card.json")).read())
    results = Tagger.from_card(model, card).tag([tone_file(tmp_path / "a.wav")])
    assert "NaN" in results[0].error and results[0].scores is None
    with pytest.raises(ParameterError, match="NaN"):
        export_model(model, card, str(tmp_path / "x"))


# ------------------------------------------------------------------------------------ bad arguments (8)


@pytest.mark.parametrize("argv, option", [
    (["--steps-per-epoch", "-1"], "--steps-per-epoch"), (["--num-blocks", "0"], "--num-blocks"),
    (["--segment", "0"], "--segment"), (["--patience", "0"], "--patience"), (["--num-stages", "0"], "--num-stages"),
    (["--init-features", "0"], "--init-features"), (["--dropout", "1.5"], "--dropout"),
    (["--batch-size", "0"], "--batch-size"), (["--threshold", "5"], "--threshold"), (["--lr", "nan"], "--lr"),
    (["--lr", "-0.1"], "--lr"), (["--momentum", "1"], "--momentum"), (["--seed", "x"], "--seed"),
])
def test_bad_train_arguments_are_refused_where_they_enter(argv, option, tmp_path, capsys):
    line = one_line_error(capsys, ["train", "--data", str(tmp_path), "--run-dir", str(tmp_path / "r"), *argv], 2)
    assert option in line
    assert not (tmp_path / "r").exists()


def test_bad_inference_arguments(capsys, tmp_path):
    assert "--top-k" in one_line_error(capsys, ["tag", "m", "f.wav", "--top-k", "0"], 2)
    assert "--batch-size" in one_line_error(capsys, ["embed", "m", "f.wav", "--out", "o", "--batch-size", "-3"], 2)
    assert "--max-seconds" in one_line_error(capsys, ["tag", "m", "f.wav", "--max-seconds", "0"], 2)
    assert "--workers" in one_line_error(capsys, ["prep", "mini-mtat", "--out", str(tmp_path), "--workers", "0"], 2)


@pytest.mark.parametrize("argv, option", [
    (["search", "calm piano", "--index", "i", "--top", "0"], "--top"),
    (["search", "calm piano", "--index", "i", "--top", "-1"], "--top"),
    (["neighbours", "piano", "--run", "r", "--top", "0"], "--top"),
    (["neighbours", "piano", "--run", "r", "--vector-top", "-1"], "--vector-top"),
    (["index", "m", "f.wav", "--out", "o", "--batch-size", "0"], "--batch-size"),
    (["similar", "q.wav", "--index", "i", "--top", "-1"], "--top"),
    (["similar", "q.wav", "--index", "i", "--top", "x"], "--top"),
    (["plot-embeddings", "--index", "i", "--out", "o.png", "--seed", "-1"], "--seed"),
])
def test_bad_retrieval_and_zeroshot_arguments(argv, option, capsys):
    """The retrieval and zero-shot subcommands check their numbers as `train` does: one argparse line."""
    line = one_line_error(capsys, argv, 2)
    assert option in line and ("must be in" in line or "expected an integer" in line)


@pytest.mark.parametrize("argv, option, message", [
    (["--seeds", "0"], "--seeds", "must be in [1, inf), got 0"), (["--seed", "-1"], "--seed", "must be in [0, inf)"),
    (["--slurm", "--port", "70000"], "--port", "must be in [1, 65535], got 70000"),
    (["--slurm", "--port", "x"], "--port", "expected an integer, got 'x'")])
def test_bad_reproduction_and_slurm_arguments(argv, option, message, capsys):
    """The reproduction scripts' shared options and ``python -m sampleaudio.distributed`` check their numbers where
    they enter (sampleaudio.cli_types): argparse's one error line naming the option, exit code 2."""
    import argparse

    from sampleaudio import distributed
    from sampleaudio.reporting import profile_arguments

    if option == "--port":
        parse = distributed.main
    else:
        parser = argparse.ArgumentParser(prog="script")
        profile_arguments(parser)
        parse = parser.parse_args
    with pytest.raises(SystemExit) as info:
        parse(argv)
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert info.value.code == 2 and len(errors) == 1
    assert f"argument {option}: {message}" in errors[0]


@pytest.mark.parametrize("section, field, value", [
    ("train", "steps_per_epoch", -1), ("model", "num_blocks", 0), ("data", "segment", 0), ("train", "patience", 0),
    ("model", "dropout", 1.5), ("data", "batch_size", 0), ("eval", "threshold", 5.0), ("train", "lr", float("inf")),
])
def test_bad_config_values_are_refused_before_the_run_folder_is_written(tone_store, tmp_path, section, field,
                                                                         value):
    from sampleaudio.train import train

    config = tiny_config(tone_store)
    setattr(getattr(config, section), field, value)
    with pytest.raises(ParameterError, match=f"{section}.{field}"):
        train(config, str(tmp_path / "r"), verbose=0)
    assert not (tmp_path / "r").exists()


# --------------------------------------------------------------------------------- converter layouts (9, 11)


def test_speech_commands_lists_bom_latin1_empty_and_upper_case_wav(tmp_path):
    import layouts

    from sampleaudio.data_prep import speech_commands

    src = tmp_path / "sc"
    split = layouts.make_speech_commands(str(src), words=speech_commands.WORDS[:2], speakers=4)
    valid = (src / "validation_list.txt").read_text()
    (src / "validation_list.txt").write_text("\ufeff" + valid, encoding="utf-8")  # an editor's byte-order mark
    first = split["valid"][0]
    os.rename(src / first, src / first.replace(".wav", ".WAV"))
    with open(src / "validation_list.txt", "a") as f:
        f.write(first.replace(".wav", ".WAV") + "\n")
    clips, _, _ = speech_commands.list_clips(str(src))
    by_id = {c.clip_id: c.split for c in clips}
    assert by_id[first.replace(".wav", ".WAV")] == "valid"  # found although upper-case, and not moved to train
    assert all(by_id[rel] == "valid" for rel in split["valid"][1:])
    speakers = {s: {c.split for c in clips if c.artist_id == s} for s in {c.artist_id for c in clips}}
    assert all(len(v) == 1 for v in speakers.values()), "a speaker leaked across splits"

    (src / "testing_list.txt").write_bytes("down/caf\xe9_nohash_0.wav\n".encode("latin-1"))
    with pytest.raises(DatasetLayoutError, match="testing_list.txt.*not UTF-8"):
        speech_commands.list_clips(str(src))
    (src / "testing_list.txt").write_text("\n\n")
    with pytest.raises(DatasetLayoutError, match="testing_list.txt' is empty"):
        speech_commands.list_clips(str(src))


def _mtat(root, rows):
    from sampleaudio.data_prep import mtat

    os.makedirs(root / "mp3" / "0", exist_ok=True)
    tags = list(mtat.TOP50[:3])
    lines = ["\t".join(["clip_id", *tags, "mp3_path"])]
    lines += ["\t".join([cid, *map(str, cells), path]) for cid, cells, path in rows]
    (root / "annotations_final.csv").write_text("\n".join(lines) + "\n")
    return mtat


def test_mtat_bad_cells_and_paths_outside_src(tmp_path):
    outside = tmp_path / "secret.mp3"
    outside.write_bytes(b"x")
    mtat = _mtat(tmp_path / "a", [("1", (1, 0, 0), "0/a-b-01-c-0-29.mp3"), ("2", (-1, 0, 1), "0/a-b-02-c-0-29.mp3")])
    with pytest.raises(DatasetLayoutError, match="must be 0 or 1"):
        mtat.list_clips(str(tmp_path / "a"), num_top=3)
    mtat = _mtat(tmp_path / "b", [("1", (1, 0, 0), "0/../../secret.mp3")])
    with pytest.raises(DatasetLayoutError, match="points outside"):
        mtat.list_clips(str(tmp_path / "b"), num_top=3)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "annotations_final.csv").write_bytes(b"")
    with pytest.raises(DatasetLayoutError, match="annotations_final.csv"):
        mtat.list_clips(str(tmp_path / "c"))


def test_dcase_empty_evaluation_csv_is_refused(tmp_path):
    import layouts

    from sampleaudio.data_prep import dcase2017

    layouts.make_dcase2017(str(tmp_path), per_class=1, seconds=0.2, sr=8000)
    (tmp_path / "groundtruth_weak_label_evaluation_set.csv").write_bytes(b"")
    with pytest.raises(DatasetLayoutError, match="evaluation_set.csv is empty"):
        dcase2017.list_clips(str(tmp_path))


def test_store_missing_a_split_is_refused_before_training(tmp_path):
    from sampleaudio.train import train

    clips = [Clip(f"c{k}", "train" if k % 2 else "valid", (k % 2,), str(k)) for k in range(6)]
    write_dataset(clips, tmp_path / "s", info=SPEECH, labels=["a", "b"],
                  converter="t", converter_version="0", loader=Tones(), progress=False)
    with pytest.raises(DatasetLayoutError, match="no clips in its 'test' split"):
        train(tiny_config(tmp_path / "s"), str(tmp_path / "r"), verbose=0)
    assert not (tmp_path / "r").exists()  # a failed first train leaves no run folder to poison


# ------------------------------------------------------------------------------------ crafted stores (10)


@pytest.fixture()
def store(tmp_path):
    tiny_store(tmp_path / "s")
    return tmp_path / "s"


def test_a_shard_cut_at_a_record_boundary_or_altered_is_refused(store):
    shard = shard_paths(store, "train")[0]
    data = open(shard, "rb").read()
    first_record = 16 + int.from_bytes(data[:8], "little")  # length, crc, payload, crc
    with open(shard, "wb") as f:
        f.write(data[:first_record])  # a well-formed file holding half the records
    with pytest.raises(DatasetLayoutError, match="truncated or was replaced"):
        shard_paths(store, "train")
    with open(shard, "wb") as f:
        f.write(data[:-1] + bytes([data[-1] ^ 1]))  # same size, one bit flipped
    shard_paths(store, "train")  # sizes agree: the cheap check passes ...
    with pytest.raises(DatasetLayoutError, match="SHA-256"):
        verify_store(store)  # ... the checksum (what training runs first) does not
    os.remove(shard)
    with pytest.raises(DatasetLayoutError, match="missing"):
        shard_paths(store, "train")


@pytest.mark.parametrize("edit, message", [
    (lambda m: "garbage{", "not a readable sampleaudio manifest"),
    (lambda m: json.dumps([1, 2]), "not a JSON object"),
    (lambda m: json.dumps({**m, "unknown": 1, "std": 0.0}), "std must be positive"),
    (lambda m: json.dumps({**m, "format_version": 99}), "newer than this sampleaudio"),
    (lambda m: json.dumps({**m, "labels": []}), "labels"),
    (lambda m: json.dumps({**m, "splits": {**m["splits"], "train": {**m["splits"]["train"], "clips": 99}}}),
     "counts 99 clips"),
    (lambda m: json.dumps({**m, "splits": {"train": {"clips": 0, "shards": ["../../etc/passwd"]}}}), "shard name"),
    (lambda m: json.dumps({k: v for k, v in m.items() if k != "labels"}), "not a readable"),
])
def test_crafted_manifests_are_one_line_errors(store, edit, message, capsys):
    path = store / "manifest.json"
    path.write_text(edit(json.loads(path.read_text())))
    with pytest.raises(DatasetLayoutError, match=message):
        read_manifest(store)
    line = one_line_error(capsys, ["inspect", str(store)])
    assert "manifest.json" in line


def test_garbage_index_and_zero_byte_shard(store, capsys):
    (store / "clips.csv").write_bytes(b"\x00\xff garbage")
    assert "clips.csv" in one_line_error(capsys, ["inspect", str(store)])
    open(shard_paths(store, "valid")[0], "wb").close()
    with pytest.raises(DatasetLayoutError, match="has 0 bytes"):
        verify_store(store, checksum=False)


# ---------------------------------------------------------------------------- crafted run folders (12, minor)


def test_evaluate_against_a_store_with_other_label_names(run, tmp_path, capsys):
    from sampleaudio.evaluate import evaluate_run

    tiny_store(tmp_path / "other", labels=("cat", "dog"))
    before = snapshot(run)
    with pytest.raises(DatasetLayoutError, match="another label vocabulary.*'low' vs store 'cat'"):
        evaluate_run(run, data_dir=str(tmp_path / "other"))
    assert "label vocabulary" in one_line_error(capsys, ["evaluate", run, "--data", str(tmp_path / "other")])
    assert snapshot(run) == before


def test_evaluate_on_another_store_standardises_with_the_training_statistics(run, tmp_path, monkeypatch):
    """`evaluate RUN --data OTHER` scores with the run's card mean/std, as `tag` and `export` do (it used OTHER's)."""
    from sampleaudio import evaluate

    other = tiny_store(tmp_path / "other")
    assert (other.mean, other.std) != (0.0, 0.3)
    seen = {}

    def fake(model, data_dir, task, **kwargs):
        seen.update(kwargs, data_dir=data_dir)
        return {"accuracy": 1.0}, pd.DataFrame()

    monkeypatch.setattr(evaluate, "evaluate_model", fake)
    evaluate.evaluate_run(run, data_dir=str(tmp_path / "other"))
    # the store scored is OTHER (opened once: a Store, which is a path-like of its folder)
    assert (seen["mean"], seen["std"]) == (0.0, 0.3) and os.fspath(seen["data_dir"]) == str(tmp_path / "other")


def test_crafted_run_folders(run, tmp_path, capsys):
    from sampleaudio.inference import Tagger
    from sampleaudio.runs import load_run
    from sampleaudio.train import train

    bad = tmp_path / "bad"
    shutil.copytree(run, bad)
    config = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps({**config, "surprise": {"x": 1}}))
    with pytest.raises(ParameterError, match="unknown field"):
        load_run(str(bad))
    (bad / "config.json").write_text(json.dumps(config))
    card = json.loads((bad / "model_card.json").read_text())
    (bad / "model_card.json").write_text(json.dumps({**card, "std": 0}))
    with pytest.raises(ParameterError, match="std"):
        Tagger.from_path(str(bad))
    assert "std" in one_line_error(capsys, ["tag", str(bad), tone_file(tmp_path / "a.wav"), "--quiet"])
    (bad / "model_card.json").write_text("{")
    assert "model_card.json" in one_line_error(capsys, ["export", str(bad), "--out", str(tmp_path / "e")])
    # resuming with another configuration names what differs
    (bad / "model_card.json").unlink()
    other = tiny_config(config["data"]["data_dir"], lr=0.5)
    with pytest.raises(ParameterError, match=r"train.lr \(0.05 -> 0.5\)"):
        train(other, str(bad), verbose=0)


def test_history_rows_of_an_uncommitted_epoch_are_dropped(tmp_path):
    from sampleaudio.cards import RunDir

    path = tmp_path / "history.csv"
    path.write_text("stage,epoch,global_epoch,loss\n0,0,0,1.0\n0,1,1,0.9\n0,2,2,0.8\n")
    RunDir(tmp_path).rewind_history(2)  # state.json committed two epochs; the third is redone
    assert path.read_text().splitlines() == ["stage,epoch,global_epoch,loss", "0,0,0,1.0", "0,1,1,0.9"]


# --------------------------------------------------------------------------------- serving requests (minor)


def test_bad_serving_requests_get_clear_messages(exported):
    import tensorflow as tf

    loaded = tf.saved_model.load(exported)
    serve = loaded.signatures["serving_default"]
    wave = np.zeros((2, 5000), np.float32) + 0.1
    length = np.array([5000, 4000], np.int64)
    assert serve(waveform=tf.constant(wave), length=tf.constant(length))["probabilities"].shape == (2, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"waveform must be a \[batch, samples\]"):
        serve(waveform=tf.constant(wave[0]), length=tf.constant(length))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"waveform must be a \[batch, samples\]"):
        loaded.serve(tf.constant(wave[None]), tf.constant(length))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"length must be a \[batch\]"):
        serve(waveform=tf.constant(wave), length=tf.constant(length[None]))
    big = np.zeros((3, 22050), np.float32)  # 3 s of audio; this export caps a request at 1 s
    with pytest.raises(tf.errors.InvalidArgumentError, match="at most 22050 samples"):
        serve(waveform=tf.constant(big), length=tf.constant(np.full(3, 22050, np.int64)))


def test_every_cli_failure_is_one_line(tmp_path, capsys):
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "manifest.json").write_bytes(b"\xff\xfe not json")
    assert "manifest.json" in one_line_error(capsys, ["inspect", str(garbage)])
    assert "best.keras" in one_line_error(capsys, ["tag", str(tmp_path), "x.wav", "--quiet"])
    assert issubclass(TrainingDivergedError, SampleAudioError)


class _Killed(BaseException):
    """Stands in for kill -9: nothing after it runs, no except clause catches it."""


def test_a_kill_between_checkpoint_and_state_redoes_the_epoch_once(tone_store, tmp_path, monkeypatch):
    from sampleaudio import train as train_module
    from sampleaudio.cards import RunDir

    config = tiny_config(tone_store, max_epochs_per_stage=2, patience=2)
    real = RunDir.write_state  # the epoch commit writes state.json through it

    def killed_at_first_commit(self, state):
        if state.get("global_epoch") == 1:
            raise _Killed()  # epoch 0's checkpoint and history row are written, its state is not
        real(self, state)

    monkeypatch.setattr(RunDir, "write_state", killed_at_first_commit)
    with pytest.raises(_Killed):
        train_module.train(config, str(tmp_path), verbose=0)
    assert not (tmp_path / "state.json").exists() and (tmp_path / "checkpoints" / "epoch-00001.keras").exists()
    assert "0,0,0," in (tmp_path / "history.csv").read_text()  # the uncommitted epoch's row is there ...

    monkeypatch.setattr(RunDir, "write_state", real)
    train_module.train(config, str(tmp_path), verbose=0)
    import pandas as pd

    history = pd.read_csv(tmp_path / "history.csv")
    assert list(history.global_epoch) == [0, 1]  # ... and is redone once, not repeated on top of its weights
    names = os.listdir(tmp_path / "checkpoints")
    # the committed epoch and the one before it (a multi-worker job may rewind one epoch), nothing older
    assert sum(n.startswith("epoch-") for n in names) <= 2 and sum(n.startswith("best-") for n in names) <= 2
    assert not any(n.startswith("tmp") for n in names)
