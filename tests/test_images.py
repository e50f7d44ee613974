"""Models that take images beside audio (album covers in one space with the audio, Oramas et al. 2018): the card's
image input and embeddings reach embed, similar and the TF Serving export, and bad images are one line each."""

from __future__ import annotations

import io
import json
import os

import keras
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from sampleaudio.errors import ImageDecodeError
from sampleaudio.images import load_image

SIZE = 32


@pytest.fixture(scope="module")
def two_tower_run(tmp_path_factory):
    """A run folder whose model has a waveform and an image input, each with its embedding in one space."""
    run = tmp_path_factory.mktemp("two_tower")
    keras.utils.set_random_seed(0)
    wave = keras.Input((729, 1), name="waveform")
    a = keras.layers.Conv1D(4, 9, strides=9)(wave)
    a = keras.layers.GlobalAveragePooling1D()(a)
    a = keras.layers.Dense(8, name="audio_embedding")(a)
    img = keras.Input((SIZE, SIZE, 3), name="image")
    i = keras.layers.Rescaling(1 / 127.5, offset=-1)(img)
    i = keras.layers.Conv2D(4, 3)(i)
    i = keras.layers.GlobalAveragePooling2D()(i)
    i = keras.layers.Dense(8, name="image_embedding")(i)
    score = keras.layers.Dot(axes=1, normalize=True)([a, i])
    keras.Model([wave, img], score).save(run / "best.keras")
    card = {"labels": [], "segment": 729, "mean": 0.0, "std": 1.0, "sample_rate": 22050,
            "embeddings": {"penultimate": "audio_embedding", "audio": "audio_embedding", "image": "image_embedding"},
            "image": {"height": SIZE, "width": SIZE, "preprocessing": "tf"}, "embedding_layer": "audio_embedding"}
    (run / "model_card.json").write_text(json.dumps(card))
    return str(run)


def _png(path, mode="RGB", size=(40, 30), color=(200, 30, 60)):
    img = Image.new(mode, size, color if mode in ("RGB", "RGBA", "CMYK") else color[0])
    img.save(path)
    return str(path)


def test_any_image_mode_becomes_rgb_of_the_cards_size(tmp_path):
    for mode, color, suffix in (("RGB", (200, 30, 60), "png"), ("L", (90,), "png"), ("RGBA", (0, 0, 0, 0), "png"),
                                ("CMYK", (0, 255, 255, 0), "jpg"), ("P", (3,), "gif")):
        img = Image.new(mode, (40, 30), color)
        path = tmp_path / f"c-{mode}.{suffix}"
        img.save(path)
        x = load_image(path, SIZE, SIZE)
        assert x.shape == (SIZE, SIZE, 3) and x.dtype == np.uint8, mode
    assert load_image(tmp_path / "c-RGBA.png", 8, 8).min() == 255  # transparent: composited over white


@pytest.mark.parametrize("case", ["missing", "folder", "not-an-image", "truncated", "huge"])
def test_a_bad_image_is_one_line_naming_it(tmp_path, case):
    path = tmp_path / "cover.png"
    if case == "folder":
        path.mkdir()
    elif case == "not-an-image":
        path.write_bytes(b"RIFF....WAVEfmt ")
    elif case == "truncated":
        _png(path)
        path.write_bytes(path.read_bytes()[:40])
    elif case == "huge":  # a PNG header declaring 100,000 x 100,000 pixels
        buf = io.BytesIO()
        Image.new("L", (1, 1)).save(buf, "PNG")
        data = bytearray(buf.getvalue())
        data[16:24] = (100000).to_bytes(4, "big") * 2
        path.write_bytes(bytes(data))
    with pytest.raises(ImageDecodeError, match=f"cannot decode image '{path}'") as exc:
        load_image(path, SIZE, SIZE)
    assert "\n" not in str(exc.value)


def test_embed_takes_audio_and_images_into_one_space(two_tower_run, tmp_path):
    from sampleaudio.inference import Tagger

    wav = tmp_path / "song.wav"
    sf.write(wav, (0.1 * np.random.default_rng(0).standard_normal(3000)).astype(np.float32), 22050)
    cover, bad = _png(tmp_path / "cover.png"), tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    tagger = Tagger.from_path(two_tower_run)
    results = tagger.embed([str(cover), str(wav), str(bad)])
    assert [r.error is None for r in results] == [True, True, False] and "bad.jpg" in results[2].error
    assert results[0].embedding.shape == results[1].embedding.shape == (8,)
    model = keras.saving.load_model(os.path.join(two_tower_run, "best.keras"))
    image_net = keras.Model(model.get_layer("image").output, model.get_layer("image_embedding").output)
    expected = np.asarray(image_net(load_image(cover, SIZE, SIZE)[None].astype(np.float32)))[0]
    np.testing.assert_allclose(results[0].embedding, expected, rtol=1e-5, atol=1e-6)


def test_the_export_has_an_image_signature_beside_the_audio_one(two_tower_run, tmp_path):
    import tensorflow as tf

    from sampleaudio.export import export_run
    from sampleaudio.inference import Tagger

    out = export_run(two_tower_run, str(tmp_path / "export" / "1"))
    loaded = tf.saved_model.load(out)
    assert {"serving_default", "embed", "embed_image"} <= set(loaded.signatures)
    cover = _png(tmp_path / "cover.png", size=(64, 48))
    served = loaded.signatures["embed_image"](image=tf.constant([open(cover, "rb").read()]))["embedding"].numpy()
    local = Tagger.from_path(two_tower_run).embed([cover])[0].embedding
    cosine = float(served[0] @ local / np.linalg.norm(served[0]) / np.linalg.norm(local))
    assert served.shape == (1, 8) and cosine > 0.99  # PIL's and TensorFlow's bilinear resizes differ slightly
    wave = (0.1 * np.random.default_rng(1).standard_normal((1, 3000))).astype(np.float32)
    audio = loaded.signatures["embed"](waveform=tf.constant(wave), length=tf.constant([3000], tf.int64))
    np.testing.assert_allclose(audio["embedding"].numpy()[0], Tagger.from_path(two_tower_run).embed(
        [(wave[0], 22050)])[0].embedding, rtol=1e-4, atol=1e-5)


def test_similar_answers_an_image_query_against_an_audio_index(two_tower_run, tmp_path, capsys):
    from sampleaudio.cli import main

    files = []
    for k in range(3):
        path = tmp_path / f"song{k}.wav"
        sf.write(path, (0.1 * np.random.default_rng(k).standard_normal(3000)).astype(np.float32), 22050)
        files.append(str(path))
    index = str(tmp_path / "index")
    assert main(["index", two_tower_run, *files, "--out", index, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["similar", _png(tmp_path / "cover.png"), "--index", index, "--top-k", "2", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert sum(os.path.basename(f) in out for f in files) == 2
