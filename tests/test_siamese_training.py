"""The Siamese objective in the trainer (Park 2018): staged, resumable run folder; encoder saved; metrics."""

import json
import os

import numpy as np
import pytest

from sampleaudio.config import DataConfig, ExperimentConfig, TrainConfig, model_params, objective_params
from sampleaudio.families.artist_cnn.model import crop_samples


class ArtistTones:
    """Artist a: a harmonic tone at 200 * 1.5 ** a Hz with noise; source = 'artist:seed'."""

    def __call__(self, clip):
        a, seed = map(int, clip.source.split(":"))
        rng = np.random.default_rng(seed)
        t = np.arange(70000) / 22050
        f = 200 * 1.5 ** a
        x = sum(np.sin(2 * np.pi * f * h * t + rng.uniform(0, 6)) / h for h in (1, 2, 3))
        return (0.3 * x + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def artist_store(tmp_path_factory):
    from sampleaudio.data_prep import get_info
    from sampleaudio.stores import Clip, write_dataset

    out = tmp_path_factory.mktemp("artists")
    clips = []
    for a in range(3):
        for s in range(6):
            split = "train" if s < 3 else ("valid" if s < 5 else "test")
            clips.append(Clip(f"a{a}s{s}", split, (a,), f"{a}:{10 * a + s}", artist_id=f"artist{a}",
                              track_id=f"a{a}s{s}"))
    write_dataset(clips, out, info=get_info("mini-artists"), labels=[f"artist{a}" for a in range(3)],
                  converter="test", converter_version="0", loader=ArtistTones(), clips_per_shard=8, progress=False)
    return str(out)


def _count_manifest_reads(monkeypatch) -> list:
    from sampleaudio.stores import Manifest

    reads, original = [], Manifest.from_dict.__func__
    monkeypatch.setattr(Manifest, "from_dict", classmethod(lambda cls, d: reads.append(1) or original(cls, d)))
    return reads


def test_the_siamese_objective_reads_through_the_trainers_opened_store(artist_store, monkeypatch):
    """Read a store once: given the Store the trainer opened, the objective loads its songs, statistics and
    evaluation clips without reading the manifest again."""
    import keras

    from sampleaudio.families.artist_cnn.siamese import SiameseObjective
    from sampleaudio.stores import Store

    seg = crop_samples(128)
    config = ExperimentConfig(data=DataConfig(data_dir=artist_store, segment=seg, batch_size=3),
                              model=model_params("artist_cnn"),
                              objective=objective_params("siamese", num_negatives=2))
    store = Store.open(artist_store)
    reads = _count_manifest_reads(monkeypatch)
    objective = SiameseObjective(config, store, segment=seg, mean=store.mean, std=store.std)
    inp = keras.Input((seg, 1))
    encoder = keras.Model(inp, keras.layers.GlobalAveragePooling1D()(inp))
    emb, artists = objective.song_embeddings(encoder, "test", max_segments=1)
    assert emb.shape == (3, 1) and sorted(artists) == ["artist0", "artist1", "artist2"]
    assert objective.store is store and (objective.mean, objective.std) == (store.mean, store.std)
    assert reads == []


def test_one_siamese_run_reads_its_stores_manifest_once(artist_store, tmp_path, monkeypatch):
    """As tests/test_store.py's classification run: the trainer, the objective's songs, validation triplets and
    retrieval evaluation, and the card share one opened store (eight reads before; ~8 s)."""
    from sampleaudio.train import train

    seg = crop_samples(128)
    config = ExperimentConfig(
        name="siamese-once", data=DataConfig(data_dir=artist_store, segment=seg, batch_size=3, max_eval_segments=1),
        model=model_params("artist_cnn"),
        objective=objective_params("siamese", num_negatives=2),
        train=TrainConfig(num_stages=1, max_epochs_per_stage=1,
                          steps_per_epoch=1, seed=3, mixed_precision="off"))
    reads = _count_manifest_reads(monkeypatch)
    assert "artist_map" in train(config, str(tmp_path / "run"), verbose=0)
    assert len(reads) == 1


@pytest.mark.slow  # ~16 s of CPU (six-branch model traced for fit, validation and evaluation)
def test_siamese_objective_trains_resumes_and_saves_the_encoder(artist_store, tmp_path):
    from sampleaudio.inference import Tagger
    from sampleaudio.train import train

    seg = crop_samples(128)
    config = ExperimentConfig(
        name="siamese", data=DataConfig(data_dir=artist_store, segment=seg, batch_size=3, standardize="paper",
                                        max_eval_segments=1),
        model=model_params("artist_cnn"),
        objective=objective_params("siamese", num_negatives=2),
        train=TrainConfig(lr=0.01, num_stages=1, max_epochs_per_stage=1,
                          steps_per_epoch=2, seed=3))
    run = str(tmp_path / "run")
    result = train(config, run, verbose=0)
    assert set(result) >= {"artist_map", "artist_knn9_accuracy", "songs", "epochs"}
    assert result["songs"] == 3 and 0 < result["artist_map"] <= 1 and result["epochs"] == 1
    card = json.load(open(os.path.join(run, "model_card.json")))
    assert card["objective"] == "siamese" and card["embedding_layer"] == "global_average_pooling1d_1"
    history = open(os.path.join(run, "history.csv")).read().splitlines()
    assert len(history) == 2 and np.isfinite(float(history[1].split(",")[5]))  # val_loss
    # the saved encoder embeds audio like any run
    tagger = Tagger.from_path(run)
    emb = tagger.embed([np.random.default_rng(0).standard_normal(seg * 2).astype(np.float32)])[0]
    assert emb.embedding.shape == (256,) and emb.segment_embeddings.shape == (2, 256)
    # a finished run is not retrained
    assert train(config, run, verbose=0) == result


@pytest.mark.slow  # ~20 s of CPU: the six-branch model traced under a strategy and a mixed policy
@pytest.mark.parametrize("policy, strategy", [("bfloat16", "none"), ("off", "mirrored")])
def test_siamese_objective_under_mixed_precision_and_a_strategy(artist_store, tmp_path, policy, strategy):
    from sampleaudio.train import train

    config = ExperimentConfig(
        name="siamese", data=DataConfig(data_dir=artist_store, segment=crop_samples(128), batch_size=3,
                                        standardize="paper", max_eval_segments=1),
        model=model_params("artist_cnn"),
        objective=objective_params("siamese", num_negatives=2),
        train=TrainConfig(lr=0.01, num_stages=1, max_epochs_per_stage=1,
                          steps_per_epoch=2, seed=3, mixed_precision=policy, distribute=strategy))
    result = train(config, str(tmp_path / "run"), verbose=0)
    assert 0 < result["artist_map"] <= 1 and result["epochs"] == 1
    history = open(tmp_path / "run" / "history.csv").read().splitlines()
    assert np.isfinite(float(history[1].split(",")[5]))  # the validation loss under that policy / strategy


@pytest.mark.slow  # two worker processes, each tracing the six-branch model: about a minute per job on 2 cores
def test_siamese_objective_on_two_workers_commits_and_resumes(artist_store, tmp_path):
    """--distribute multiworker with the Siamese objective: the workers' summed max-margin loss is all-reduced,
    each commits every epoch, and a job restarted after a worker lost its last commit resumes from the epoch
    both committed (the classification loop's protocol, :mod:`sampleaudio.distributed`)."""
    import subprocess
    import sys

    import pandas as pd
    from test_train import ROOT, _free_ports

    run = tmp_path / "mw"
    args = ["train", "--data", artist_store, "--run-dir", str(run), "--architecture", "artist_cnn", "--segment",
            str(crop_samples(128)), "--batch-size", "4", "--standardize", "paper", "--max-eval-segments", "1",
            "--objective", "siamese", "--num-negatives", "2", "--lr", "0.01", "--num-stages", "1",
            "--max-epochs-per-stage", "2", "--patience", "9", "--steps-per-epoch", "2", "--seed", "3",
            "--distribute", "multiworker", "--quiet"]
    cmd = [sys.executable, "-c", "import sys; from sampleaudio.cli import main; sys.exit(main(sys.argv[1:]))", *args]

    def job():
        cluster = {"worker": [f"localhost:{p}" for p in _free_ports(2)]}
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(
            os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES="",
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}))) for i in range(2)]
        outs = [p.communicate(timeout=500) for p in procs]
        for p, (_, err) in zip(procs, outs):
            assert p.returncode == 0, err[-3000:]
        assert outs[1][0].strip() == "{}"  # only the chief evaluates
        return json.loads(outs[0][0][outs[0][0].index("{"):])

    result = job()
    assert result["songs"] == 3 and 0 < result["artist_map"] <= 1 and result["epochs"] == 2
    assert json.loads((run / "model_card.json").read_text())["objective"] == "siamese"
    chief, other = pd.read_csv(run / "history.csv"), pd.read_csv(run / "worker-1" / "history.csv")
    assert list(chief.global_epoch) == [0, 1] and np.isfinite(chief.val_loss).all()
    # all-reduced steps keep the workers' weights identical, so they see the same losses
    np.testing.assert_allclose(chief.loss, other.loss, rtol=1e-5)
    np.testing.assert_allclose(chief.val_loss, other.val_loss, rtol=1e-5)
    # worker 1 as if it died before committing epoch 1: restarted, both redo epoch 1 from epoch 0's commit
    state1 = run / "worker-1" / "state.json"
    state = json.loads(state1.read_text())
    assert state["previous"]["global_epoch"] == 1
    state1.write_text(json.dumps(state["previous"]))
    (run / "final_metrics.json").unlink()
    written = os.path.getmtime(run / "history.csv")
    resumed = job()
    assert os.path.getmtime(run / "history.csv") > written  # the chief stepped back and trained epoch 1 again
    again = pd.read_csv(run / "history.csv")
    assert list(again.global_epoch) == [0, 1] and resumed["epochs"] == 2  # redone once, not appended
    np.testing.assert_allclose(again.loss.iloc[0], chief.loss.iloc[0])  # epoch 0's row is the committed one
    # the same weights and the same seeded batches: epoch 1 redone gives what it gave the first time
    np.testing.assert_allclose(again.loss.iloc[1], chief.loss.iloc[1], rtol=1e-4)
    assert resumed["artist_map"] == pytest.approx(result["artist_map"], abs=1e-6)


@pytest.mark.parametrize("summed", [True, False])
def test_the_multiworker_loop_reduces_a_loss_as_fit_does(summed):
    """CustomLoop with a ``sum``-reduced loss (Park 2018's max-margin) or a loss name (averaged) takes the steps
    ``Model.fit`` takes and reports the validation loss ``Model.evaluate`` reports (under a one-device strategy)."""
    import keras
    import tensorflow as tf

    from sampleaudio.distributed import CustomLoop
    from sampleaudio.losses import SiameseLoss

    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 5)).astype(np.float32)
    y = np.zeros((12, 3), np.float32) if summed else np.eye(3, dtype=np.float32)[rng.integers(0, 3, 12)]

    def model():
        keras.utils.set_random_seed(1)
        m = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="tanh" if summed else "softmax",
                                                                    kernel_regularizer=keras.regularizers.L2(0.01))])
        m.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=SiameseLoss("max_margin", 0.4, reduction="sum") if summed else "categorical_crossentropy")
        return m

    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    fitted = model()
    fitted.fit(data, epochs=1, steps_per_epoch=3, shuffle=False, verbose=0)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        looped = model()
    loop = CustomLoop(strategy, looped.loss if summed else "categorical_crossentropy", global_batch_size=4)
    loss, val_loss = loop.epoch(looped, data, 3, tf.data.Dataset.from_tensor_slices((x, y)).batch(5), 3)
    for a, b in zip(fitted.get_weights(), looped.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    evaluated = fitted.evaluate(tf.data.Dataset.from_tensor_slices((x, y)).batch(5), verbose=0)
    assert val_loss == pytest.approx(evaluated, rel=1e-5)  # batches of 5, 5 and 2, weighted by their size
    assert loss > 0
    with pytest.raises(ValueError, match="reduction"):
        CustomLoop(strategy, SiameseLoss(reduction=None), 4)
