"""The Oramas 2018 networks: the authors' audio CNN shapes, the cover CNN and its ImageNet weight file, the
co-embedding model's contract (inputs ``waveform`` and ``image``, each embedding computable from its input alone),
and the family's registration."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from layouts_oramas import write_keras2_weights

from sampleaudio import families
from sampleaudio.errors import ParameterError
from sampleaudio.families.oramas2018 import PAPER_SEGMENT
from sampleaudio.families.oramas2018.model import (
    ImagePreprocess,
    audio_tower,
    embedders_of,
    image_tower,
    load_image_weights,
    min_frames,
    triplet_model,
)
from sampleaudio.stores import Task
from sampleaudio.train import build_model

TASK = Task("albums", 4, True, 0.5, "roc_auc", 30.0)


def shapes(model: keras.Model, prefix: str) -> list[tuple]:
    return [tuple(layer.output.shape[1:]) for layer in model.layers if layer.name.startswith(prefix)]


def test_the_audio_cnns_have_the_authors_shapes():
    """tartarus run_experiments.py: MuMu 4x70-low (flatten 256 on 322 frames) and MSD-I single-label-audio
    (flatten 2048, 219,599 parameters with its 15-way softmax)."""
    mumu = build_model(families.model_params("oramas2018_audio"), TASK, PAPER_SEGMENT)
    assert shapes(mumu, "audio_pool") == [(79, 6, 64), (19, 1, 128), (4, 1, 128), (4, 1, 64)]
    assert mumu.get_layer("audio_features").output.shape[1:] == (256,)
    msdi = build_model(families.model_params("oramas2018_audio", variant="msdi"),
                       Task("msd-i", 15, False, 0.5, "accuracy", 30.0), PAPER_SEGMENT)
    assert shapes(msdi, "audio_pool") == [(79, 1, 64), (19, 1, 128), (8, 1, 256)]
    assert msdi.get_layer("audio_features").output.shape[1:] == (2048,)
    trainable = sum(int(np.prod(w.shape)) for w in msdi.trainable_weights)
    assert trainable == 219599  # the authors' model; the input scaler's 2 x 96 statistics are not trained
    assert min_frames("mumu") == 127 and min_frames("msdi") == 95
    with pytest.raises(ParameterError, match="at least 127 CQT frames"):
        audio_tower(keras.Input((100 * 1024, 1)), variant="mumu")


def test_the_image_preprocessing_is_keras_applications():
    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    ours = ImagePreprocess("caffe")(x).numpy()
    np.testing.assert_allclose(ours, keras.applications.resnet50.preprocess_input(x.copy()), atol=1e-4)
    np.testing.assert_allclose(ImagePreprocess("tf")(x).numpy(), x / 127.5 - 1, atol=1e-5)
    with pytest.raises(ParameterError):
        ImagePreprocess("bgr")


def test_the_co_embedding_model_keeps_the_inference_contract(tmp_path):
    params = families.model_params("oramas2018", image_network="small_resnet", image_size=32, image_width=4,
                                   audio_width=0.25, embedding_dim=8)
    model = build_model(params, TASK, 127 * 1024)
    assert [i.name for i in model.inputs] == ["waveform", "image"]
    path = tmp_path / "best.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal((2, 127 * 1024, 1))).astype("float32")
    covers = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    image_only = keras.Model(loaded.get_layer("image").output, loaded.get_layer("image_embedding").output)
    audio_only = keras.Model(loaded.get_layer("waveform").output, loaded.get_layer("audio_embedding").output)
    za, zv = (np.asarray(o) for o in model([audio, covers]))
    np.testing.assert_allclose(image_only(covers).numpy(), zv, atol=1e-5)
    np.testing.assert_allclose(audio_only(audio).numpy(), za, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(zv, axis=1), 1.0, atol=1e-5)
    a, v = embedders_of(model)
    assert a.output.shape[-1] == v.output.shape[-1] == 8
    scores = triplet_model(model, num_negatives=2)([audio, np.stack([audio, audio], 1), covers,
                                                    np.stack([covers, covers], 1)]).numpy()
    assert scores.shape == (2, 6)
    np.testing.assert_allclose(scores[:, 0], np.sum(za * zv, axis=1), atol=1e-5)  # track . own cover
    np.testing.assert_allclose(scores[:, 3], scores[:, 0], atol=1e-5)  # cover . own track: the same pair


def test_a_cover_cnn_takes_the_keras_applications_weight_file(tmp_path):
    """The file is written in the layout of keras.applications' ResNet50 ImageNet file (Keras 2 HDF5, layer
    names included); loading it fills every layer; a file of another network or no weight file is one line."""
    x = keras.Input((32, 32, 3))
    _, backbone = image_tower(x, network="resnet50")
    reference = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(32, 32, 3))
    rng = np.random.default_rng(1)
    reference.get_layer("conv1_conv").set_weights([rng.standard_normal((7, 7, 3, 64)).astype("float32"),
                                                  np.arange(64, dtype="float32")])
    good = tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    write_keras2_weights(reference, str(good))
    load_image_weights(backbone, str(good), "resnet50")
    for name in ("conv1_conv", "conv5_block3_3_bn"):
        for ours, theirs in zip(backbone.get_layer(name).get_weights(), reference.get_layer(name).get_weights()):
            np.testing.assert_array_equal(ours, theirs)
    small = keras.Model(*(lambda i: (i, image_tower(i, network="small_resnet", width=4)[0]))(keras.Input((32, 32, 3))))
    wrong = tmp_path / "small.h5"
    write_keras2_weights(small, str(wrong))
    for path, why in ((wrong, "layer"), (tmp_path / "missing.h5", "no such file")):
        with pytest.raises(ParameterError, match=f"image-weights .* does not fit keras.applications.ResNet50.*{why}"):
            load_image_weights(backbone, str(path), "resnet50")
    text = tmp_path / "notes.h5"
    text.write_text("not HDF5")
    with pytest.raises(ParameterError) as info:
        load_image_weights(backbone, str(text), "resnet50")
    assert "\n" not in str(info.value) and "not a readable HDF5 file" in str(info.value)


def test_the_image_run_loads_the_weights_given_as_a_parameter(tmp_path):
    reference = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(32, 32, 3))
    reference.get_layer("conv1_bn").set_weights([np.full(64, 3.0, "float32")] * 4)
    path = tmp_path / "imagenet.h5"
    write_keras2_weights(reference, str(path))
    model = build_model(families.model_params("oramas2018_image", image_size=32, image_weights=str(path)), TASK, 1)
    np.testing.assert_array_equal(model.get_layer("conv1_bn").get_weights()[0], np.full(64, 3.0))
    assert [i.name for i in model.inputs] == ["image"]


def test_the_family_is_registered_by_its_folder():
    family = families.family_of("oramas2018")
    assert {a.name for a in family.architectures} == {"oramas2018_audio", "oramas2018_image", "oramas2018"}
    assert {"cover_genres", "album_triplets"} <= set(families.objectives())
    assert families.default_segment(families.model_params("oramas2018_audio"), "mumu") == PAPER_SEGMENT
    assert "image_weights" in families.parameter_names("oramas2018_image")
    names = {families.signature(families.model_params(a)) for a in ("oramas2018_audio", "oramas2018_image",
                                                                    "oramas2018")}
    assert len(names) == 3
