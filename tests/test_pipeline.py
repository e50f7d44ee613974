import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from sampleaudio import pipeline
from sampleaudio.stores import Clip, DatasetInfo, Task, write_dataset

TOY = DatasetInfo("toy", Task("toy", 3, False, 0.5, "accuracy", 1.0))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), length=st.integers(1, 700))
def test_tile_pad_tiles_the_clip(n, length):
    x = np.arange(1, n + 1, dtype=np.float32)
    y = pipeline.tile_pad(tf.constant(x), length).numpy()
    assert y.shape[0] == max(n, length)
    # tiling: sample k is sample k mod n of the clip (never a repeated-sample stretch)
    np.testing.assert_array_equal(y, x[np.arange(y.shape[0]) % n])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 1000), segment=st.integers(1, 300))
def test_segment_clip_covers_non_overlapping_windows(n, segment):
    x = np.arange(n, dtype=np.float32)
    segs = pipeline.segment_clip(tf.constant(x), segment).numpy()
    padded = x[np.arange(max(n, segment)) % n]
    expected = max(n, segment) // segment
    assert segs.shape == (expected, segment)
    np.testing.assert_array_equal(segs.reshape(-1), padded[: expected * segment])


def test_clip_average_groups_by_clip():
    scores = np.array([[1.0], [3.0], [10.0], [0.0], [2.0]])
    ids, avg = pipeline.clip_average(scores, np.array([0, 0, 1, 2, 2]))
    np.testing.assert_array_equal(ids, [0, 1, 2])
    np.testing.assert_allclose(avg[:, 0], [2.0, 10.0, 1.0])


class ArangeLoader:
    """Clip k holds the ramp ``0.06 k + 5e-5 arange(n)`` (distinct, so crops can be located)."""

    def __call__(self, clip):
        k, n = map(int, clip.source.split(":"))
        return (k * 0.06 + np.arange(n) * 5e-5).astype(np.float32)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("store")
    clips = [Clip(f"c{k:02d}", "train" if k < 12 else "test", (k % 3,), f"{k}:{300 + 50 * k}") for k in range(15)]
    clips.append(Clip("short", "test", (1,), "14:40"))
    write_dataset(clips, out, info=TOY, labels=["a", "b", "c"], converter="test", converter_version="0",
                  loader=ArangeLoader(), clips_per_shard=4, progress=False)
    return out


def test_train_dataset_is_deterministic_when_seeded(store):
    def take(seed):
        ds = pipeline.train_dataset(store, segment=100, batch_size=5, seed=seed, mean=0.0, std=1.0)
        return [x.numpy() for x, _ in ds.take(6)]

    a, b, c = take(7), take(7), take(8)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))


def test_train_crops_are_contiguous_windows_of_a_clip(store):
    ds = pipeline.train_dataset(store, segment=100, batch_size=4, seed=1, mean=0.0, std=1.0)
    for x, y in ds.take(5):
        assert x.shape == (4, 100, 1) and y.shape == (4, 3)
        for row, lab in zip(x.numpy()[..., 0], y.numpy()):
            k = int(np.floor((row[0] + 2e-5) / 0.06))
            steps = np.diff(row)
            np.testing.assert_allclose(steps, 5e-5, atol=3.1e-5)  # one contiguous window (16-bit quantised)
            assert lab.sum() == 1 and lab.argmax() == k % 3


def test_standardisation_uses_manifest_stats(store):
    from sampleaudio.stores import read_manifest

    m = read_manifest(store)
    raw = next(iter(pipeline.train_dataset(store, segment=100, batch_size=8, seed=3, mean=0.0, std=1.0)))[0]
    std = next(iter(pipeline.train_dataset(store, segment=100, batch_size=8, seed=3)))[0]
    np.testing.assert_allclose(std.numpy(), (raw.numpy() - m.mean) / m.std, rtol=1e-4, atol=1e-4)


def test_eval_dataset_gives_every_segment_grouped_by_clip(store):
    with pytest.warns(UserWarning, match="1 clip"):
        ds = pipeline.eval_dataset(store, "test", segment=100, batch_size=7, mean=0.0, std=1.0)
    xs, ys, idx = [], [], []
    for x, y, i in ds:
        xs.append(x.numpy())
        ys.append(y.numpy())
        idx.append(i.numpy())
    idx = np.concatenate(idx)
    xs = np.concatenate(xs)[..., 0]
    # test clips: k = 12, 13, 14 with 900, 950, 1000 samples -> 9, 9, 10 segments; short (40 samples) -> 1
    counts = np.bincount(idx)
    assert sorted(counts.tolist()) == [1, 9, 9, 10]
    short_rows = xs[idx == np.argmin(counts)]
    base = 14 * 0.06 + np.arange(40) * 5e-5
    np.testing.assert_allclose(short_rows[0], base[np.arange(100) % 40], atol=1 / 32767)
    assert pipeline.count_short_clips(store, "test", 100) == 1
    assert pipeline.count_eval_segments(store, "test", 100) == len(idx) == 29
    assert pipeline.count_eval_segments(store, "test", 100, max_segments=2) == 7


def test_the_trainers_datasets_run_without_the_autotuner():
    """With tf.data's autotuner on, destroying each epoch's iterator waited out the autotuner's sleep (seconds of
    idle CPU after every fit); the trainer turns it off, and the data stay the same."""
    from sampleaudio.pipeline import without_autotune

    ds = tf.data.Dataset.range(10).map(lambda x: x * 2, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    assert ds.options().autotune.enabled is not False
    off = without_autotune(ds.prefetch(tf.data.AUTOTUNE))
    assert off.options().autotune.enabled is False
    assert [int(x) for x in off] == list(range(0, 20, 2))
    arrays = (np.zeros(3), np.ones(3))
    assert without_autotune(arrays) is arrays  # a validation set given as arrays passes through
