"""Won 2020 benchmark models and HarmonicCNN: parameter counts against a hand count of the PyTorch originals
(``minzwon/sota-music-tagging-models``; ``sum(p.numel() for p in model.parameters())``, where a BatchNorm has 2
parameters per channel and torchaudio's transforms none), shapes at the paper inputs, the front ends."""

import numpy as np
import pytest
import tensorflow as tf
from model_checks import run_model_checks

from sampleaudio.families.harmonic_cnn.model import HarmonicFilterbank, harmonic_centres, harmonic_cnn
from sampleaudio.families.won2020.model import WON2020, WonModel, evenly_spaced_chunks, won_front_end

#: the benchmark's models, HarmonicCNN (a family of its own, at its paper input) included
MODELS = {**WON2020, "harmonic_cnn": WonModel(harmonic_cnn, 80000, 128, scalable=True)}


def conv2d(cin, cout, k=(3, 3)):
    k = (k, k) if isinstance(k, int) else k
    return k[0] * k[1] * cin * cout + cout


def conv1d(cin, cout, k):
    return k * cin * cout + cout


def bn(c):
    return 2 * c


def linear(i, o):
    return i * o + o


def gru(i, h):
    return 3 * (i * h + h * h + 2 * h)  # weight_ih, weight_hh, bias_ih, bias_hh


def conv_block(cin, cout):  # Conv_2d
    return conv2d(cin, cout) + bn(cout)


def res_2d(cin, cout):  # Res_2d, stride 2: always the projection
    return conv2d(cin, cout) + bn(cout) + conv2d(cout, cout) + bn(cout) + conv2d(cin, cout) + bn(cout)


def res_2d_mp(c):
    return 2 * (conv2d(c, c) + bn(c))


SHORT = [1, 128, 128, 256, 256, 256, 256, 512]
HEAD_512 = linear(512, 512) + bn(512) + linear(512, 50)

PYTORCH_COUNTS = {
    "fcn": bn(1) + sum(conv_block(a, b) for a, b in zip([1, 64, 128, 128, 128], [64, 128, 128, 128, 64]))
    + linear(64, 50),
    "crnn": bn(1) + sum(conv_block(a, b) for a, b in zip([1, 64, 128, 128], [64, 128, 128, 128]))
    + gru(128, 32) + gru(32, 32) + linear(32, 50),
    "short_chunk_cnn": bn(1) + sum(conv_block(a, b) for a, b in zip(SHORT, SHORT[1:])) + HEAD_512,
    "short_chunk_resnet": bn(1) + sum(res_2d(a, b) for a, b in zip(SHORT, SHORT[1:])) + HEAD_512,
    "won_musicnn": bn(1) + conv2d(1, 204, (67, 7)) + bn(204) + conv2d(1, 204, (38, 7)) + bn(204)
    + sum(conv1d(1, 51, k) + bn(51) for k in (129, 65, 33))
    + conv1d(561, 64, 7) + bn(64) + 2 * (conv1d(64, 64, 7) + bn(64))
    + linear(1506, 200) + bn(200) + linear(200, 50),
    "harmonic_cnn": 1 + bn(6) + conv_block(6, 128) + 3 * res_2d_mp(128) + conv_block(128, 256)
    + 2 * res_2d_mp(256) + linear(256, 256) + bn(256) + linear(256, 50),
}


#: the shortest input each model's pools allow, and a narrow width where the model has one (``scalable``)
CHECK_INPUTS = {"fcn": 327680, "crnn": 24576, "won_musicnn": 1024, "short_chunk_cnn": 32768,
                "short_chunk_resnet": 16384, "harmonic_cnn": 80000}


# slow (20-25 s on the loaded 2-core machine): the ResNet (its conv blocks are short_chunk_cnn's) and musicnn (its
# fit path runs in CI in test_the_shared_trainer_trains_a_won2020_model); the rest take 8-24 s there
SLOW_CHECKS = {"short_chunk_resnet", "won_musicnn"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_CHECKS else n
                                  for n in sorted(MODELS)])
def test_standard_model_checks(name, tmp_path):
    """Config and ``.keras`` round trips, eager call, a fit step and mixed precision (tests/model_checks.py)."""
    segment = CHECK_INPUTS[name]
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal((2, segment, 1))).astype(np.float32)
    y = np.array([[1, 0, 1], [0, 1, 0]], np.float32)
    width = {"n_channels": 8} if MODELS[name].scalable else {}
    run_model_checks(lambda: MODELS[name].build(3, segment=segment, **width), x, y, tmp_path, atol=1e-5)


@pytest.mark.parametrize("name", sorted(PYTORCH_COUNTS))
def test_parameter_count_equals_the_pytorch_original(name):
    model = MODELS[name].build(50)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == PYTORCH_COUNTS[name]
    # at the paper's input the maps before the global pool are as there: FCN 1 x 1; one frequency row and one
    # frame (the ResNet's stride-2 convs round up: 2 frames, max-pooled by their forward)
    expected = {"fcn": (1, 1), "short_chunk_cnn": (1, 1), "short_chunk_resnet": (2, 1), "harmonic_cnn": (1, 1)}
    if name in expected:
        assert tuple(model.get_layer("global_pool").input.shape[1:3]) == expected[name]
    if name == "crnn":
        assert tuple(model.get_layer("squeeze_freq").input.shape[1:3]) == (18, 1)


def test_front_end_is_torchaudios_htk_mel_in_db():
    librosa = pytest.importorskip("librosa")
    x = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    mel = librosa.feature.melspectrogram(y=x, sr=16000, n_fft=512, hop_length=256, n_mels=96, fmax=8000,
                                         htk=True, norm=None, pad_mode="reflect", center=True)
    ours = np.asarray(won_front_end(96)(x[None, :, None]))[0]
    np.testing.assert_allclose(ours, 10 * np.log10(np.maximum(mel.T, 1e-10)), atol=2e-3)


def test_harmonic_centres_are_128_half_semitones_from_c1_times_6():
    centres = harmonic_centres(16000)
    assert centres.shape == (768,)
    assert centres[0] == pytest.approx(32.703, abs=1e-3)  # C1
    assert centres[127] == pytest.approx(440 * 2 ** ((87.5 - 69) / 12), rel=1e-9)  # last half semitone below E6
    np.testing.assert_allclose(centres[128 * 5:], 6 * centres[:128])


def test_harmonic_filters_are_triangles_of_erb_width_and_q_learns():
    layer = HarmonicFilterbank(16000)
    layer.build((None, None, 1))
    fb = np.asarray(layer.filterbank())
    assert fb.shape == (257, 768) and fb.max() <= 1.0 and fb.min() == 0.0
    # a wide high filter: support is the bins within bw / 2 of its centre
    k = 767
    bins = np.linspace(0, 8000, 257)
    bw = 0.1079 * harmonic_centres()[k] + 24.7
    assert set(np.flatnonzero(fb[:, k])) == set(np.flatnonzero(np.abs(bins - harmonic_centres()[k]) < bw / 2))
    x = tf.random.normal((2, 4096, 1), seed=1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(layer(x))
    grad = tape.gradient(loss, layer.q)
    assert layer(x).shape == (2, 17, 128, 6) and np.isfinite(grad.numpy()).all() and grad.numpy()[0] != 0
    assert len(layer.trainable_weights) == 1


@pytest.mark.slow
def test_small_harmonic_cnn_trains_one_step():
    model = harmonic_cnn(3, 80000, n_channels=8)
    model.compile("adam", "binary_crossentropy")
    x = np.random.default_rng(0).standard_normal((2, 80000, 1)).astype(np.float32) * 0.1
    loss = model.train_on_batch(x, np.array([[1, 0, 1], [0, 1, 0]], np.float32))
    assert np.isfinite(loss)


def test_evenly_spaced_chunks_follow_their_eval():
    starts = evenly_spaced_chunks(29 * 16000, 59049)
    hop = (29 * 16000 - 59049) // 16
    assert starts == [i * hop for i in range(16)] and starts[-1] + 59049 <= 29 * 16000
    assert evenly_spaced_chunks(1000, 59049) == [0] * 16


def test_the_shared_trainer_trains_a_won2020_model(tmp_path, monkeypatch):
    """A Won 2020 model trained on a 16 kHz store (the paper's rate) is built for 16 kHz, and its card carries Won's
    evaluation protocol (16 evenly spaced chunks per clip), which evaluate, tag and export then follow."""
    import tones
    from conftest import ToneLoader

    from sampleaudio import evaluate
    from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, TrainConfig, model_params
    from sampleaudio.inference import Tagger
    from sampleaudio.runs import read_model_card
    from sampleaudio.stores import Clip, write_dataset
    from sampleaudio.train import train

    store = tmp_path / "s16"
    clips = [Clip(f"c{k:02d}", ["train", "train", "valid", "test"][k % 4], (k % 2,), f"{k % 2}:{k}") for k in range(24)]
    write_dataset(clips, store, info=tones.INFO, labels=["low", "high"], converter="test",
                  converter_version="0", loader=ToneLoader(), progress=False, sample_rate=16000)
    run = str(tmp_path / "run")
    config = ExperimentConfig(name="won", data=DataConfig(data_dir=str(store), segment=1024, batch_size=8),
                              model=model_params("won_musicnn"),
                              train=TrainConfig(optimizer="adam", lr=1e-3, num_stages=1, max_epochs_per_stage=1,
                                                steps_per_epoch=2),
                              eval=EvalConfig())
    train(config, run, verbose=0)
    card = read_model_card(run)
    assert (card["chunking"], card["chunks"], card["sample_rate"]) == ("evenly-spaced", 16, 16000)
    tagger = Tagger.from_path(run)  # the saved model reloads with its front end
    assert tagger.model.get_layer("spec").sample_rate == 16000
    assert tagger.tag([np.zeros(3000, np.float32)])[0].scores.shape == (2,)
    assert len(tagger._cut(np.zeros(3000, np.float32))) == 16  # the Tagger cuts as the card says
    per_clip = []
    pool = evaluate.pool_np
    monkeypatch.setattr(evaluate, "pool_np", lambda v, i, p: per_clip.append(np.bincount(i)) or pool(v, i, p))
    evaluate.evaluate_run(run, "test")  # 3,000-sample clips: 2 consecutive segments of 1,024, or Won's 16 chunks
    assert set(per_clip[0][per_clip[0] > 0]) == {16}


def test_chunked_evaluation_averages_16_evenly_spaced_chunks(tone_store):
    import keras

    from sampleaudio.chunk_eval import evaluate_chunked, predict_chunked_clips
    from sampleaudio.pipeline import read_clips
    from sampleaudio.stores import read_manifest

    inp = keras.Input((500, 1))
    energy = keras.layers.GlobalAveragePooling1D()(keras.layers.Lambda(lambda x: x * x)(inp))
    model = keras.Model(inp, keras.layers.Dense(2, activation="sigmoid")(energy))
    y_true, y_score = predict_chunked_clips(model, tone_store, "test", segment=500, mean=0.0, std=1.0)
    clips = list(read_clips(tone_store, "test").as_numpy_iterator())
    audio = clips[0]["audio"]
    hop = (audio.size - 500) // 16
    chunks = np.stack([audio[i * hop:i * hop + 500] for i in range(16)])[..., None]
    np.testing.assert_allclose(y_score[0], np.asarray(model(chunks)).mean(axis=0), rtol=1e-5)
    assert y_true.shape == (len(clips), 2) and read_manifest(tone_store).num_classes == 2
    assert evaluate_chunked(model, tone_store, "test", segment=500, mean=0.0, std=1.0)["chunks"] == 16


#: (input samples, width) of the numpy reference checks: the paper's inputs where the CPU allows (FCN: the shortest
#: its pools take; CRNN: 4 GRU steps), narrow where the model has a width
REFERENCE_INPUTS = {"fcn": (327680, None), "crnn": (98304, None), "won_musicnn": (48000, None),
                    "short_chunk_cnn": (59049, 16), "short_chunk_resnet": (59049, 16), "harmonic_cnn": (80000, 16)}


def _randomise(model, seed: int = 0) -> None:
    """Shared random weights: Keras' initial kernels, random biases and batch-norm scales, shifts and statistics
    (the spectrogram's batch norm centred on dB values, so that activations stay in range)."""
    import keras

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if isinstance(layer, keras.layers.BatchNormalization):
            c = weights[0].shape
            spec = layer.name in ("spec_bn", "hstft_bn")
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.normal(0, 0.1, c),
                               rng.normal(-40 if spec else 0, 5 if spec else 0.2, c),
                               rng.uniform(300, 500, c) if spec else rng.uniform(0.02, 0.2, c)])
        elif layer.name == "hstft":
            layer.set_weights([np.array([0.8], np.float32)])  # a learnt Q other than its initial 1
        else:
            layer.set_weights([w if w.ndim > 1 else rng.normal(0, 0.1, w.shape) for w in weights[:-1]]
                              + [rng.normal(0, 0.1, weights[-1].shape)])


@pytest.mark.parametrize("name", sorted(REFERENCE_INPUTS))  # 1-3 s each
def test_the_keras_model_computes_the_authors_equations(name):
    """Each model, front end included, against an independent numpy forward pass of the PyTorch code's equations
    (tests/won_reference.py) on shared random weights: padding, pooling, batch-norm epsilon, dB scaling, the GRU's
    gates and HarmonicCNN's filters are where ports drift."""
    import keras
    import won_reference

    samples, width = REFERENCE_INPUTS[name]
    if name == "harmonic_cnn":
        model = harmonic_cnn(50, samples, n_channels=width)
    else:
        model = WON2020[name].build(50, segment=samples, **({"n_channels": width} if width else {}))
    _randomise(model)
    rng = np.random.default_rng(1)
    t = np.arange(samples) / 16000
    x = np.stack([0.3 * np.sin(2 * np.pi * f * t) + 0.05 * rng.standard_normal(samples) for f in (220.0, 1250.0)])
    both = keras.Model(model.inputs, [model.get_layer("penultimate").output, model.output])
    penultimate, probs = (np.asarray(v, np.float64) for v in both(x[..., None].astype(np.float32), training=False))
    weights = won_reference.torch_weights(model)
    for k in range(2):
        ref_pen, ref_probs = won_reference.MODELS[name](x[k], weights)
        scale = np.abs(ref_pen).max()
        # float32 against float64: about 1e-6 of the largest activation apart (measured); one epsilon, pool or
        # filter off moves it by 1e-3 or more
        np.testing.assert_allclose(penultimate[k], ref_pen, atol=2e-5 * scale, rtol=1e-4, err_msg=name)
        np.testing.assert_allclose(probs[k], ref_probs, atol=2e-5, err_msg=name)


def test_the_paper_profile_trains_as_solver_py(tmp_path):
    """Won 2020's ``training/``: one random crop per track per epoch (``AudioFolder.get_npy``), raw ``librosa.load``
    audio, validation loss over 16 evenly spaced chunks, and ``solver.py``: Adam 1e-4 then SGD 1e-3 / 1e-4 / 1e-5
    (Nesterov 0.9), both with L2 1e-4 on every weight, 80 + 20 + 20 + 80 epochs, reloading the best weights at each
    change, no early stopping."""
    from sampleaudio import schedule
    from sampleaudio.experiments.won2020 import BUDGETS, MODELS, config_for

    for row in MODELS:
        cfg = config_for(row, "paper", str(tmp_path), BUDGETS["paper"], 0)
        d, t = cfg.data, cfg.train
        assert (d.train_examples, d.epoch, d.valid_examples, d.standardize, d.batch_size) == (
            "random_crop", "clips", "chunks", "none", 16), row
        assert (t.schedule, t.weight_decay, t.time_decay, t.steps_per_epoch) == ("adam_then_sgd", 1e-4, 0.0, None)
        stages = schedule.plan(t)
        assert [(s.optimizer, s.epochs) for s in stages] == [("adam", 80), ("sgd", 20), ("sgd", 20), ("sgd", 80)]
        assert [s.lr for s in stages] == pytest.approx([1e-4, 1e-3, 1e-4, 1e-5])
        assert all(s.patience is None for s in stages) and [s.reload_best for s in stages] == [False] + [True] * 3
        assert "16000 Hz as the paper" in cfg.notes


def test_won_epochs_are_one_crop_per_track_and_validation_is_16_chunks(tmp_path):
    """On a 16 kHz store: ``ceil(tracks / 16)`` steps of one crop per track, validation on 16 chunks per track."""
    import math

    import tones
    from conftest import ToneLoader

    from sampleaudio.experiments.won2020 import BUDGETS, config_for
    from sampleaudio.objectives.classification import Classification
    from sampleaudio.stores import Clip, Store, write_dataset

    store = tmp_path / "s16"
    clips = [Clip(f"c{k:02d}", ["train", "train", "valid", "test"][k % 4], (k % 2,), f"{k % 2}:{k}") for k in range(40)]
    write_dataset(clips, store, info=tones.INFO, labels=["low", "high"], converter="test", converter_version="0",
                  loader=ToneLoader(), progress=False, sample_rate=16000)
    cfg = config_for("Short-chunk CNN", "paper", str(store), BUDGETS["paper"], 0)
    cfg.data.segment, cfg.data.batch_size = 1000, 4
    objective = Classification(cfg, Store.open(str(store)), segment=1000, mean=0.0, std=1.0)
    assert objective.steps_per_epoch() == math.ceil(20 / 4)
    assert sum(len(x) for x, _ in objective.train_dataset(0)) == 20  # each training track once
    val, steps = objective.valid_dataset()
    assert sum(len(x) for x, _ in val) == 10 * 16 and steps == math.ceil(160 / 4)


def test_harmonic_cnn_has_128_fundamentals_in_the_paper_profile(tone_store, tmp_path):
    """``modules.py``: ``high = note_to_midi(hz_to_note(sr / (2 * 6)))``: 16 kHz gives MIDI 88 and (88 - 24) x 2 =
    128 fundamentals, 22,050 Hz gives 94 and 140. The paper profile refuses a store that is not at 16 kHz; the
    demo trains on its proxy resampled to 16 kHz; the model at its published input then has the paper's 128."""
    from sampleaudio.data_prep import task_for
    from sampleaudio.errors import ParameterError
    from sampleaudio.experiments.resample import store_at_rate
    from sampleaudio.experiments.won2020 import BUDGETS, config_for, require_paper_rate, store_for
    from sampleaudio.stores import read_manifest
    from sampleaudio.train import build_model

    assert harmonic_centres(22050).size // 6 == 140 and harmonic_centres(16000).size // 6 == 128
    with pytest.raises(ParameterError, match="16 kHz"):
        require_paper_rate(tone_store)
    resampled = store_at_rate(tone_store, 16000, out=str(tmp_path / "tones16k"))
    assert read_manifest(resampled).sample_rate == 16000 and store_for("paper", resampled) == resampled
    assert read_manifest(resampled).splits["train"]["clips"] == read_manifest(tone_store).splits["train"]["clips"]
    cfg = config_for("HarmonicCNN", "paper", resampled, BUDGETS["paper"], 0)
    model = build_model(cfg.model, task_for("mtat"), cfg.data.segment, sample_rate=read_manifest(resampled).sample_rate)
    assert cfg.data.segment == 80000 and model.get_layer("hstft").levels == 128
    assert "140 fundamentals" in config_for("HarmonicCNN", "demo", tone_store, BUDGETS["demo"], 0, 22050).notes
