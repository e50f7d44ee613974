import os

import h5py
import keras
import numpy as np
import pytest
from model_checks import run_model_checks

from sampleaudio.errors import ParameterError
from sampleaudio.models import (
    BLOCKS,
    PRESETS,
    FrameLevelCNN,
    MelCNN,
    MelSpectrogram,
    SampleCNN,
    SampleCNNWithRNN,
    StridedSampleCNN,
    block_widths,
    from_preset,
    load_keras2_weights,
    read_keras2_weights,
    rnn_from_preset,
)

PARK2018 = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "weights", "park2018",
                        "model_siamese_10000.h5")

TINY = {"num_blocks": 3, "init_features": 8, "num_classes": 4}  # 81x reduction: 729 samples -> 9 frames


def trainable_params(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_mtat_basic_parameter_count_and_block_shapes():
    model = SampleCNN(block="basic", multi=False, num_blocks=9, num_classes=50)
    assert trainable_params(model) == 1_869_874  # papers.md Sec. 1 check
    model_fixed = SampleCNN(block="basic", num_blocks=9, num_classes=50, input_length=59049)
    shapes = {layer.name: tuple(layer.output.shape) for layer in model_fixed.layers}
    assert shapes["relu0"] == (None, 19683, 128)
    widths = [128, 128, 256, 256, 256, 256, 256, 256, 512]
    for i, w in enumerate(widths):
        assert shapes[f"block{i}_pool"] == (None, 3 ** (8 - i), w)
    assert shapes["final_pool"] == (None, 512) and shapes["pred"] == (None, 50)


def test_layer_names_are_the_originals():
    names = {layer.name for layer in SampleCNN(block="rese2", multi=True).layers}
    for n in ("conv0", "norm0", "block0_conv0", "block0_norm0", "block0_conv1", "block0_norm1", "block2_scut_conv",
              "block2_scut_norm", "block5_ex0", "block5_ex1", "final_fc", "final_norm", "logit", "multi"):
        assert n in names
    names = {layer.name for layer in SampleCNN(block="se").layers}
    assert {"block0_conv", "block0_norm", "block0_ex0", "block0_ex1"} <= names
    assert "block0_scut_conv" not in {layer.name for layer in SampleCNN(block="res1").layers}


def test_block_topologies():
    m = SampleCNN(block="se", num_blocks=9)
    assert m.get_layer("block0_ex0").units == 16 and m.get_layer("block8_ex0").units == 64  # 0.125 x C
    assert SampleCNN(block="se", amplifying_ratio=16, num_blocks=3).get_layer("block0_ex0").units == 16 * 128
    res2 = SampleCNN(block="res2", num_blocks=9)
    assert res2.get_layer("block0_drop0").rate == 0.2
    assert "block0_scale" not in {layer.name for layer in res2.layers}
    rese2 = SampleCNN(block="rese2", num_blocks=9)
    # SE after the last BN and before the add
    def producer(tensor):
        return tensor._keras_history.operation.name

    scale = rese2.get_layer("block3_scale")
    assert producer(scale.input[0]) == "block3_norm1"
    assert [producer(t) for t in rese2.get_layer("block3_scut").input] == ["block2_pool", "block3_scale"]
    # shortcut convs exactly where the width changes (blocks 2 and 8 of 9)
    scut = sorted(layer.name for layer in rese2.layers if layer.name.endswith("_scut_conv"))
    assert scut == ["block2_scut_conv", "block8_scut_conv"]
    multi = SampleCNN(block="basic", multi=True, num_blocks=9)
    assert multi.get_layer("multi").output.shape[-1] == 256 + 256 + 512
    assert multi.get_layer("final_fc").units == 1024
    assert block_widths(8) == [128, 128, 256, 256, 256, 256, 256, 512]


@pytest.mark.parametrize("preset", ["mtat", "speech-commands", "dcase2017"])
def test_every_variant_builds_for_every_preset(preset):
    segment = {"mtat": 59049, "speech-commands": 22050, "dcase2017": 22050}[preset]
    x = np.random.default_rng(0).standard_normal((1, segment, 1)).astype("float32")
    for block in BLOCKS:
        for multi in (False, True):
            model = from_preset(preset, block=block, multi=multi)
            assert model.output.shape[-1] == PRESETS[preset]["num_classes"]
    out = model(x).numpy()
    if preset == "speech-commands":
        np.testing.assert_allclose(out.sum(), 1.0, rtol=1e-5)  # softmax
    rnn = rnn_from_preset(preset)
    assert rnn(x).shape == (1, PRESETS[preset]["num_classes"])


def test_variable_length_input():
    model = SampleCNN(block="se", multi=True, **TINY)
    for n in (81, 729, 1000, 2187):
        assert model(np.zeros((2, n, 1), "float32")).shape == (2, 4)


def test_lee2017_head():
    model = from_preset("lee2017")
    assert model.get_layer("final_conv").filters == 512 and model.get_layer("final_conv").kernel_size == (1,)
    with pytest.raises(ValueError, match="multi"):
        SampleCNN(head="smc2017", multi=True)


@pytest.mark.parametrize("block", sorted(BLOCKS))
def test_standard_checks_for_each_block(block, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 729, 1)).astype("float32")
    y = (rng.random((4, 4)) > 0.5).astype("float32")
    # mixed precision: test_mixed_precision_builds_trains_and_outputs_float32 (both policies, four variants)
    run_model_checks(SampleCNN(block=block, multi=True, **TINY), x, y, tmp_path)


def test_standard_checks_for_baselines(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 2187, 1)).astype("float32")
    y = (rng.random((2, 3)) > 0.5).astype("float32")
    small = {"num_classes": 3, "init_features": 8, "num_blocks": 6}
    run_model_checks(MelCNN(27, 9, n_mels=16, **small), x, y, tmp_path)
    run_model_checks(StridedSampleCNN(27, 9, **small), x, y, tmp_path)
    run_model_checks(FrameLevelCNN(27, segment=2187, num_classes=3, init_features=8), x, y, tmp_path)
    run_model_checks(SampleCNNWithRNN(2, rnn="gru", rnn_units=8, **small), x, y, tmp_path)


def test_strided_and_mel_models_keep_the_remaining_blocks():
    strided = StridedSampleCNN(729, 243)  # hop 3^5: blocks 4..8 remain
    blocks = sorted({layer.name.split("_")[0] for layer in strided.layers if layer.name.startswith("block")})
    assert blocks == [f"block{i}" for i in range(4, 9)]
    assert strided.get_layer("conv0").kernel_size == (729,) and strided.get_layer("conv0").strides == (243,)
    mel = MelCNN(729, 243)
    mel_blocks = sorted({layer.name.split("_")[0] for layer in mel.layers if layer.name.startswith("block")})
    assert mel_blocks == blocks
    assert StridedSampleCNN(3, 3, block="basic").count_params() == SampleCNN(block="basic").count_params()
    with pytest.raises(ValueError, match="power of 3"):
        MelCNN(512, 256)


def test_mel_spectrogram_layer_matches_a_numpy_reference():
    sr, n = 22050, 4096
    t = np.arange(n) / sr
    x = np.sin(2 * np.pi * 1000 * t).astype("float32")
    layer = MelSpectrogram(sample_rate=sr, window=729, hop=243, n_mels=64)
    out = layer(x[None, :, None]).numpy()[0]
    assert out.shape == (1 + n // 243, 64)
    # reference: centred zero-padded frames, periodic Hann, magnitude, the same mel matrix
    import tensorflow as tf

    padded = np.pad(x, 364)
    frames = np.stack([padded[i * 243:i * 243 + 729] for i in range(out.shape[0])])
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(729) / 729)
    mag = np.abs(np.fft.rfft(frames * win, n=layer.fft_length))
    mel = mag @ tf.signal.linear_to_mel_weight_matrix(64, layer.fft_length // 2 + 1, sr, 0.0, sr / 2).numpy()
    np.testing.assert_allclose(out, np.log10(1 + 10 * mel), rtol=1e-3, atol=1e-3)
    # the energy sits in the band holding 1 kHz
    assert 10 < out[5].argmax() < 40
    restored = MelSpectrogram.from_config(layer.get_config())
    assert restored.get_config() == layer.get_config()


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_builds_trains_and_outputs_float32(policy):
    keras.mixed_precision.set_global_policy(policy)
    try:
        rng = np.random.default_rng(3)
        x = rng.standard_normal((2, 2187, 1)).astype("float32")
        y = (rng.random((2, 4)) > 0.5).astype("float32")
        models = [SampleCNN(block=b, multi=True, **TINY) for b in ("se", "rese2")]
        models.append(MelCNN(27, 9, n_mels=16, num_blocks=6, num_classes=4, init_features=8))
        models.append(SampleCNNWithRNN(2, rnn_units=8, num_blocks=6, num_classes=4, init_features=8))
        for model in models:
            assert model.get_layer("block2_conv" if "block2_conv" in [la.name for la in model.layers]
                                   else model.layers[2].name).compute_dtype in ("float16", "bfloat16")
            opt = keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True)
            if policy == "mixed_float16":
                opt = keras.optimizers.LossScaleOptimizer(opt)
            model.compile(optimizer=opt, loss="binary_crossentropy")
            loss = model.train_on_batch(x, y)
            assert np.isfinite(loss)
            assert keras.backend.standardize_dtype(model(x).dtype) == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_fused_batch_norm_matches_keras_batch_norm(dtype):
    import tensorflow as tf

    from sampleaudio.models import BatchNormalization

    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(2.0, 3.0, (4, 50, 8)), dtype=dtype)
    ours, theirs = BatchNormalization(momentum=0.9), keras.layers.BatchNormalization(momentum=0.9)
    for layer in (ours, theirs):
        layer.build(x.shape)
        layer.set_weights([rng.uniform(0.5, 2, 8), rng.normal(0, 1, 8), rng.normal(0, 1, 8), rng.uniform(1, 3, 8)]
                          if layer is ours else ours.get_weights())

    def step(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(tf.cast(y, "float32") * tf.range(8, dtype="float32"))
        return y, tape.gradient(loss, [x, layer.gamma, layer.beta])

    tol = {"float32": 1e-4, "float16": 2e-2}[dtype]
    (y0, g0), (y1, g1) = step(ours), step(theirs)
    assert y0.dtype == y1.dtype
    np.testing.assert_allclose(np.asarray(y0, "float32"), np.asarray(y1, "float32"), atol=tol, rtol=tol)
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(np.asarray(a, "float32"), np.asarray(b, "float32"), atol=tol, rtol=tol)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):  # moving statistics updated alike
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(ours(x, training=False), "float32"),
                               np.asarray(theirs(x, training=False), "float32"), atol=tol, rtol=tol)
    # the training pass really is TF's fused kernel, not the fallback
    graph = tf.function(lambda t: ours(t, training=True)).get_concrete_function(x).graph
    assert any(op.type.startswith("FusedBatchNorm") or "FusedBatchNorm" in op.type for op in graph.get_operations())
    assert BatchNormalization.from_config(ours.get_config()).get_config() == ours.get_config()


def _write_keras2_h5(model, path, whole_model=True):
    """Write ``model``'s weights in the Keras-2 HDF5 layout (as tf.keras 1.x/2.x ``model.save`` did)."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.1.6-tf"
        f.attrs["backend"] = b"tensorflow"
        root = f.create_group("model_weights") if whole_model else f
        names = [layer.name for layer in model.layers]
        root.attrs["layer_names"] = np.array([n.encode() for n in names])
        for layer in model.layers:
            g = root.create_group(layer.name)
            kinds = {"Conv1D": ["kernel", "bias"], "Dense": ["kernel", "bias"],
                     "BatchNormalization": ["gamma", "beta", "moving_mean", "moving_variance"]}
            wn = [f"{layer.name}/{k}:0" for k in kinds.get(type(layer).__name__, [])]
            g.attrs["weight_names"] = np.array([w.encode() for w in wn])
            for name, value in zip(wn, layer.get_weights()):
                g.create_dataset(name, data=value)


@pytest.mark.parametrize("whole_model", [True, False])
def test_load_original_hdf5_weights_by_name(tmp_path, whole_model):
    source = SampleCNN(block="rese2", multi=True, **TINY)
    rng = np.random.default_rng(4)
    for w in source.weights:
        w.assign(rng.standard_normal(w.shape).astype("float32") * 0.1 + (1.0 if "variance" in w.path else 0.0))
    path = tmp_path / "best.h5"
    _write_keras2_h5(source, path, whole_model)
    target = SampleCNN(block="rese2", multi=True, **TINY)
    report = load_keras2_weights(target, path)
    assert "block2_scut_conv" in report.loaded and not report.missing_in_file
    x = rng.standard_normal((2, 729, 1)).astype("float32")
    np.testing.assert_allclose(target(x).numpy(), source(x).numpy(), rtol=1e-5, atol=1e-6)
    # a model of another shape is refused with the layer named
    with pytest.raises(ParameterError, match="layer .conv0. weight"):
        load_keras2_weights(SampleCNN(block="rese2", multi=True, num_blocks=3, init_features=16, num_classes=4),
                            path)
    with pytest.raises(ParameterError, match="not in"):
        load_keras2_weights(SampleCNN(block="se", multi=True, **TINY), path)


@pytest.mark.skipif(not os.path.exists(PARK2018), reason="../shared/weights/park2018 not present")
def test_reader_on_a_real_keras2_file():
    weights = read_keras2_weights(PARK2018)
    assert [a.shape for a in weights["conv1d_1"]] == [(4, 128, 128), (128,)]
    assert [a.shape for a in weights["conv1d_5"]] == [(1, 128, 256), (256,)]
    assert len(weights["batch_normalization_5"]) == 4


def test_invalid_arguments_are_clear():
    with pytest.raises(ValueError, match="block"):
        SampleCNN(block="dense")
    with pytest.raises(ValueError, match="num_blocks"):
        SampleCNN(num_blocks=0)
    with pytest.raises(ValueError, match="activation"):
        SampleCNN(activation="tanh")
    with pytest.raises(ValueError, match="3 blocks"):
        SampleCNN(multi=True, num_blocks=2)
