"""The opened store (sampleaudio.stores.Store): its facts, its format check, and one manifest read per run."""

import json
import os

import pytest

from sampleaudio.data_prep import get_info
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import Manifest, Store, open_store


def test_store_holds_the_manifests_facts(tone_store):
    store = Store.open(tone_store, verify=True, require=("train",))
    assert (store.dataset, store.labels, store.multi_label, store.sample_rate) == (
        "tones", ["low", "high"], False, 22050)
    assert store.counts() == {"train": 36, "valid": 12, "test": 12} and store.format_version == 3
    assert open_store(store) is store and os.fspath(store) == tone_store
    assert len(store.shard_paths("test")) == len(store.splits["test"]["shards"])
    assert store.num_samples("test").tolist() == [3000] * 12


def _copy_store(src, dst, **changes):
    import shutil

    shutil.copytree(src, dst)
    path = os.path.join(dst, "manifest.json")
    with open(path) as f:
        raw = json.load(f)
    raw.update(changes)
    with open(path, "w") as f:
        json.dump(raw, f)
    return path


def test_a_store_of_a_newer_format_gets_one_clear_line(tone_store, tmp_path, capsys):
    from sampleaudio.cli import main

    path = _copy_store(tone_store, tmp_path / "newer", format_version=99)
    with pytest.raises(DatasetLayoutError, match="format_version 99, newer than") as info:
        Store.open(tmp_path / "newer")
    assert path in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(DatasetLayoutError, match="format_version 99"):
        from sampleaudio.pipeline import eval_dataset

        eval_dataset(str(tmp_path / "newer"), "test", segment=100, batch_size=4)
    assert main(["inspect", str(tmp_path / "newer")]) == 1  # the CLI: one line naming the file, no traceback
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and path in err and "format_version 99" in err
    _copy_store(tone_store, tmp_path / "bad", format_version="two")
    with pytest.raises(DatasetLayoutError, match="format_version 'two'"):
        Store.open(tmp_path / "bad")


def test_the_sample_rate_is_the_stores(tone_store, tmp_path):
    _copy_store(tone_store, tmp_path / "s16", sample_rate=16000)
    assert Store.open(tmp_path / "s16").sample_rate == 16000
    _copy_store(tone_store, tmp_path / "s0", sample_rate=0)
    with pytest.raises(DatasetLayoutError, match="sample_rate 0"):
        Store.open(tmp_path / "s0")


def test_one_training_run_reads_its_stores_manifest_once(tone_store, tmp_path, monkeypatch):
    from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, TrainConfig, model_params
    from sampleaudio.evaluate import evaluate_run
    from sampleaudio.train import train

    reads = []
    original = Manifest.from_dict.__func__
    monkeypatch.setattr(Manifest, "from_dict", classmethod(lambda cls, d: reads.append(1) or original(cls, d)))
    config = ExperimentConfig(name="once", data=DataConfig(data_dir=tone_store, segment=729, batch_size=8),
                              model=model_params(block="basic", num_blocks=3, init_features=4),
                              train=TrainConfig(num_stages=1, max_epochs_per_stage=1, steps_per_epoch=2),
                              eval=EvalConfig())
    metrics = train(config, str(tmp_path / "run"), verbose=0)
    assert "accuracy" in metrics and len(reads) == 1  # check, steps, pipelines, validation, card, test: one read
    reads.clear()
    evaluate_run(str(tmp_path / "run"), "test")
    assert len(reads) == 1


def test_a_store_converted_at_16_khz_says_so_everywhere(tmp_path):
    """The rate is a fact of the store (written into every example and the manifest) and of the pipelines built on
    it, not a constant."""
    import numpy as np

    from sampleaudio.pipeline import count_eval_segments, read_clips
    from sampleaudio.stores import Clip, write_dataset

    def loader(clip):
        return np.full(int(clip.source), 0.1, np.float32)

    clips = [Clip(f"c{k}", ("train", "valid", "test")[k % 3], (k % 2,), str(16000 + 100 * k)) for k in range(6)]
    manifest = write_dataset(clips, tmp_path / "s16", info=get_info("speech-commands"), labels=["a", "b"],
                             converter="test", converter_version="0", loader=loader,
                             progress=False, sample_rate=16000)
    store = Store.open(tmp_path / "s16")
    assert manifest.sample_rate == store.sample_rate == 16000
    assert store.seconds("train") == pytest.approx((16000 + 16300) / 16000, abs=1e-3)
    assert {int(ex["num_samples"]) for ex in read_clips(store, "test").as_numpy_iterator()} == {16200, 16500}
    assert count_eval_segments(store, "test", 8000) == 4
    with pytest.raises(Exception, match="sample_rate must be a positive integer"):
        write_dataset(clips, tmp_path / "bad", info=get_info("speech-commands"), labels=["a", "b"], converter="t",
                      converter_version="0", loader=loader, progress=False, sample_rate=0)
