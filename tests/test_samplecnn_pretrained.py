"""The authors' released ICASSP 2018 checkpoints by name (``samplecnn-mtat-se-multi``, ``samplecnn-mtat-rese-multi``),
on files built here in exactly their layout: Keras 2.0.5 ``model.save`` of resemul's ``model.py``, whose layers carry
Keras' automatic names (``conv1d_1``, ``batch_normalization_1``, ``dense_1``, ...; one counter per type, in the
order the layers were created), weights at ``model_weights/<layer>/<layer>/kernel:0``.

The fixture builder walks resemul's construction order itself (stem; per block the convs, batch norms and SE dense
layers as ``model.py`` creates them; the head) and names each layer as Keras 2 would, independently of the
loader's :func:`released_order`.
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from sampleaudio.errors import ParameterError
from sampleaudio.families.samplecnn.model import block_widths
from sampleaudio.families.samplecnn.pretrained import build_icassp2018, load_icassp2018_weights
from sampleaudio.pretrained import PRETRAINED, Pretrained, describe, summary


class Keras2Names:
    """Keras 2's automatic layer names: ``<snake_case type>_<n>``, one counter per type, from ``start``."""

    def __init__(self, start: int = 1):
        self.counts: dict[str, int] = {}
        self.start = start

    def __call__(self, kind: str) -> str:
        self.counts[kind] = self.counts.get(kind, self.start - 1) + 1
        return f"{kind}_{self.counts[kind]}"


def resemul_layers(block: str, init_features: int, start: int = 1) -> list[tuple[str, str | None, list[tuple]]]:
    """``(keras-2 name, our layer name or None, weight shapes)`` of every layer of resemul's model, in creation
    order: ``Input``/``Reshape``, the stem ``Conv1D(init, 3, strides 3)`` + BN + ReLU, 9 blocks, then the multi-level
    head (GMP of the last 3 blocks, concatenated; Dense(same) + BN + ReLU + Dropout + Dense(50, sigmoid))."""
    name = Keras2Names(start)
    layers = [(name("input"), None, []), (name("reshape"), None, [])]

    def conv(ours, k, cin, cout):
        layers.append((name("conv1d"), ours, [(k, cin, cout), (cout,)]))

    def norm(ours, c):
        layers.append((name("batch_normalization"), ours, [(c,)] * 4))

    def plain(kind):
        layers.append((name(kind), None, []))

    def se(b, c):
        plain("global_average_pooling1d")
        plain("reshape")
        layers.append((name("dense"), f"{b}_ex0", [(c, 16 * c), (16 * c,)]))
        layers.append((name("dense"), f"{b}_ex1", [(16 * c, c), (c,)]))

    conv("conv0", 3, 1, init_features)
    norm("norm0", init_features)
    plain("activation")
    c = init_features
    for i, width in enumerate(block_widths(9, init_features)):
        b = f"block{i}"
        if block == "se":
            conv(f"{b}_conv", 3, c, width)
            norm(f"{b}_norm", width)
            plain("activation")
            plain("max_pooling1d")
            plain("multiply")
            se(b, width)
        else:
            if width != c:
                conv(f"{b}_scut_conv", 1, c, width)
                norm(f"{b}_scut_norm", width)
            conv(f"{b}_conv0", 3, c, width)
            norm(f"{b}_norm0", width)
            plain("activation")
            plain("dropout")
            conv(f"{b}_conv1", 3, width, width)
            norm(f"{b}_norm1", width)
            plain("multiply")
            se(b, width)
            plain("add")
            plain("activation")
            plain("max_pooling1d")
        c = width
    plain("concatenate")
    for _ in range(3):
        plain("global_max_pooling1d")
    features = 2 * block_widths(9, init_features)[-2] + block_widths(9, init_features)[-1]
    layers.append((name("dense"), "final_fc", [(features, features), (features,)]))
    norm("final_norm", features)
    plain("activation")
    plain("dropout")
    layers.append((name("dense"), "logit", [(features, 50), (50,)]))
    return layers


def write_resemul_h5(path, block: str, init_features: int = 128, start: int = 1, seed: int = 0,
                     shuffle: bool = False) -> dict[str, list[np.ndarray]]:
    """A Keras 2.0.5 whole-model HDF5 of resemul's ``block``+multi model with random weights; returns ``{our layer
    name: arrays}``."""
    layers = resemul_layers(block, init_features, start)
    order = list(range(len(layers)))
    if shuffle:  # Keras 2 lists layers by graph depth, not creation: the loader must not rely on either
        np.random.default_rng(seed + 1).shuffle(order)
    kinds = {1: ["kernel", "bias"], 2: ["kernel", "bias"], 4: ["gamma", "beta", "moving_mean", "moving_variance"]}
    ours = {}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.0.5"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps({"class_name": "TFRecordModel", "config": {}}).encode()
        root = f.create_group("model_weights")
        root.attrs["layer_names"] = np.array([layers[i][0].encode() for i in order])
        for i in order:
            keras_name, our_name, shapes = layers[i]
            group = root.create_group(keras_name)
            weight_names = [f"{keras_name}/{w}:0" for w in kinds.get(len(shapes), [])]
            group.attrs["weight_names"] = np.array([w.encode() for w in weight_names])
            arrays = []
            layer_rng = np.random.default_rng([seed, i])  # the same weights whatever the listing order
            for w, shape in zip(weight_names, shapes):
                value = (layer_rng.standard_normal(shape) * 0.05).astype(np.float32)
                if w.endswith("moving_variance:0") or w.endswith("gamma:0"):
                    value = np.abs(value) + 0.5
                group.create_dataset(w, data=value)
                arrays.append(value)
            if our_name:
                ours[our_name] = arrays
        f.create_group("optimizer_weights")
    return ours


@pytest.mark.parametrize("block", ["se", "rese"])
def test_every_weight_lands_in_its_layer(tmp_path, block):
    path = tmp_path / f"{block}.hdf5"
    expected = write_resemul_h5(path, block, init_features=8)
    model = build_icassp2018(block, init_features=8)
    load_icassp2018_weights(model, str(path), block, init_features=8)
    weighted = {layer.name for layer in model.layers if layer.weights}
    assert weighted == set(expected)  # every layer with weights, nothing left at its initial values
    for name, arrays in expected.items():
        for got, want in zip(model.get_layer(name).get_weights(), arrays):
            np.testing.assert_array_equal(got, want)
    y = np.asarray(model(np.zeros((2, 59049, 1), np.float32), training=False))
    assert y.shape == (2, 50) and np.all((y > 0) & (y < 1))


def test_counters_that_did_not_start_at_one_and_any_layer_order(tmp_path):
    """A process that built a model before saving starts Keras 2's counters higher; h5 lists layers by depth."""
    plain, shifted = tmp_path / "plain.hdf5", tmp_path / "shifted.hdf5"
    write_resemul_h5(plain, "rese", init_features=8, seed=3)
    write_resemul_h5(shifted, "rese", init_features=8, seed=3, start=23, shuffle=True)
    with h5py.File(shifted, "r") as f:
        assert "conv1d_23" in f["model_weights"] and "dense_23" in f["model_weights"]
    a, b = build_icassp2018("rese", init_features=8), build_icassp2018("rese", init_features=8)
    load_icassp2018_weights(a, str(plain), "rese", init_features=8)
    load_icassp2018_weights(b, str(shifted), "rese", init_features=8)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_the_other_blocks_file_is_refused_in_one_line(tmp_path):
    se = tmp_path / "se.hdf5"
    write_resemul_h5(se, "se", init_features=8)
    with pytest.raises(ParameterError, match="has 10 conv1d layers with weights, the ICASSP 2018 rese\\+multi model"
                                             " 21") as info:
        load_icassp2018_weights(build_icassp2018("rese", init_features=8), str(se), "rese", init_features=8)
    assert "\n" not in str(info.value)
    narrow = tmp_path / "narrow.hdf5"
    write_resemul_h5(narrow, "se", init_features=4)
    with pytest.raises(ParameterError, match="does not fit the ICASSP 2018 se\\+multi model: layer 'conv0'"):
        load_icassp2018_weights(build_icassp2018("se", init_features=8), str(narrow), "se", init_features=8)


def test_the_names_are_registered_and_describe_themselves():
    for name in ("samplecnn-mtat-se-multi", "samplecnn-mtat-rese-multi"):
        entry = PRETRAINED[name]
        assert isinstance(entry, Pretrained) and entry.sample_rate == 22050
        assert entry.segment_seconds == pytest.approx(59049 / 22050) and "ICASSP 2018" in entry.paper
        assert "--weights" in entry.needs and "tae-jun/resemul" in entry.needs
    assert all(isinstance(e, Pretrained) and e.paper and e.outputs for e in PRETRAINED.values())
    assert len(describe().splitlines()) == len(PRETRAINED)
    assert "samplecnn-mtat-rese-multi (--weights rese-multi-auc_0.9113-tfrmodel.hdf5)" in summary()


def test_tagging_by_name_needs_the_weights_file(capsys, tmp_path):
    from sampleaudio.cli import main

    wav = tmp_path / "x.wav"
    import soundfile as sf

    sf.write(wav, np.zeros(22050, np.float32), 22050)
    assert main(["tag", "samplecnn-mtat-se-multi", str(wav)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--weights se-multi-auc_0.9111-tfrmodel.hdf5" in err[0]


@pytest.mark.parametrize("block", ["se", "rese"])
def test_tag_with_a_full_size_released_layout_file(tmp_path, capsys, block):
    """The registered name end to end on a full-size file (~100 MB of weights, 6-9 s): 50 MTAT tags in the
    authors' order, from the raw waveform."""
    import soundfile as sf

    from sampleaudio.cli import main
    from sampleaudio.data_prep.mtat import TOP50

    weights = tmp_path / f"{block}-multi-auc-tfrmodel.hdf5"
    expected = write_resemul_h5(weights, block)
    t = np.arange(3 * 59049) / 22050
    sf.write(tmp_path / "song.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 22050)
    out = tmp_path / "tags.jsonl"
    assert main(["tag", f"samplecnn-mtat-{block}-multi", str(tmp_path / "song.wav"), "--weights", str(weights),
                 "--out", str(out), "--quiet"]) == 0
    lines = out.read_text().splitlines()
    header, record = json.loads(lines[0]), json.loads(lines[1])
    assert header["labels"] == TOP50 and header["sample_rate"] == 22050
    assert np.shape(record["taggram"]) == (3, 50) and record["times"] == [0.0, 2.678, 5.356]
    from sampleaudio.inference import Tagger

    tagger = Tagger.from_path(f"samplecnn-mtat-{block}-multi", weights=str(weights))
    np.testing.assert_array_equal(tagger.model.get_layer("logit").get_weights()[0], expected["logit"][0])
    assert tagger.mean == 0.0 and tagger.std == 1.0  # the raw waveform, as resemul fed it
