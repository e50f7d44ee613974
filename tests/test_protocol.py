"""The authors' training protocol: fixed segments once per epoch, steps = segments / batch, the
clipped cross-entropy of TF 1.10 Keras, and the SMC 2017 / ICASSP 2018 setups."""

import dataclasses
import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from sampleaudio import pipeline
from sampleaudio.clipped_losses import clipped_binary_crossentropy, clipped_categorical_crossentropy
from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, TrainConfig, model_params
from sampleaudio.data_prep import task_for
from sampleaudio.stores import Clip, DatasetInfo, Task, write_dataset

TOY = DatasetInfo("toy", Task("toy", 3, False, 0.5, "accuracy", 1.0))


class RampLoader:
    def __call__(self, clip):
        k, n = map(int, clip.source.split(":"))
        return (k * 0.06 + np.arange(n) * 5e-5).astype(np.float32)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """12 training clips of 300-850 samples: 3-8 segments of 100 each, plus a remainder never on the grid."""
    out = tmp_path_factory.mktemp("ramps")
    clips = [Clip(f"c{k:02d}", "train" if k < 12 else "test", (k % 3,), f"{k}:{330 + 50 * k}") for k in range(14)]
    write_dataset(clips, out, info=TOY, labels=["a", "b", "c"], converter="test", converter_version="0",
                  loader=RampLoader(), clips_per_shard=4, progress=False)
    return str(out)


def _grid(store, segment, cap=None):
    """(clip position, segment index) of every fixed segment, keyed by its bytes, from the stored audio."""
    grid = {}
    for c, ex in enumerate(pipeline.read_clips(store, "train")):
        audio = ex["audio"].numpy()
        for k in range(len(audio) // segment if cap is None else min(cap, len(audio) // segment)):
            grid[audio[k * segment:(k + 1) * segment].tobytes()] = (c, k)
    return grid


def _one_epoch(store, **kw):
    ds = pipeline.train_dataset(store, segment=100, batch_size=7, seed=3, mean=0.0, std=1.0, repeat=False,
                                shuffle_buffer=1000, **kw)
    return [x.numpy()[..., 0] for x, _ in ds]


def test_fixed_segments_lie_on_the_grid_and_each_is_seen_once_per_epoch(store):
    grid = _grid(store, 100)
    batches = _one_epoch(store)
    rows = np.concatenate(batches)
    seen = [grid[r.tobytes()] for r in rows]  # KeyError: a row off the original's segment grid
    assert sorted(seen) == sorted(grid.values())  # every segment, each exactly once
    assert len(rows) == pipeline.count_train_segments(store, 100) and len(batches) == math.ceil(len(rows) / 7)
    assert seen != sorted(seen) and len({c for c, _ in seen[:7]}) > 2  # shuffled at segment level
    # capped: only the first `max_segments` of each clip (MTAT: the first 10), the tail is never used
    capped = [_grid(store, 100)[r.tobytes()] for r in np.concatenate(_one_epoch(store, max_segments=2))]
    assert sorted(capped) == sorted(_grid(store, 100, cap=2).values())
    assert pipeline.count_train_segments(store, 100, 2) == 24


def test_random_crops_are_an_option_and_leave_the_grid(store):
    grid = _grid(store, 100)
    rows = np.concatenate(_one_epoch(store, train_examples="random_crop"))
    assert len(rows) == 12  # one crop per clip and pass
    assert sum(r.tobytes() not in grid for r in rows) >= 6
    with pytest.raises(Exception, match="train_examples"):
        pipeline.train_dataset(store, segment=100, batch_size=7, train_examples="random")


def test_steps_per_epoch_are_segments_over_batch(store):
    from sampleaudio.families.samplecnn.params import KIM2019_SIZES
    from sampleaudio.objectives.classification import Classification, train_segments_per_clip
    from sampleaudio.stores import Store

    # the original's lib/data/config.py: len_audio * sr // num_samples segments per clip
    assert [train_segments_per_clip(task_for(t).clip_seconds, KIM2019_SIZES[t][1], 22050) for t in
            ("mtat", "dcase2017", "speech-commands")] == [10, 10, 1]
    assert math.ceil(15250 * 10 / 23) == 6631  # the MTAT epoch the issue names
    cfg = ExperimentConfig(data=DataConfig(data_dir=store, segment=100, batch_size=7))
    objective = Classification(cfg, Store.open(store), segment=100, mean=0.0, std=1.0)
    assert objective.steps_per_epoch() == math.ceil(pipeline.count_train_segments(store, 100) / 7)
    objective.per_clip = train_segments_per_clip(100 / 22050, 100, 22050)  # a 1-segment clip, as SCD's
    assert objective.per_clip == 1 and objective.steps_per_epoch() == math.ceil(12 / 7)


def test_clipped_losses_equal_a_hand_computation():
    y = np.array([[1, 0, 1, 0], [0, 1, 0, 0]], np.float32)
    p = np.array([[0.0, 1.0, 0.7, 0.2], [1e-9, 0.5, 0.999, 0.3]], np.float32)
    lo, hi = np.float32(1e-7), np.float32(1) - np.float32(1e-7)  # float32, as TF computes the bounds
    q = np.clip(p, lo, hi).astype(np.float64)
    hand = -(y * np.log(q) + (1 - y) * np.log(1 - q)).mean(axis=1)
    got = clipped_binary_crossentropy(tf.constant(y), tf.constant(p)).numpy()
    np.testing.assert_allclose(got, hand, rtol=1e-4)
    # p = 0 with y = 1 costs -log(1e-7); p = 1 with y = 0 costs -log(2^-23), 1 - 1e-7 rounded to float32
    assert got[0] == pytest.approx((-np.log(1e-7) - np.log(2.0 ** -23) + -np.log(0.7) - np.log(0.8)) / 4,
                                   rel=1e-4)
    # categorical: normalise, clip, -sum(y log p)
    y2 = np.array([[1, 0, 0], [0, 0, 1]], np.float32)
    p2 = np.array([[0.0, 0.5, 0.5], [1.0, 1.0, 2.0]], np.float32)
    np.testing.assert_allclose(clipped_categorical_crossentropy(tf.constant(y2), tf.constant(p2)).numpy(),
                               [-np.log(1e-7), -np.log(0.5)], rtol=1e-5)
    # Keras 3 takes the logits behind a sigmoid output and does not clip: the difference the option removes
    logits = tf.constant([[-40.0]])
    prob = keras.layers.Activation("sigmoid")(logits)
    keras_loss = float(keras.losses.BinaryCrossentropy()(tf.constant([[1.0]]), prob))
    ours = float(tf.reduce_mean(clipped_binary_crossentropy(tf.constant([[1.0]]), prob)))
    assert ours == pytest.approx(-np.log(1e-7), rel=1e-4) and keras_loss > 30


def test_lee2017_is_smc2017_he_uniform_everywhere_and_raw_input():
    from sampleaudio.experiments import experiment
    from sampleaudio.models import from_preset
    from sampleaudio.train import build_model

    for model in (build_model(model_params("lee2017", num_blocks=3, init_features=4), task_for("mtat")),
                  from_preset("lee2017", num_blocks=3, init_features=4)):
        convs = [la for la in model.layers if isinstance(la, keras.layers.Conv1D)]
        assert len(convs) == 5  # conv0, 3 blocks, the 1x1 conv of the head
        assert all(isinstance(c.kernel_initializer, keras.initializers.HeUniform) for c in convs)
    cfg = experiment("mtat", "paper", "/nonexistent", protocol="smc2017")
    assert cfg.model.architecture == "lee2017" and cfg.data.standardize == "none"
    assert cfg.train.patience == 4  # Keras 1 EarlyStopping(patience=3) stops after 4 epochs without improvement
    assert cfg.train.max_epochs_per_stage == 1000 and cfg.train.lr == 0.01 and cfg.train.num_stages == 5
    icassp = experiment("mtat", "paper", "/nonexistent", protocol="icassp2018", block="se")
    assert icassp.model.amplifying_ratio == 16 and icassp.model.initializer == "he_uniform"
    assert icassp.train.patience == 3 and icassp.name == "mtat-se-icassp2018-paper"
    jstsp = experiment("mtat", "paper", "/nonexistent", block="se")
    assert (jstsp.data.train_examples, jstsp.train.loss, jstsp.data.shuffle_buffer) == ("fixed", "clipped", 10000)
    assert jstsp.train.patience == 2 and jstsp.train.steps_per_epoch is None
    model = build_model(icassp.model.__class__(**{**icassp.model.__dict__, "num_blocks": 3, "init_features": 4}),
                        task_for("mtat"))
    assert model.get_layer("block0_ex0").units == 64  # 16 x 4 channels
    assert isinstance(model.get_layer("conv0").kernel_initializer, keras.initializers.HeUniform)


def test_icassp2018_feeds_the_raw_waveform(tone_store):
    """``tae-jun/resemul``: madmom decodes float32 in [-1, 1] (``audio_processing.py``), the TFRecords hold it
    unchanged and ``model.py`` reshapes it straight into the first conv: no mean or std anywhere; its shuffle queue
    keeps 1,000 examples per shard x 16 = 16,000 segments."""
    from sampleaudio.experiments import experiment, protocol_description

    for profile in ("paper", "demo"):
        cfg = experiment("mtat", profile, tone_store, protocol="icassp2018", block="se")
        assert cfg.data.standardize == "none", profile  # the trainer's (mean, std) is then (0, 1)
    assert experiment("mtat", "paper", tone_store, protocol="icassp2018").data.shuffle_buffer == 16000
    assert "input standardisation none (raw waveform)" in protocol_description(cfg)
    jstsp = experiment("mtat", "paper", tone_store)
    assert jstsp.data.standardize == "manifest" and jstsp.data.shuffle_buffer == 10000


def test_fixed_one_pass_training_with_the_clipped_loss(tone_store, tmp_path):
    from sampleaudio.train import train

    config = ExperimentConfig(
        name="fixed", data=DataConfig(data_dir=tone_store, segment=729, batch_size=8),
        model=model_params(block="se", num_blocks=3, init_features=4),
        train=TrainConfig(lr=0.05, num_stages=1, max_epochs_per_stage=1, loss="clipped"), eval=EvalConfig())
    result = train(config, str(tmp_path), verbose=0)
    assert np.isfinite(result["roc_auc"])
    recorded = json.loads((tmp_path / "config.json").read_text())
    assert recorded["data"]["train_examples"] == "fixed" and recorded["train"]["loss"] == "clipped"
    state = json.loads((tmp_path / "state.json").read_text())  # names the committed epoch's checkpoint
    model = keras.saving.load_model(tmp_path / "checkpoints" / state["checkpoint"])  # the custom loss round-trips
    assert model.loss is clipped_categorical_crossentropy or "clipped" in str(model.loss)
    # a run recorded before `train_examples` existed was trained on random crops: not silently reused
    old = json.loads((tmp_path / "config.json").read_text())
    del old["data"]["train_examples"]
    (tmp_path / "config.json").write_text(json.dumps(old))
    with pytest.raises(Exception, match="train_examples"):
        train(config, str(tmp_path), verbose=0)


@pytest.mark.parametrize("fields", [{"architecture": "samplecnn", "block": "rese2"},
                                    {"architecture": "samplecnn_rnn", "block": "se"},
                                    {"architecture": "frame", "window": 27},
                                    {"architecture": "strided", "window": 9, "hop": 9},
                                    {"architecture": "mel", "window": 27, "hop": 9}])
def test_the_initializer_reaches_every_architecture(fields):
    """What the run config records is what the model was built with (ICASSP 2018 setup, baseline rows too)."""
    from sampleaudio.train import build_model

    task = dataclasses.replace(task_for("mtat"), num_classes=3)
    from sampleaudio.families import parameter_names

    depth = {"num_blocks": 4} if "num_blocks" in parameter_names(fields["architecture"]) else {}
    model = build_model(model_params(init_features=4, initializer="he_uniform", **depth, **fields), task, 729)
    convs = [la for la in model.layers if isinstance(la, keras.layers.Conv1D) and la.kernel_size[0] > 1]
    assert convs and all(isinstance(c.kernel_initializer, keras.initializers.HeUniform) for c in convs)
