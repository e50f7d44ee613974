import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

import sampleaudio
from sampleaudio.cli import main as cli_main
from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, TrainConfig, model_params
from sampleaudio.export import export_run
from sampleaudio.inference import Tagger, write_tags
from sampleaudio.train import train

BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="module")
def run(tone_store, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    config = ExperimentConfig(name="tiny", data=DataConfig(data_dir=tone_store, segment=729, batch_size=8),
                              model=model_params(block="se", multi=True, num_blocks=3, init_features=4),
                              train=TrainConfig(lr=0.05, num_stages=1, max_epochs_per_stage=2, steps_per_epoch=6),
                              eval=EvalConfig())
    train(config, str(run_dir), verbose=0)
    return str(run_dir)


@pytest.fixture(scope="module")
def exported(run, tmp_path_factory):
    return export_run(run, str(tmp_path_factory.mktemp("serving") / "tagger" / "1"))


@pytest.fixture(scope="module")
def clips():
    rng = np.random.default_rng(0)
    t = np.arange(5000) / 22050
    return [(0.5 * np.sin(2 * np.pi * 300 * t[:n]) + 0.05 * rng.standard_normal(n)).astype(np.float32)
            for n in (5000, 2500, 4100)]


def _batch(clips):
    width = max(len(c) for c in clips)
    wave = np.zeros((len(clips), width), np.float32)
    for i, c in enumerate(clips):
        wave[i, :len(c)] = c
    return wave, np.array([len(c) for c in clips], np.int64)


def test_saved_model_cli_show_and_run(exported, tmp_path):
    show = subprocess.run([os.path.join(BIN, "saved_model_cli"), "show", "--dir", exported, "--all"],
                          capture_output=True, text=True, check=True).stdout
    for text in ("signature_def['serving_default']", "signature_def['embed']", "waveform", "length",
                 "probabilities", "labels", "num_segments", "embedding"):
        assert text in show
    np.save(tmp_path / "w.npy", np.ones((2, 3000), np.float32) * 0.1)
    np.save(tmp_path / "n.npy", np.array([3000, 2500], np.int64))
    out = subprocess.run([os.path.join(BIN, "saved_model_cli"), "run", "--dir", exported, "--tag_set", "serve",
                          "--signature_def", "serving_default", "--inputs",
                          f"waveform={tmp_path / 'w.npy'};length={tmp_path / 'n.npy'}"],
                         capture_output=True, text=True, check=True).stdout
    assert "probabilities" in out and "low" in out and "high" in out
    assert os.path.exists(os.path.join(exported, "assets", "labels.txt"))


def test_fresh_process_load_matches_the_keras_model(run, exported, clips, tmp_path):
    wave, length = _batch(clips)
    np.save(tmp_path / "wave.npy", wave)
    np.save(tmp_path / "length.npy", length)
    code = (
        "import sys, numpy as np, tensorflow as tf\n"
        "m = tf.saved_model.load(sys.argv[1])\n"
        "out = m.signatures['serving_default'](waveform=tf.constant(np.load(sys.argv[2])),"
        " length=tf.constant(np.load(sys.argv[3])))\n"
        "emb = m.signatures['embed'](waveform=tf.constant(np.load(sys.argv[2])), length=tf.constant(np.load(sys.argv[3])))\n"
        "np.savez(sys.argv[4], p=out['probabilities'].numpy(), n=out['num_segments'].numpy(),"
        " labels=out['labels'].numpy().astype(str), e=emb['embedding'].numpy())\n")
    subprocess.run([sys.executable, "-c", code, exported, str(tmp_path / "wave.npy"), str(tmp_path / "length.npy"),
                    str(tmp_path / "out.npz")], check=True, capture_output=True)
    served = np.load(tmp_path / "out.npz")
    tagger = Tagger.from_path(run)
    expected = tagger.tag(list(clips))
    np.testing.assert_allclose(served["p"], np.stack([r.scores for r in expected]), rtol=1e-4, atol=1e-5)
    assert list(served["n"]) == [r.taggram.shape[0] for r in expected] == [6, 3, 5]
    assert list(served["labels"]) == ["low", "high"]
    emb = tagger.embed(list(clips))
    np.testing.assert_allclose(served["e"], np.stack([r.embedding for r in emb]), rtol=1e-4, atol=1e-5)


def test_bad_serving_input_gets_a_clear_error(exported, clips):
    import tensorflow as tf

    serve = tf.saved_model.load(exported).signatures["serving_default"]
    wave, length = _batch(clips)
    cases = [
        (wave, np.array([5000, 0, 4100], np.int64), "at least"),  # empty clip
        (wave, np.array([5000, 100, 4100], np.int64), "at least"),  # too short
        (np.where(np.arange(wave.shape[1]) == 7, np.nan, wave).astype(np.float32), length, "NaN"),
        (wave, np.array([5000, 2500, 9999], np.int64), "exceeds"),
    ]
    for w, n, message in cases:
        with pytest.raises(Exception, match=message):
            serve(waveform=tf.constant(w), length=tf.constant(n))
    errors = (TypeError, ValueError, tf.errors.InvalidArgumentError)
    with pytest.raises(errors, match="float"):
        serve(waveform=tf.constant(wave.astype(np.int32)), length=tf.constant(length))  # wrong dtype
    with pytest.raises(errors):
        serve(waveform=tf.constant(wave[0]), length=tf.constant(length))  # wrong rank


def test_tag_api_over_files_folders_globs_and_arrays(run, clips, tmp_path):
    folder = tmp_path / "audio"
    (folder / "sub").mkdir(parents=True)
    for i, c in enumerate(clips):
        sf.write(folder / ("sub" if i else "") / f"clip{i}.wav", c, 22050)
    (folder / "broken.wav").write_bytes(b"RIFF0000WAVEjunk")
    results = sampleaudio.tag([str(folder), str(folder / "sub" / "*.wav"), clips[0]], run, top_k=1)
    assert len(results) == 4 + 2 + 1
    broken = [r for r in results if r.error]
    assert len(broken) == 1 and "broken.wav" in broken[0].error
    ok = [r for r in results if not r.error]
    assert all(r.scores.shape == (2,) and len(r.top()) == 1 for r in ok)
    # a file and the same samples as an array give the same tags
    by_name = {r.source: r for r in ok}
    np.testing.assert_allclose(by_name[str(folder / "clip0.wav")].scores, by_name["array6"].scores, atol=1e-4)
    for ext in ("csv", "json", "npz"):
        write_tags(results, str(tmp_path / f"tags.{ext}"), top_k=2)
    import pandas as pd

    table = pd.read_csv(tmp_path / "tags.csv")
    assert list(table.columns) == ["source", "row", "start", "end", "low", "high"]
    assert (table.row == "clip").sum() == 6  # the broken file is no result
    entries = {e["source"]: e for e in json.loads((tmp_path / "tags.json").read_text())["files"]}
    assert len(entries[str(folder / "clip0.wav")]["taggram"]) == 6 and str(folder / "broken.wav") not in entries
    assert np.load(tmp_path / "tags.npz")["scores"].shape == (6, 2)


def test_tagger_float32_by_default_bfloat16_on_request(run, clips):
    from sampleaudio.errors import ParameterError

    exact = Tagger.from_path(run)  # whatever precision the run trained in, tags are computed in float32
    fast = Tagger.from_path(run, precision="bfloat16")
    assert {layer.compute_dtype for layer in exact.model.layers} == {"float32"}
    assert fast.model.get_layer("block0_conv").compute_dtype == "bfloat16"
    assert fast.model.get_layer("pred").compute_dtype == "float32"
    for a, b in zip(exact.tag(clips), fast.tag(clips)):
        assert a.error is None and b.error is None and b.scores.dtype == a.scores.dtype
        np.testing.assert_allclose(a.scores, b.scores, atol=0.05)
    with pytest.raises(ParameterError, match="precision"):
        Tagger.from_path(run, precision="float16")


def test_embed_layers(run, clips):
    pen = sampleaudio.embed(clips, run)
    multi = sampleaudio.embed(clips, run, layer="multi")
    assert pen[0].embedding.shape == multi[0].embedding.shape == (pen[0].segment_embeddings.shape[1],)
    assert pen[0].segment_embeddings.shape[0] == 6
    with pytest.raises(sampleaudio.ParameterError, match="not in the model"):
        sampleaudio.embed(clips, run, layer="nope")


def test_cli_tag_embed_export(run, clips, tmp_path, capsys):
    paths = []
    for i, c in enumerate(clips):
        paths.append(str(tmp_path / f"c{i}.wav"))
        sf.write(paths[-1], c, 22050)
    assert cli_main(["tag", run, *paths, "--top-k", "2", "--out", str(tmp_path / "t.csv"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert all(p in out for p in paths) and (tmp_path / "t.csv").exists()
    assert cli_main(["embed", run, str(tmp_path), "--out", str(tmp_path / "emb"), "--quiet"]) == 0
    npz = sorted((tmp_path / "emb").glob("*.npz"))
    assert len(npz) == 3 and (tmp_path / "emb" / "manifest.jsonl").exists()
    assert np.load(npz[0])["embedding"].ndim == 1
    assert cli_main(["export", run, "--out", str(tmp_path / "m" / "1")]) == 0
    assert cli_main(["export", run, "--out", str(tmp_path / "m" / "1")]) == 1  # refuses to overwrite
    assert cli_main(["tag", str(tmp_path), str(tmp_path / "c0.wav")]) == 1  # not a run folder
