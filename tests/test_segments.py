"""The one input path (sampleaudio.segments): the TF and numpy cuts and pools agree, the card's fields default for
old cards, and the pipeline's evaluation, the Tagger and the exported SavedModel score the same audio alike."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from sampleaudio import segments
from sampleaudio.errors import DatasetLayoutError, ParameterError
from sampleaudio.segments import InputSpec

pytestmark = pytest.mark.filterwarnings("ignore:.*tile-padded:UserWarning")

LENGTHS = (1, 37, 100, 101, 250, 1000, 1234)


@pytest.mark.parametrize("chunking", segments.CHUNKINGS)
def test_tf_numpy_and_batched_cuts_are_the_same_windows(chunking):
    segment, chunks = 100, 4
    clips = [np.arange(n, dtype=np.float32) + 1000 * k for k, n in enumerate(LENGTHS)]
    width = max(LENGTHS)
    wave = np.zeros((len(clips), width), np.float32)
    for i, c in enumerate(clips):
        wave[i, :len(c)] = c
    flat, rows, count = segments.batch_segments(tf.constant(wave), tf.constant(LENGTHS, tf.int64), segment,
                                                chunking=chunking, chunks=chunks)
    flat, rows = flat.numpy(), rows.numpy()
    for k, clip in enumerate(clips):
        ours = segments.clip_segments(tf.constant(clip), segment, chunking=chunking, chunks=chunks).numpy()
        theirs = segments.clip_segments_np(clip, segment, chunking=chunking, chunks=chunks)
        starts = segments.segment_starts_np(len(clip), segment, chunking=chunking, chunks=chunks)
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(flat[rows == k], theirs)
        assert count.numpy()[k] == len(theirs) == len(starts)
        tiled = clip[np.arange(max(len(clip), segment) + segment * chunks) % len(clip)]
        np.testing.assert_array_equal(theirs, np.stack([tiled[s:s + segment] for s in starts]))
        if chunking == "consecutive":
            assert len(theirs) == max(len(clip), segment) // segment
            assert np.all(starts == np.arange(len(starts)) * segment)
        else:  # Won 2020: hop = (length - segment) // chunks, the last chunk inside the (tiled) clip
            assert len(theirs) == chunks and starts[-1] + segment <= max(len(clip), segment)
    np.testing.assert_array_equal(
        segments.clip_segments(tf.constant(clips[-1]), segment, max_segments=3).numpy(),
        segments.clip_segments_np(clips[-1], segment, max_segments=3))


@pytest.mark.parametrize("pooling", segments.POOLINGS)
def test_tf_and_numpy_pooling_agree(pooling):
    rng = np.random.default_rng(0)
    values = rng.standard_normal((7, 5, 3)).astype(np.float32)  # segments with a time axis
    rows = np.array([0, 0, 0, 1, 2, 2, 1])
    pooled = segments.pool_segments(tf.constant(values), tf.constant(rows), 3, pooling).numpy()
    ids, expected = segments.pool_np(values, rows, pooling)
    np.testing.assert_allclose(pooled, expected, rtol=1e-6, atol=1e-6)
    per_segment = values.max(axis=1) if pooling == "max-then-mean" else values.mean(axis=1)
    first = per_segment[[0, 3, 4]]
    mean = np.stack([per_segment[rows == k].mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(expected, first if pooling == "first" else mean, rtol=1e-6)
    np.testing.assert_array_equal(ids, [0, 1, 2])


def test_input_spec_of_an_old_card_takes_the_defaults_and_bad_fields_are_refused():
    spec = InputSpec.from_card({"labels": ["a"], "segment": 729, "mean": 0.1, "std": 0.2})
    assert (spec.sample_rate, spec.chunking, spec.chunks, spec.pooling, spec.embedding_layer) == (
        22050, "consecutive", 16, "mean", None)
    card = {"segment": 59049, "mean": 0.0, "std": 1.0, "sample_rate": 16000, "chunking": "evenly-spaced",
            "chunks": 16, "clip_pooling": "max-then-mean", "embedding_layer": "x"}
    assert InputSpec.from_card(card).card_fields() == card
    for bad in ({"chunking": "random"}, {"clip_pooling": "median"}, {"chunks": 0}, {"std": 0.0}):
        with pytest.raises(ParameterError, match=next(iter(bad)).replace("clip_", "")):
            InputSpec.from_card({**card, **bad})
    assert segments.standardise_np(np.array([1.0, 3.0]), 1.0, 2.0).tolist() == [0.0, 1.0]


# ------------------------------------------------------------- the same clip scores everywhere (and old cards)

SEGMENT = 2400


class RampLoader:
    """Clip k: a noisy tone of ``n`` samples (source ``'k:n'``)."""

    def __call__(self, clip):
        k, n = map(int, clip.source.split(":"))
        rng = np.random.default_rng(k)
        t = np.arange(n) / 22050
        return (0.4 * np.sin(2 * np.pi * (300 + 500 * k) * t) + 0.05 * rng.standard_normal(n)).astype(np.float32)


@pytest.fixture(scope="module")
def short_long_store(tmp_path_factory):
    """Test clips shorter than a segment (tiled) and several segments long (with a remainder)."""
    from sampleaudio.data_prep import get_info
    from sampleaudio.stores import Clip, write_dataset

    out = tmp_path_factory.mktemp("shortlong")
    lengths = [2300, 5000, 9000, 1000, 3000]
    clips = [Clip(f"c{k}", "test" if k < 3 else "train", (k % 2,), f"{k}:{n}") for k, n in enumerate(lengths)]
    clips.append(Clip("v", "valid", (0,), "9:500"))
    write_dataset(clips, out, info=get_info("speech-commands"), labels=["low", "high"], converter="test",
                  converter_version="0", loader=RampLoader(), progress=False)
    return str(out)


def _tiny_model():
    keras.utils.set_random_seed(1)
    inp = keras.Input((SEGMENT, 1))
    x = keras.layers.Conv1D(4, 27, strides=9, activation="relu", name="conv")(inp)
    x = keras.layers.GlobalMaxPooling1D()(x)
    x = keras.layers.Dense(6, activation="relu", name="penultimate")(x)
    return keras.Model(inp, keras.layers.Dense(2, activation="sigmoid")(x))


def _clips(store):
    from sampleaudio.pipeline import read_clips

    return [ex["audio"] for ex in read_clips(store, "test").as_numpy_iterator()]


@pytest.mark.parametrize("chunking", segments.CHUNKINGS)
def test_pipeline_tagger_and_saved_model_give_the_same_clip_scores(short_long_store, tmp_path, chunking):
    from sampleaudio.evaluate import predict_clips
    from sampleaudio.export import export_model
    from sampleaudio.inference import Tagger

    model = _tiny_model()
    card = {"labels": ["low", "high"], "segment": SEGMENT, "mean": 0.01, "std": 0.3, "sample_rate": 22050,
            "chunking": chunking, "chunks": 5, "clip_pooling": "mean", "embedding_layer": "penultimate"}
    clips = _clips(short_long_store)
    assert min(map(len, clips)) < SEGMENT < 3 * SEGMENT < max(map(len, clips))

    _, evaluated = predict_clips(model, short_long_store, "test", segment=SEGMENT, mean=0.01, std=0.3,
                                 chunking=chunking, chunks=5)
    results = Tagger.from_card(model, card).tag(clips)
    tagged = np.stack([r.scores for r in results])
    for r, c in zip(results, clips):  # the taggram's times are where the card's chunking put each segment
        starts = segments.segment_starts_np(len(c), SEGMENT, chunking=chunking, chunks=5)
        np.testing.assert_allclose(r.times, starts / 22050)
    export = export_model(model, card, str(tmp_path / "m" / "1"))
    wave = np.zeros((len(clips), max(map(len, clips))), np.float32)
    for i, c in enumerate(clips):
        wave[i, :len(c)] = c
    serve = tf.saved_model.load(export).signatures["serving_default"]
    served = serve(waveform=tf.constant(wave), length=tf.constant([len(c) for c in clips], tf.int64))

    from sampleaudio.pipeline import count_eval_segments, eval_dataset

    yielded = sum(int(x.shape[0]) for x, _, _ in eval_dataset(short_long_store, "test", segment=SEGMENT, batch_size=4,
                                                               chunking=chunking, chunks=5))
    assert count_eval_segments(short_long_store, "test", SEGMENT, chunking=chunking, chunks=5) == yielded
    np.testing.assert_allclose(tagged, evaluated, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(served["probabilities"].numpy(), evaluated, rtol=1e-5, atol=1e-6)
    expected_segments = [5] * 3 if chunking == "evenly-spaced" else [max(len(c), SEGMENT) // SEGMENT for c in clips]
    assert served["num_segments"].numpy().tolist() == expected_segments
    with open(os.path.join(export, "sampleaudio.json")) as f:
        assert json.load(f)["chunking"] == chunking


def test_max_then_mean_pools_a_time_axis_alike_in_the_tagger_and_the_saved_model(short_long_store, tmp_path):
    """Park 2018's song feature: a conv layer's output, max over time per segment, mean over segments."""
    from sampleaudio.export import export_model
    from sampleaudio.inference import Tagger

    model = _tiny_model()
    card = {"labels": ["low", "high"], "segment": SEGMENT, "mean": 0.0, "std": 0.3, "embedding_layer": "conv",
            "clip_pooling": "max-then-mean"}
    clips = _clips(short_long_store)
    embedded = np.stack([r.embedding for r in Tagger.from_card(model, card).embed(clips)])
    conv = keras.Model(model.input, model.get_layer("conv").output)
    expected = [np.asarray(conv(segments.clip_segments_np(c, SEGMENT)[..., None] / 0.3)).max(axis=1).mean(axis=0)
                for c in clips]
    np.testing.assert_allclose(embedded, np.stack(expected), rtol=1e-5, atol=1e-6)
    wave = np.zeros((len(clips), max(map(len, clips))), np.float32)
    for i, c in enumerate(clips):
        wave[i, :len(c)] = c
    embed = tf.saved_model.load(export_model(model, card, str(tmp_path / "e" / "1"))).signatures["embed"]
    served = embed(waveform=tf.constant(wave), length=tf.constant([len(c) for c in clips], tf.int64))
    np.testing.assert_allclose(served["embedding"].numpy(), embedded, rtol=1e-5, atol=1e-6)


def test_a_run_with_an_old_card_still_evaluates_tags_and_exports(short_long_store, tmp_path):
    """A finished run folder whose card predates the input-path fields (sample rate, chunking, pooling, embedding
    layer) reads them as their defaults everywhere."""
    import dataclasses
    import shutil

    from sampleaudio.chunk_eval import evaluate_run_chunked
    from sampleaudio.config import DataConfig, ExperimentConfig
    from sampleaudio.data_prep import task_for
    from sampleaudio.evaluate import evaluate_run
    from sampleaudio.export import export_run
    from sampleaudio.inference import Tagger
    from sampleaudio.runs import read_model_card

    run = tmp_path / "run"
    run.mkdir()
    model = _tiny_model()
    model.save(run / "best.keras")
    config = ExperimentConfig(name="old", data=DataConfig(data_dir=short_long_store, segment=SEGMENT))
    (run / "config.json").write_text(json.dumps(config.to_dict()))
    old_card = {"labels": ["low", "high"], "task": dataclasses.asdict(task_for("speech-commands", 2)),
                "segment": SEGMENT, "mean": 0.0, "std": 0.25, "dataset": "speech-commands", "synthetic": False,
                "architecture": "samplecnn"}
    (run / "model_card.json").write_text(json.dumps(old_card))
    (run / "final_metrics.json").write_text("{}")

    card = read_model_card(str(run))
    assert {k: card[k] for k in ("sample_rate", "chunking", "chunks", "clip_pooling")} == {
        "sample_rate": 22050, "chunking": "consecutive", "chunks": 16, "clip_pooling": "mean"}
    result = evaluate_run(str(run), "test")
    assert 0.0 <= result["accuracy"] <= 1.0
    assert evaluate_run_chunked(str(run), "test", count=4)["chunks"] == 4
    other = tmp_path / "at16k"
    shutil.copytree(short_long_store, other)
    manifest = json.loads((other / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps({**manifest, "sample_rate": 16000}))
    with pytest.raises(DatasetLayoutError, match="16000 Hz audio but run .* 22050 Hz"):
        evaluate_run(str(run), "test", data_dir=str(other))  # the rate is the store's and the card's
    clips = _clips(short_long_store)
    tagger = Tagger.from_path(str(run))
    scores = np.stack([r.scores for r in tagger.tag(clips)])
    served = tf.saved_model.load(export_run(str(run), str(tmp_path / "serve" / "1"))).signatures["serving_default"]
    wave = np.zeros((len(clips), max(map(len, clips))), np.float32)
    for i, c in enumerate(clips):
        wave[i, :len(c)] = c
    out = served(waveform=tf.constant(wave), length=tf.constant([len(c) for c in clips], tf.int64))
    np.testing.assert_allclose(out["probabilities"].numpy(), scores, rtol=1e-5, atol=1e-6)
    assert tagger.embed(clips[:1])[0].embedding.shape == (6,)  # the known name 'penultimate', as before
