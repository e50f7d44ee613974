"""The Oramas 2018 objectives: the seeded triplet and cover samplers (on the one metric-learning sampler), the
co-embedding started from the genre runs (towers copied and kept), retrieval metrics, the fused classifiers, and
the three runs with the paper's table end to end (slow)."""

from __future__ import annotations

import io
import json
import os

import keras
import numpy as np
import pytest
from layouts_oramas import make_mumu

from sampleaudio import families
from sampleaudio.cards import RunDir
from sampleaudio.config import DataConfig, ExperimentConfig, TrainConfig, objective_params
from sampleaudio.errors import ParameterError
from sampleaudio.families.oramas2018.albums import Albums, decode_cover, load_albums
from sampleaudio.families.oramas2018.coembedding import AlbumTripletLoss, AlbumTriplets, triplet_dataset
from sampleaudio.families.oramas2018.covers import cover_dataset
from sampleaudio.families.oramas2018.metrics import chance_retrieval, cross_modal_retrieval
from sampleaudio.stores import Store
from sampleaudio.train import build_model

SEGMENT = 127 * 1024


def png(colour) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (6, 6), colour).save(out, "PNG")
    return out.getvalue()


def toy_albums(n: int = 6, tracks: int = 2) -> Albums:
    """Albums whose cover colour and track samples name the album: cover (10 a, 0, 0), samples a / 100."""
    audio, ids, owners, rows = [], [], [], {}
    for a in range(n):
        rows[f"al{a}"] = ("train", np.eye(3)[a % 3] > 0, png((10 * a, 0, 0)))
        for t in range(tracks + a % 2):
            audio.append(np.full(3000 + 500 * t, a / 100, np.float32))
            ids.append(f"al{a}/t{t}")
            owners.append(f"al{a}")
    return Albums(audio, ids, owners, rows)


def batches(ds, n=2):
    """The first ``n`` batches as tuples of arrays: the inputs (one or several), then the target."""
    out = []
    for inputs, target in ds.take(n):
        inputs = inputs if isinstance(inputs, tuple) else (inputs,)
        out.append(tuple(np.asarray(x) for x in (*inputs, target)))
    return out


def test_the_triplet_sampler_is_seeded_and_draws_other_albums():
    albums = toy_albums()
    rows = np.arange(len(albums))

    def make(seed):
        return triplet_dataset(albums, rows, segment=1000, size=4, batch_size=5, num_negatives=3, seed=seed)

    first, again, other = batches(make(3)), batches(make(3)), batches(make(4))
    for a, b in zip(first, again):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(a[0], b[0]) or not np.array_equal(a[3], b[3]) for a, b in zip(first, other))
    anchor, negative_audio, cover, negative_covers, target = first[0]
    assert anchor.shape == (5, 1000, 1) and negative_audio.shape == (5, 3, 1000, 1)
    assert cover.shape == (5, 4, 4, 3) and negative_covers.shape == (5, 3, 4, 4, 3) and target.shape == (5, 8)
    for k in range(5):
        album = int(round(anchor[k, 0, 0] * 100))
        assert int(round(cover[k, 0, 0, 0] / 10)) == album  # the track's own album's cover
        others = [int(round(c[0, 0, 0] / 10)) for c in negative_covers[k]]
        assert album not in others and len(set(others)) == 3  # distinct other albums
        tracks = [int(round(t[0, 0] * 100)) for t in negative_audio[k]]
        assert tracks == others  # each negative's track is of the negative's album


def test_the_cover_sampler_is_seeded_and_flips():
    albums = toy_albums()
    a = batches(cover_dataset(albums.covers, albums.labels, np.arange(6), size=4, batch_size=3, seed=1))
    b = batches(cover_dataset(albums.covers, albums.labels, np.arange(6), size=4, batch_size=3, seed=1))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x[0], y[0])
    fixed = batches(cover_dataset(albums.covers, albums.labels, [2, 4], size=4, batch_size=2, seed=0, flip=False,
                                  num_examples=2), 1)[0]
    np.testing.assert_allclose(fixed[0][:, 0, 0, 0], [20, 40], atol=1e-3)
    np.testing.assert_array_equal(fixed[1], albums.labels[[2, 4]])
    image = decode_cover(albums.covers[5], 8).numpy()
    assert image.shape == (8, 8, 3) and abs(image[..., 0].mean() - 50) < 1e-3


def test_the_triplet_loss_is_the_hinge_in_both_directions():
    loss = AlbumTripletLoss(0.2)
    perfect = np.array([[1.0, -1.0, -1.0, 1.0, -1.0, -1.0]], np.float32)
    assert float(loss(np.zeros_like(perfect), perfect)) == 0.0
    tied = np.zeros((1, 6), np.float32)
    assert float(loss(np.zeros_like(tied), tied)) == pytest.approx(0.4, abs=1e-5)  # 0.2 per direction
    assert AlbumTripletLoss.from_config(loss.get_config()).margin == 0.2


def test_cross_modal_retrieval_and_its_chance():
    covers = np.eye(4)
    track_album = np.array([0, 0, 1, 2, 3, 3])
    perfect = cross_modal_retrieval(covers[track_album], track_album, covers)
    assert all(v == 1.0 for v in perfect.values())
    shuffled = cross_modal_retrieval(covers[(track_album + 1) % 4], track_album, covers)
    assert shuffled["track_to_cover_recall_at_1"] == 0.0 and shuffled["track_to_cover_map"] < 0.6
    chance = chance_retrieval(track_album, 4, trials=400)
    assert chance["track_to_cover_map"] == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4, abs=0.03)
    assert chance["track_to_cover_recall_at_1"] == pytest.approx(0.25, abs=0.04)
    assert chance["cover_to_tracks_recall_at_10"] == 1.0


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from sampleaudio.data_prep import mumu

    root = tmp_path_factory.mktemp("mumu")
    make_mumu(str(root / "src"), albums=16, bad=False)
    mumu.convert(str(root / "src"), str(root / "store"), progress=False)
    return str(root / "store")


def fake_run(root, name: str, arch: str, store: str, **params) -> str:
    """A finished-looking run folder (config.json, best.keras) of an untrained ``arch`` model."""
    config = ExperimentConfig(name=name, data=DataConfig(data_dir=store, segment=SEGMENT),
                              model=families.model_params(arch, **params),
                              objective=objective_params("cover_genres" if arch == "oramas2018_image" else None))
    run = RunDir(os.path.join(root, name))
    run.write_config(config)
    build_model(config.model, Store.open(store).task, SEGMENT).save(run.file("best.keras"))
    return run.path


def test_the_co_embedding_starts_from_the_genre_runs_and_keeps_them(store, tmp_path):
    towers = dict(audio_width=0.25, image_network="small_resnet", image_size=32, image_width=4)
    audio_run = fake_run(tmp_path, "a", "oramas2018_audio", store, audio_width=0.25)
    image_run = fake_run(tmp_path, "i", "oramas2018_image", store, image_network="small_resnet", image_size=32,
                         image_width=4)
    config = ExperimentConfig(name="c", data=DataConfig(data_dir=store, segment=SEGMENT, batch_size=4),
                              model=families.model_params("oramas2018", embedding_dim=8, **towers),
                              objective=objective_params("album_triplets", num_negatives=2, audio_run=audio_run,
                                                         image_run=image_run),
                              train=TrainConfig(optimizer="adam", lr=0.01))
    st = Store.open(store)
    objective = AlbumTriplets(config, st, segment=SEGMENT, mean=0.0, std=1.0)
    assert objective.steps_per_epoch() == 4  # 16 training tracks, batch 4
    model = build_model(config.model, st.task, SEGMENT)
    wrapped = objective.wrap(model)
    trained_audio = keras.saving.load_model(os.path.join(audio_run, "best.keras"))
    np.testing.assert_array_equal(model.get_layer("audio_conv1").get_weights()[0],
                                  trained_audio.get_layer("audio_conv1").get_weights()[0])
    assert not model.get_layer("audio_conv1").trainable and not model.get_layer("image_stem_conv").trainable
    assert model.get_layer("audio_projection").trainable
    wrapped.compile(optimizer="adam", loss=objective.loss())
    before = model.get_layer("image_stem_conv").get_weights()[0].copy()
    wrapped.fit(objective.train_dataset(0), steps_per_epoch=1, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.get_layer("image_stem_conv").get_weights()[0], before)  # frozen tower
    saved, card, metrics = objective.finish(wrapped, str(tmp_path))
    assert [i.name for i in saved.inputs] == ["waveform", "image"]
    assert card["image"] == {"height": 32, "width": 32, "preprocessing": "caffe"} and card["labels"] == st.labels
    assert metrics["albums"] == 4 and metrics["tracks"] == 8
    assert 0 < metrics["cover_to_tracks_map"] <= 1 and 0 < metrics["chance_track_to_cover_map"] < 1
    wrong = dataclass_replace(config, audio_width=0.5)
    with pytest.raises(ParameterError, match="audio_width=0.25 there, 0.5 here"):
        AlbumTriplets(wrong, st, segment=SEGMENT, mean=0.0, std=1.0).wrap(build_model(wrong.model, st.task, SEGMENT))


def dataclass_replace(config, **model):
    import dataclasses

    return dataclasses.replace(config, model=dataclasses.replace(config.model, **model))


def test_the_objectives_refuse_other_architectures(store):
    config = ExperimentConfig(name="x", data=DataConfig(data_dir=store, segment=SEGMENT),
                              model=families.model_params("oramas2018_audio"),
                              objective=objective_params("album_triplets"))
    with pytest.raises(ParameterError, match="--architecture oramas2018"):
        AlbumTriplets(config, Store.open(store), segment=SEGMENT, mean=0.0, std=1.0)
    from sampleaudio.families.oramas2018.covers import CoverGenres

    with pytest.raises(ParameterError, match="--architecture oramas2018_image"):
        CoverGenres(config, Store.open(store), segment=SEGMENT, mean=0.0, std=1.0)
    albums = load_albums(store, audio=False)
    assert len(albums.ids) == 16 and albums.lengths.sum() == 0 and len(albums.albums_of("test")) == 4


def test_the_fused_classifiers_are_the_authors():
    from sampleaudio.families.oramas2018.fusion import fused_classifier, train_fused

    one = fused_classifier([5], 3, multi_label=True, dropout=0.0)
    assert [layer.__class__.__name__ for layer in one.layers] == ["InputLayer", "Dense"]  # get_model_3: no L2
    two = fused_classifier([5, 4], 3, multi_label=False, dropout=0.5)
    kinds = [layer.__class__.__name__ for layer in two.layers]
    assert kinds.count("UnitNormalization") == 2 and "Dropout" in kinds and two.output.shape[-1] == 3
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 4)).astype("float32")
    y = np.stack([x[:, 0] > 0, x[:, 1] > 0], 1).astype("float32")
    model = train_fused([x[:400]], y[:400], [x[400:]], y[400:], multi_label=True, dropout=0.0, epochs=30, lr=0.01,
                        patience=30)
    from sampleaudio.metrics import roc_auc_macro

    assert roc_auc_macro(y[400:], model.predict([x[400:]], verbose=0)) > 0.9


@pytest.mark.slow
def test_the_three_runs_and_the_table_end_to_end(store, tmp_path):
    from sampleaudio.experiments import run_experiments
    from sampleaudio.experiments.oramas2018 import (
        FEATURE_SETS,
        PROFILES,
        album_features,
        baseline_rows,
        configs,
        table_rows,
    )

    runs = run_experiments(configs("smoke", store, str(tmp_path), 0), str(tmp_path))
    assert list(runs.run) == ["audio", "image", "coembedding"]
    card = json.loads((tmp_path / runs.run_dir[2].split("/")[-1] / "model_card.json").read_text())
    assert card["embeddings"] == {"audio": "audio_embedding", "image": "image_embedding",
                                  "penultimate": "audio_embedding"}
    assert card["image"]["height"] == PROFILES["smoke"].image_size
    albums = load_albums(store)
    features = album_features(dict(zip(runs.run, runs.run_dir)), albums, segment=PROFILES["smoke"].segment)
    assert {k: v.shape[0] for k, v in features.items()} == {"A": 16, "V": 16, "mmA": 16, "mmV": 16}
    rows = table_rows(features, albums, multi_label=True, seed=0)
    assert [r["features"] for r in rows] == list(FEATURE_SETS)
    base = baseline_rows(albums, multi_label=True, image_size=32, seed=0)
    assert base[0]["ROC-AUC"] == 0.5 and all(0 <= r["MAP"] <= 1 for r in rows + base)
