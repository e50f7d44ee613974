"""Park 2018's paper profile against the authors' code (``jongpillee/ismir2018-artist``): the schedule behind the
released Siamese model, one random crop per song per epoch for every model, fixed validation crops, and
``run_gtzan_dnn.py``'s linear softmax (Table 3)."""

import math

import numpy as np
import pytest

from sampleaudio import pipeline, schedule
from sampleaudio.config import DataConfig, ExperimentConfig, model_params
from sampleaudio.experiments import park2018
from sampleaudio.families.artist_cnn.linear import linear_softmax_accuracy, train_linear_softmax
from sampleaudio.families.artist_cnn.siamese import ArtistSongs, siamese_dataset
from sampleaudio.objectives.classification import Classification
from sampleaudio.stores import Store


def test_the_paper_schedule_is_the_one_behind_the_released_siamese_model(tmp_path):
    """The release stores SGD(lr=0.1 x 0.2^8, decay=1e-6) after 521,318 iterations: one optimizer whose rate a
    plateau rule (factor 0.2, patience 1) cut 8 times, no fresh optimizer, no reload, a floor at or below
    2.56e-7; 521,318 = 46 epochs of int(170,000 / 15) = 11,333 steps."""
    runs = park2018.configs("paper", str(tmp_path), 0, str(tmp_path))
    assert [keys["model"] for keys, _ in runs] == ["basic", "siamese", "tag"]
    for _, cfg in runs:
        t = cfg.train
        assert (t.schedule, t.optimizer, t.lr, t.momentum, t.time_decay, cfg.data.batch_size) == (
            "plateau", "sgd", 0.1, 0.9, 1e-6, 15)
        stages = schedule.plan(t)
        assert len(stages) == 1 and stages[0].fresh_optimizer and not stages[0].reload_best
        rule = stages[0].plateau
        assert (rule.factor, rule.patience) == (0.2, 1) and rule.min_lr <= 0.1 * 0.2 ** 8
        assert t.patience == 6 and t.max_epochs_per_stage == 1000  # the commented EarlyStopping; epochs=1000
    assert 46 * int(170000 / 15) == 521318 and 521318 % int(150000 / 15) != 0
    public = park2018.configs("paper", str(tmp_path), 0, schedule="public")[0][1].train
    assert (public.schedule, public.num_stages, public.max_epochs_per_stage, public.patience) == (
        "staged", 1, 1000, 1000)
    assert "plateau" in runs[0][1].notes and "one random 129-frame crop per training song" in runs[0][1].notes


def test_every_model_trains_on_one_random_crop_per_song_per_epoch(tone_store, tmp_path):
    """``train_generator_basic``: one ``random.randint(0, T - 129)`` crop of each training song per epoch,
    ``int(songs / 15)`` steps (here ``ceil``: the last batch partial); ``load_valid_basic``: one random crop per
    validation song, drawn once."""
    for keys, cfg in park2018.configs("paper", tone_store, 0, tone_store):
        assert (cfg.data.train_examples, cfg.data.epoch, cfg.data.valid_examples) == (
            "random_crop", "clips", "random_crop"), keys
    store = Store.open(tone_store)
    segment = 700
    cfg = ExperimentConfig(data=DataConfig(data_dir=tone_store, segment=segment, batch_size=15,
                                           train_examples="random_crop", epoch="clips", valid_examples="random_crop"),
                           model=model_params("artist_cnn"))
    objective = Classification(cfg, store, segment=segment, mean=0.0, std=1.0)
    clips = [ex["audio"].numpy() for ex in pipeline.read_clips(tone_store, "train")]
    assert objective.steps_per_epoch() == math.ceil(len(clips) / 15) == 3

    starts = {(c, a[k:k + 8].tobytes()): k for c, a in enumerate(clips) for k in range(a.size - segment + 1)}

    def source(row):  # which clip a crop was cut from, and where
        hits = [(c, starts[c, row[:8].tobytes()]) for c in range(len(clips)) if (c, row[:8].tobytes()) in starts]
        assert len(hits) == 1
        c, k = hits[0]
        np.testing.assert_array_equal(clips[c][k:k + segment], row)
        return hits[0]

    epochs = []
    for seed in (1, 2):
        rows = np.concatenate([x.numpy()[..., 0] for x, _ in objective.train_dataset(seed)])
        assert len(rows) == len(clips)  # the epoch ends after one pass
        epochs.append([source(r) for r in rows])
    for found in epochs:
        assert sorted(c for c, _ in found) == list(range(len(clips)))  # every song once
        assert len({k for _, k in found}) > 5 and any(k % segment for _, k in found)  # random offsets
    assert epochs[0] != epochs[1]  # a new draw every epoch
    val, steps = objective.valid_dataset()
    first, second = ([x.numpy() for x, _ in val] for _ in range(2))
    assert steps == math.ceil(store.splits["valid"]["clips"] / 15) == len(first)
    assert sum(len(b) for b in first) == store.splits["valid"]["clips"]  # one crop per validation song
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)  # drawn once for the whole run


def test_siamese_anchors_are_every_song_once_per_epoch():
    """``train_generator_siamese`` walks the training list: each song is an anchor once per epoch; the fixed
    validation set has one triplet per validation song."""
    audio = [np.full(80, (a * 10 + s) / 1000, np.float32) for a in range(4) for s in range(3)]
    songs = ArtistSongs(audio, [f"artist{a}" for a in range(4) for s in range(3)])
    ds = siamese_dataset(songs, segment=60, batch_size=5, num_negatives=2, seed=3, anchors="each")
    anchors = []
    for x, _ in ds.take(3):  # 15 examples: one pass of 12 songs and the start of the next
        code = np.rint(x[0][..., 0].numpy() * 1000).astype(int)[:, 0]
        anchors += code.tolist()
    assert sorted(anchors[:12]) == sorted(a * 10 + s for a in range(4) for s in range(3))
    fixed = siamese_dataset(songs, segment=60, batch_size=5, num_negatives=2, seed=3, anchors="each",
                            num_examples=12)
    codes = np.concatenate([np.rint(x[0][..., 0].numpy() * 1000).astype(int)[:, 0] for x, _ in fixed])
    assert codes.tolist() == [a * 10 + s for a in range(4) for s in range(3)]


def _separable(n, rng, shift=0.0):
    labels = np.arange(n) % 3
    x = rng.standard_normal((n, 4)).astype(np.float32) * 0.3
    x[np.arange(n), labels] += 2.0 + shift
    return x, labels


def test_the_linear_softmax_is_run_gtzan_dnns():
    """One batch of ``SGD(0.01, momentum=0.9, nesterov=True, decay=1e-6)`` on a Glorot-initialised softmax, by hand
    (Keras 2: ``v = 0.9 v - lr_t g``, ``w += 0.9 v - lr_t g``); then: every training song is fitted (none held
    out), and training stops at the 9th epoch in a row without a new best validation loss (Keras 2.0.8's
    ``EarlyStopping(patience=8)``), returning the best epoch's weights."""
    rng = np.random.default_rng(0)
    x, y = _separable(16, rng)
    clf = train_linear_softmax(x, y, x, y, seed=7, max_epochs=1)
    mean, std = float(x.mean()), float(x.std())
    xs = (x - mean) / std
    r = np.random.default_rng(7)
    limit = np.sqrt(6.0 / (4 + 3))
    w0 = r.uniform(-limit, limit, (4, 3)).astype(np.float32)
    order = r.permutation(16)
    z = xs[order] @ w0
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    g = xs[order].T @ ((p - np.eye(3)[y[order]]) / 16)
    v = -0.01 * g
    np.testing.assert_allclose(clf.kernel, w0 + 0.9 * v - 0.01 * g, rtol=1e-5, atol=1e-7)
    assert (clf.mean, clf.std) == pytest.approx((mean, std))  # one scalar over the whole training matrix
    # a validation split whose labels disagree with training: its loss is best after the first epoch and never
    # again, so training runs 1 + 9 epochs and keeps the first epoch's weights
    xt, yt = _separable(60, rng)
    xv, yv = _separable(30, rng)
    clf = train_linear_softmax(xt, yt, xv, (yv + 1) % 3, seed=1)
    assert clf.best_epoch == int(np.argmin(clf.val_losses)) == 0 and clf.epochs == 10
    # the split it is given decides: on agreeing labels it keeps improving much longer
    assert train_linear_softmax(xt, yt, xv, yv, seed=1).epochs > 10
    assert linear_softmax_accuracy(xt, yt, xv, yv, xv, yv, trials=2) == 1.0
