"""Tagging, embedding and indexing a music library: decoding of real formats (libsndfile and FFmpeg), folders that
hold other things, the streaming outputs and their formats, --hop, --plot, checks of the output before any work,
kill / --resume (byte-identical outputs), the index's atomic commit and its damaged files, --format of the
retrieval commands, and flat memory in the number of files.

Everything runs on a handful of files generated here and a tiny SampleCNN run folder (no training).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sampleaudio import audio
from sampleaudio.cli import main
from sampleaudio.errors import AudioDecodeError, ParameterError
from sampleaudio.inference import Tagger, expand_inputs, scan_inputs
from sampleaudio.outputs import TagWriter, output_name
from sampleaudio.retrieval import EmbeddingIndex
from sampleaudio.segments import segment_starts_np

av = pytest.importorskip("av", reason="the formats extra (PyAV)")

SR = 22050
LABELS = ["low", "mid", "high"]


def tone(seconds: float, freq: float, sr: int = SR, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return x if channels == 1 else np.stack([x, -0.5 * x], axis=1)


def encode(path, samples: np.ndarray, sr: int, codec: str, container: str | None = None) -> str:
    """Encode ``samples`` ``[n, channels]`` with PyAV's FFmpeg (AAC, ALAC, WMA, Opus: what libsndfile cannot)."""
    samples = samples[:, None] if samples.ndim == 1 else samples
    channels = samples.shape[1]
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=sr, layout=layout)
        stream.bit_rate = 128000
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.T, np.float32), format="fltp", layout=layout)
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return str(path)


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def folder_digest(folder) -> dict:
    return {name: sha(os.path.join(folder, name)) for name in sorted(os.listdir(folder))}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny SampleCNN run folder (3 tags, 729-sample segments), as `sampleaudio train` leaves one."""
    from sampleaudio.families.samplecnn.model import SampleCNN

    folder = tmp_path_factory.mktemp("run")
    model = SampleCNN(block="basic", num_blocks=5, num_classes=3, init_features=4)
    model.save(folder / "best.keras")
    (folder / "model_card.json").write_text(json.dumps({"labels": LABELS, "segment": 729, "mean": 0.0,
                                                        "std": 0.3}))
    return str(folder)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A small library in mixed formats, with what real folders also hold (a cover, notes, a hidden file) and one
    file no decoder reads."""
    root = tmp_path_factory.mktemp("library")
    (root / "a").mkdir()
    (root / "b").mkdir()
    sf.write(root / "a" / "01.wav", tone(0.30, 300), SR)
    sf.write(root / "a" / "02.flac", tone(0.20, 900, 44100, 2), 44100)
    sf.write(root / "a" / "03.ogg", tone(0.25, 2000), SR)
    sf.write(root / "b" / "04.mp3", tone(0.30, 500, 44100), 44100)
    encode(root / "b" / "05.m4a", tone(0.30, 700, 44100, 2), 44100, "aac")
    encode(root / "b" / "06.opus", tone(0.20, 1200, 48000, 1), 48000, "libopus")
    (root / "b" / "07.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")  # no decoder reads it
    (root / "a" / "cover.jpg").write_bytes(b"\xff\xd8\xff")
    (root / "a" / "notes.txt").write_text("liner notes")
    (root / "b" / "cover.jpg").write_bytes(b"\xff\xd8\xff")
    (root / "b" / ".DS_Store").write_bytes(b"\x00")
    return str(root)


# ------------------------------------------------------------------------------------------------- decoding


@pytest.mark.parametrize("name, codec, container, rate", [
    ("aac.m4a", "aac", None, 44100), ("alac.m4a", "alac", "ipod", 44100), ("wma2.wma", "wmav2", None, 44100),
    ("opus.webm", "libopus", None, 48000)])
def test_ffmpeg_formats_decode_to_the_same_tone(tmp_path, name, codec, container, rate):
    path = encode(tmp_path / name, tone(1.0, 440, rate, 2), rate, codec, container)
    with pytest.raises(AudioDecodeError, match="unsupported"):
        audio.load(path, decoder="soundfile")  # what libsndfile alone made of them: a silent skip before
    y = audio.load(path)
    assert y.dtype == np.float32 and abs(y.shape[0] - SR) < 0.05 * SR
    middle = y[SR // 4: 3 * SR // 4]
    assert 0.065 < np.sqrt(np.mean(middle ** 2)) < 0.076  # the mean of (x, -x/2): amplitude 0.4 / 4, RMS 0.0707
    peak = np.argmax(np.abs(np.fft.rfft(middle))) * SR / middle.shape[0]
    assert abs(peak - 440) < 5
    if codec == "alac":  # lossless: the same samples as the WAV of the same signal
        sf.write(tmp_path / "same.wav", tone(1.0, 440, rate, 2), rate, subtype="PCM_16")
        np.testing.assert_allclose(y, audio.load(tmp_path / "same.wav"), atol=2e-4)


def test_both_decoders_give_the_same_samples_of_a_flac(tmp_path):
    sf.write(tmp_path / "x.flac", tone(1.5, 330, 44100, 2), 44100)
    a = audio.load(tmp_path / "x.flac", decoder="soundfile")
    b = audio.load(tmp_path / "x.flac", decoder="ffmpeg")
    np.testing.assert_array_equal(a, b)
    c = audio.load(tmp_path / "x.flac", decoder="ffmpeg", offset=0.5, duration=0.5)
    np.testing.assert_allclose(c, audio.load(tmp_path / "x.flac", offset=0.5, duration=0.5), atol=1e-6)
    with pytest.raises(ParameterError, match="decoder"):
        audio.load(tmp_path / "x.flac", decoder="gstreamer")


def test_without_pyav_an_m4a_is_an_error_that_names_the_extra(library, monkeypatch):
    m4a = os.path.join(library, "b", "05.m4a")
    monkeypatch.setitem(sys.modules, "av", None)  # as if `pip install 'sampleaudio[formats]'` had not been run
    assert not audio.have_ffmpeg()
    with pytest.raises(AudioDecodeError, match=r"sampleaudio\[formats\]"):
        audio.load(m4a)
    sources, notes = scan_inputs([library])
    assert m4a in sources  # listed, so that it fails loudly rather than vanishing
    assert any("1 file(s) need FFmpeg" in n and ".m4a x1" in n and "sampleaudio[formats]" in n for n in notes)


def test_garbage_is_one_error_from_both_decoders(tmp_path):
    bad = tmp_path / "bad.m4a"
    bad.write_bytes(b"\x00\x00\x00\x18ftypM4A junk" * 10)
    with pytest.raises(AudioDecodeError, match="unsupported or corrupt") as info:
        audio.load(bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    with pytest.raises(AudioDecodeError, match="libsndfile: .*FFmpeg: "):
        audio.load(text)


def test_a_folder_says_what_it_skipped_once(library, tmp_path):
    sources, notes = scan_inputs([library, os.path.join(library, "a", "01.wav")])
    assert [os.path.basename(s) for s in sources] == ["01.wav", "02.flac", "03.ogg", "04.mp3", "05.m4a",
                                                      "06.opus", "07.wav"]
    [skipped, twice] = notes
    assert "7 audio file(s) taken" in skipped and "3 not audio by their extension (.jpg x2, .txt x1)" in skipped
    assert "1 hidden" in skipped and "1 input(s) named a file already listed" in twice
    with pytest.warns(UserWarning, match="not audio by their extension"):  # the API warns where the CLI prints
        expand_inputs(library)


def test_the_iterators_yield_each_file_in_order_with_errors_in_place(run_dir, library, tmp_path):
    from sampleaudio.inference import iter_embed, iter_tag

    files = [os.path.join(library, "a", "01.wav"), str(tmp_path / "missing.wav"), os.path.join(library, "b", "05.m4a")]
    results = iter_tag(files, run_dir)
    assert not isinstance(results, list)  # a generator: nothing is kept
    got = list(results)
    assert [r.source for r in got] == files and got[1].error and "does not exist" in got[1].error
    assert got[0].scores.shape == (3,) and got[2].duration == pytest.approx(0.3, abs=0.03)
    embedded = list(iter_embed(files, run_dir))
    assert [r.error is None for r in embedded] == [True, False, True]


# ----------------------------------------------------------------------------------------------------- hop


def test_hop_cuts_overlapping_windows_and_is_recorded(run_dir, tmp_path):
    assert segment_starts_np(3000, 729, hop=300).tolist() == [0, 300, 600, 900, 1200, 1500, 1800, 2100]
    assert segment_starts_np(500, 729, hop=300).tolist() == [0]  # a short clip: one tiled window
    with pytest.raises(ParameterError, match="hop"):
        segment_starts_np(3000, 729, hop=0)
    x = tone(0.3, 500)
    plain = Tagger.from_path(run_dir).tag([x])[0]
    third = Tagger.from_path(run_dir, hop=243 / SR).tag([x])[0]
    assert plain.taggram.shape[0] == x.shape[0] // 729
    assert third.taggram.shape[0] == (x.shape[0] - 729) // 243 + 1
    np.testing.assert_allclose(np.diff(third.times), 243 / SR, atol=1e-9)
    np.testing.assert_allclose(third.taggram[::3], plain.taggram, atol=1e-5)  # every third window is the same
    assert Tagger.from_path(run_dir, hop=0.5).settings()["hop_seconds"] == 0.5
    with pytest.raises(ParameterError, match="hop"):
        Tagger.from_path(run_dir, hop=1e-9)


# ------------------------------------------------------------------------------------------- output formats


def test_tag_outputs_hold_labels_every_score_and_the_taggram(run_dir, library, tmp_path, capsys):
    expected = {r.source: r for r in Tagger.from_path(run_dir, hop=0.02).tag(scan_inputs(library)[0])}
    for ext in ("csv", "jsonl", "json", "npz"):
        out = tmp_path / f"tags.{ext}"
        rc = main(["tag", run_dir, library, "--out", str(out), "--hop", "0.02", "--quiet"])
        captured = capsys.readouterr()
        assert rc == 1  # 07.wav fails ...
        assert captured.err.count("07.wav\tERROR") == 1 and "6 done, 0 skipped (done before), 1 failed" in \
            captured.err and "note: folder" in captured.err
        assert len(captured.out.strip().splitlines()) == 6
        if ext == "csv":
            table = pd.read_csv(out)
            assert list(table.columns) == ["source", "row", "start", "end", *LABELS]
            clips = table[table.row == "clip"]
            assert len(clips) == 6 and not any("07.wav" in s for s in clips.source)  # ... and is no result
            for _, row in clips.iterrows():
                r = expected[row.source]
                np.testing.assert_allclose(row[LABELS].to_numpy(float), r.scores, atol=5e-5)
                segments = table[(table.source == row.source) & (table.row == "segment")]
                np.testing.assert_allclose(segments.start, np.round(r.times, 3))
                np.testing.assert_allclose(segments[LABELS].to_numpy(float), r.taggram, atol=5e-5)
                assert row.end == pytest.approx(r.duration, abs=1e-3)
            # four decimals, no float noise
            assert all(len(v.split(".")[-1]) <= 4 for v in out.read_text().splitlines()[1].split(",")[4:])
        elif ext in ("jsonl", "json"):
            if ext == "jsonl":
                lines = out.read_text().splitlines()
                header, records = json.loads(lines[0]), [json.loads(line) for line in lines[1:]]
            else:
                header = json.loads(out.read_text())
                records = header.pop("files")
            assert header["labels"] == LABELS and header["hop_seconds"] == 0.02 and header["decimals"] == 4
            assert header["segment_seconds"] == round(729 / SR, 6) and header["model"] == os.path.abspath(run_dir)
            assert len(records) == 6
            for rec in records:
                r = expected[rec["source"]]
                assert len(rec["scores"]) == 3 and np.shape(rec["taggram"]) == r.taggram.shape
                np.testing.assert_allclose(rec["scores"], r.scores, atol=5e-5)
                np.testing.assert_allclose(rec["times"], r.times, atol=5e-4)
                assert rec["scores"] == [round(v, 4) for v in rec["scores"]]
        else:
            with np.load(out) as z:
                assert list(z["labels"]) == LABELS and z["scores"].shape == (6, 3)
                for i, source in enumerate(z["sources"]):
                    np.testing.assert_allclose(z["scores"][i], expected[source].scores, atol=1e-6)
                    np.testing.assert_allclose(z[f"taggram_{i}"], expected[source].taggram, atol=1e-6)
                    np.testing.assert_allclose(z[f"times_{i}"], expected[source].times)
        manifest = [json.loads(line) for line in open(str(out) + ".manifest.jsonl")] if ext != "npz" else []
        if manifest:
            assert manifest[0]["params"]["hop_seconds"] == 0.02
            assert [e for e in manifest[1:] if "error" in e][0]["source"].endswith("07.wav")


def test_plots_and_the_python_writers(run_dir, library, tmp_path, capsys):
    plots = tmp_path / "plots"
    assert main(["tag", run_dir, os.path.join(library, "a"), "--plot", str(plots), "--quiet"]) == 0
    names = sorted(os.listdir(plots))
    assert names == sorted(output_name(s, ".png") for s in scan_inputs(os.path.join(library, "a"))[0])
    assert all((plots / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (plots / n).stat().st_size > 5000
               for n in names)
    from sampleaudio.inference import write_embeddings, write_tags

    results = Tagger.from_path(run_dir).tag([tone(0.2, 300), tone(0.1, 900)])
    write_tags(results, str(tmp_path / "api.jsonl"))
    lines = (tmp_path / "api.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[1])["source"] == "array0"
    assert not (tmp_path / "api.jsonl.manifest.jsonl").exists()
    written = write_embeddings(Tagger.from_path(run_dir).embed(os.path.join(library, "a")), str(tmp_path / "e"))
    assert len(written) == 3 and all(np.load(p)["embedding"].ndim == 1 for p in written)


# -------------------------------------------------------------------------- the output is checked up front


def test_the_output_is_checked_before_the_model_is_loaded(library, tmp_path, capsys, monkeypatch):
    def one_line(argv) -> str:
        assert main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        return err[0]

    # the model name does not exist: an error about the output proves it came first
    assert "does not exist" in one_line(["tag", "no-such-model", library, "--out", str(tmp_path / "x" / "t.csv")])
    assert "extension must be one of .csv, .jsonl, .json, .npz" in one_line(
        ["tag", "no-such-model", library, "--out", str(tmp_path / "tags.tsv")])
    (tmp_path / "done.csv").write_text("source\n")
    assert "pass --resume" in one_line(["tag", "no-such-model", library, "--out", str(tmp_path / "done.csv")])
    assert "cannot be resumed" in one_line(["tag", "no-such-model", library, "--out", str(tmp_path / "t.npz"),
                                            "--resume"])
    assert "--out FILE" in one_line(["tag", "no-such-model", library, "--resume"])
    assert "does not exist" in one_line(["embed", "no-such-model", library, "--out", str(tmp_path / "x" / "e")])
    assert "does not exist" in one_line(["index", "no-such-model", library, "--out", str(tmp_path / "x" / "i")])
    ro = tmp_path / "readonly"
    ro.mkdir()
    from sampleaudio import outputs

    monkeypatch.setattr(outputs.os, "access", lambda p, mode: os.path.abspath(p) != str(ro))  # root can write
    assert "not writable" in one_line(["tag", "no-such-model", library, "--out", str(ro / "t.csv")])
    # an unknown name lists the pretrained ones and what they need, on one line
    line = one_line(["tag", "no-such-model", library])
    assert "samplecnn-mtat-se-multi (--weights se-multi-auc_0.9111-tfrmodel.hdf5)" in line and "musicnn-mtt" in line


# ---------------------------------------------------------------------------------------- kill and resume


def _cli(args, env=None, **kwargs):
    return subprocess.run([sys.executable, "-m", "sampleaudio.cli", *args], env={**os.environ, **(env or {})},
                          capture_output=True, text=True, **kwargs)


@pytest.mark.parametrize("ext, stage", [("json", "result"), ("csv", "manifest")])
def test_a_killed_tag_run_resumes_to_the_same_bytes(run_dir, library, tmp_path, ext, stage):
    full, part = tmp_path / f"full.{ext}", tmp_path / f"part.{ext}"
    assert main(["tag", run_dir, library, "--out", str(full), "--quiet"]) == 1  # 07.wav fails
    killed = _cli(["tag", run_dir, library, "--out", str(part), "--quiet"], {"SAMPLEAUDIO_KILL_AT": f"{stage}:3"})
    assert killed.returncode == -signal.SIGKILL
    assert part.exists() and sha(part) != sha(full)
    assert main(["tag", run_dir, library, "--out", str(part), "--quiet", "--resume"]) == 1
    assert sha(part) == sha(full)
    # a second --resume has nothing left but the failed file, tried again; the bytes stay the same
    assert main(["tag", run_dir, library, "--out", str(part), "--resume"]) == 1
    assert sha(part) == sha(full)
    # resuming with other settings is refused
    with pytest.raises(ParameterError, match="other settings .*hop_seconds"):
        TagWriter(str(part), LABELS, {"hop_seconds": 0.5, "model": "x"}, resume=True)


def test_a_real_sigkill_after_the_first_line_resumes_to_the_same_bytes(run_dir, library, tmp_path):
    full, part = tmp_path / "full.jsonl", tmp_path / "part.jsonl"
    assert main(["tag", run_dir, library, "--out", str(full), "--quiet", "--batch-size", "1"]) == 1
    proc = subprocess.Popen([sys.executable, "-m", "sampleaudio.cli", "tag", run_dir, library, "--out", str(part),
                             "--quiet", "--batch-size", "1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    first = proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert first.startswith(library)
    assert main(["tag", run_dir, library, "--out", str(part), "--quiet", "--resume", "--batch-size", "1"]) == 1
    assert sha(part) == sha(full)


def test_a_changed_file_is_tagged_again_and_replaced(run_dir, tmp_path, capsys):
    songs = tmp_path / "songs"
    songs.mkdir()
    for k in range(3):
        sf.write(songs / f"{k}.wav", tone(0.2, 300 + 300 * k), SR)
    out = tmp_path / "t.json"
    assert main(["tag", run_dir, str(songs), "--out", str(out), "--quiet"]) == 0
    sf.write(songs / "0.wav", tone(0.3, 2500), SR)  # edited: another size
    assert main(["tag", run_dir, str(songs), "--out", str(out), "--resume"]) == 0
    assert "1 done, 2 skipped" in capsys.readouterr().err
    records = json.loads(out.read_text())["files"]
    assert [os.path.basename(r["source"]) for r in records] == ["1.wav", "2.wav", "0.wav"]
    assert len(records[2]["times"]) == int(0.3 * SR) // 729


def test_a_killed_embed_run_resumes_to_the_same_files(run_dir, library, tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    assert main(["embed", run_dir, library, "--out", str(full), "--quiet"]) == 1
    killed = _cli(["embed", run_dir, library, "--out", str(part), "--quiet"], {"SAMPLEAUDIO_KILL_AT": "result:2"})
    assert killed.returncode == -signal.SIGKILL
    assert main(["embed", run_dir, library, "--out", str(part), "--quiet"]) == 1  # refused: it exists
    assert main(["embed", run_dir, library, "--out", str(part), "--quiet", "--resume"]) == 1
    ours, theirs = folder_digest(part), folder_digest(full)
    assert {k: v for k, v in ours.items() if k != "manifest.jsonl"} == \
        {k: v for k, v in theirs.items() if k != "manifest.jsonl"}
    assert len([k for k in ours if k.endswith(".npz")]) == 6
    with np.load(part / output_name(os.path.join(library, "a", "01.wav"), ".npz")) as z:
        assert z["embedding"].ndim == 1 and z["segment_embeddings"].shape[0] == z["times"].shape[0]
    # plot-embeddings reads an embed folder as it reads an index
    assert main(["plot-embeddings", "--index", str(part), "--out", str(tmp_path / "map.png"), "--method", "pca"]) == 0


def test_a_killed_index_resumes_to_the_same_index_and_a_commit_is_atomic(run_dir, library, tmp_path, capsys):
    full, part = tmp_path / "full", tmp_path / "part"
    assert main(["index", run_dir, library, "--out", str(full), "--quiet", "--commit-every", "2"]) == 1
    assert sorted(os.listdir(full))[0] == "index.json" and len(os.listdir(full)) == 2  # journal removed
    # killed between the second commit's vectors and its index.json: the first commit's pair is what loads
    killed = _cli(["index", run_dir, library, "--out", str(part), "--quiet", "--commit-every", "2"],
                  {"SAMPLEAUDIO_KILL_AT": "commit:2"})
    assert killed.returncode == -signal.SIGKILL
    index = EmbeddingIndex.load(str(part))
    assert len(index) == 2 and index.paths == EmbeddingIndex.load(str(full)).paths[:2]
    assert len([n for n in os.listdir(part) if n.startswith("vectors-")]) == 2  # the new one is not yet named
    assert main(["index", run_dir, library, "--out", str(part), "--quiet"]) == 1  # exists: refused
    assert "pass --resume" in capsys.readouterr().err
    assert main(["index", run_dir, library, "--out", str(part), "--quiet", "--resume", "--commit-every", "2"]) == 1
    assert folder_digest(part) == folder_digest(full)
    assert len(EmbeddingIndex.load(str(part))) == 6
    # a later --resume with one more song extends the committed index
    extra = tmp_path / "extra.wav"
    sf.write(extra, tone(0.3, 800), SR)
    assert main(["index", run_dir, library, str(extra), "--out", str(part), "--resume"]) == 1
    assert "1 done, 6 skipped" in capsys.readouterr().err
    assert EmbeddingIndex.load(str(part)).paths[-1] == str(extra)
    # ... but not with other settings than it was built with
    assert main(["index", run_dir, str(extra), "--out", str(part), "--resume", "--hop", "0.01"]) == 1
    assert "hop_seconds: null then, 0.009977 now" in capsys.readouterr().err  # the hop in whole samples


# ------------------------------------------------------------------------------------ damaged index files


@pytest.mark.parametrize("damage, message", [
    ("json", "index file .*index.json. cannot be read as JSON"),
    ("nan", "index vectors .* hold NaN or Inf"),
    ("flat", "index vectors .* are 1-D"),
    ("rows", "have 2 rows but .* lists 3 paths"),
    ("garbage", "cannot be read as a NumPy array file"),
    ("missing", "vectors file .* is missing"),
])
def test_a_damaged_index_is_one_line_naming_the_file(tmp_path, capsys, damage, message):
    import re

    folder = tmp_path / "idx"
    EmbeddingIndex(np.eye(3, 4), ["a", "b", "c"], model="m").save(str(folder))
    meta = json.loads((folder / "index.json").read_text())
    vectors = folder / meta["vectors"]
    if damage == "json":
        (folder / "index.json").write_text('{"paths": [')
    elif damage == "nan":
        np.save(vectors, np.full((3, 4), np.nan, np.float32))
    elif damage == "flat":
        np.save(vectors, np.zeros(12, np.float32))
    elif damage == "rows":
        np.save(vectors, np.ones((2, 4), np.float32))
    elif damage == "garbage":
        vectors.write_bytes(b"not numpy")
    else:
        vectors.unlink()
    assert main(["similar", str(tmp_path / "q.wav"), "--index", str(folder)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(message, err[0]), err


def test_a_first_format_index_still_loads(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    np.save(folder / "vectors.npy", np.eye(2, 3, dtype=np.float32))
    (folder / "index.json").write_text(json.dumps({"format": 1, "model": "m", "layer": "penultimate",
                                                   "paths": ["a", "b"], "metadata": [{}, {}]}))
    assert EmbeddingIndex.load(str(folder)).paths == ["a", "b"]


# ------------------------------------------------------------------------------------ retrieval --format


def test_similar_prints_table_csv_or_json(run_dir, library, tmp_path, capsys):
    index = tmp_path / "idx"
    assert main(["index", run_dir, os.path.join(library, "a"), "--out", str(index), "--quiet"]) == 0
    query = os.path.join(library, "a", "01.wav")
    capsys.readouterr()
    assert main(["similar", query, "--index", str(index), "--top", "2", "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(table.columns[:4]) == ["query", "rank", "score", "path"] and len(table) == 2
    assert "folder" in table.columns and (table["query"] == query).all() and query not in set(table["path"])
    assert main(["similar", query, "--index", str(index), "--top", "2", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["rank"] for r in rows] == [1, 2] and rows[0]["score"] == round(rows[0]["score"], 4)
    assert main(["similar", query, "--index", str(index), "--top", "2"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"query: {query}"


# ------------------------------------------------------------------------------------------ flat memory


def test_streaming_memory_does_not_grow_with_the_number_of_files(run_dir, tmp_path):
    """numpy's allocations (tracemalloc sees them) at the peak of a streaming run: the same for 6 and 48 inputs,
    where a list of the results grows with them."""
    tagger = Tagger.from_path(run_dir, batch_size=8)
    rng = np.random.default_rng(0)
    clips = [(0.1 * rng.standard_normal(100 * 729)).astype(np.float32) for _ in range(48)]
    tagger.tag(clips[:2])  # trace and build outside the measurement

    def traced(n: int, keep: bool) -> tuple[int, int]:
        writer = TagWriter(str(tmp_path / f"m{n}{keep}.jsonl"), LABELS, {}, manifest=False)
        kept = []
        tracemalloc.start()
        for r in tagger.iter_tag(clips[:n]):
            writer.add(r)
            if keep:
                kept.append(r)
        now, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        writer.close()
        return now, peak

    (_, small), (after, large) = traced(6, False), traced(48, False)
    assert large < 1.25 * small + 100_000, (small, large)
    kept_after, _ = traced(48, True)
    assert kept_after - after > 48 * 100 * (3 * 4 + 8) * 0.8  # the control: a list of results does grow
