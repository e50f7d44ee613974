import json
import os

import numpy as np
import pytest

from sampleaudio import pipeline
from sampleaudio.baselines import mfcc_baseline
from sampleaudio.data_prep import speech_commands
from sampleaudio.data_prep.synthetic import ensure, mini_dcase, mini_mtat, mini_speech_commands
from sampleaudio.data_prep.synthetic.render import Note, instrument_tag, render_notes
from sampleaudio.stores import read_index, read_manifest


def _tree(path):
    return {n: open(os.path.join(path, n), "rb").read() for n in sorted(os.listdir(path))}


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("mini")
    out = {}
    for name in ("mini-speech-commands", "mini-dcase", "mini-mtat"):
        out[name] = ensure(name, size="small", seed=0, root=str(root), workers=1, progress=False)
    return out


@pytest.mark.parametrize("module", [mini_speech_commands, mini_dcase, mini_mtat])
def test_same_seed_gives_identical_shards(module, stores, tmp_path):
    again = tmp_path / "again"
    module.convert(str(again), size="small", seed=0, workers=2, progress=False)  # also: workers don't matter
    assert _tree(again) == _tree(stores[module.NAME])
    other = module.plan("small", seed=1)
    first = module.plan("small", seed=0)
    clips = first[0] if isinstance(first, tuple) else first
    other = other[0] if isinstance(other, tuple) else other
    assert [c.source for c in clips] != [c.source for c in other]


def test_an_utterance_depends_on_its_recipe_alone():
    # The breathy/whispered variants draw noise from the process's rand(): before it was seeded per utterance,
    # a clip synthesised after others differed from the same clip synthesised first (210 of the 2,240 default
    # clips differed between two generations).
    from sampleaudio.data_prep.synthetic.espeak import Speaker, synthesize

    clips = mini_speech_commands.plan("default", seed=0)
    load = mini_speech_commands.MiniSpeechLoader()
    breathy = next(c for c in clips if '"variant": "f2"' in c.source)
    first = load(breathy)
    for clip in clips[:100]:
        load(clip)
    np.testing.assert_array_equal(load(breathy), first)
    whisper = Speaker("en-US", "whisper", 50, 50, 175)
    assert not np.array_equal(synthesize("go", whisper, seed=7)[0], synthesize("go", whisper, seed=8)[0])


def test_speech_proxy_is_speaker_disjoint_and_shaped_like_the_real_dataset(stores):
    m = read_manifest(stores["mini-speech-commands"])
    assert m.labels == speech_commands.WORDS and not m.multi_label and "synthetic" in m.extra
    index = read_index(stores["mini-speech-commands"])
    speakers = {s: {c.split("/")[1].split("_nohash_")[0] for c in index[index.split == s].clip_id}
                for s in ("train", "valid", "test")}
    assert not (speakers["train"] & speakers["test"]) and not (speakers["train"] & speakers["valid"])
    assert (index.num_samples == 22050).all()
    counts = index.groupby("split").size()
    assert counts["train"] == 4 * 35 and counts["valid"] == 35 and counts["test"] == 35


def test_dcase_proxy_has_weak_multi_labels_of_17_classes(stores):
    m = read_manifest(stores["mini-dcase"])
    assert m.multi_label and len(m.labels) == 17
    index = read_index(stores["mini-dcase"])
    n_labels = index.labels.str.split().map(len)
    assert n_labels.min() >= 1 and n_labels.max() <= 3 and (n_labels > 1).any()
    assert (index.num_samples == 220500).all()


def test_mtat_proxy_tags_come_from_provenance(stores):
    m = read_manifest(stores["mini-mtat"])
    clips, vocab = mini_mtat.plan("small", 0)
    assert m.labels == vocab and 10 <= len(vocab) <= 50
    for c in clips:
        recipe = json.loads(c.source)
        tags = {vocab[i] for i in c.labels}
        for p in recipe["programs"]:
            if instrument_tag(p) in vocab:
                assert instrument_tag(p) in tags
        if recipe["solo"] and "solo" in vocab:
            assert "solo" in tags
        if recipe["piece"].startswith("bach/") and "chorale" in vocab:
            assert "chorale" in tags
    # one clip per piece, so no score is in two splits
    pieces = [json.loads(c.source)["piece"] for c in clips]
    assert len(pieces) == len(set(pieces))
    # the catalogue reads real dance types from the ABC R: headers
    dances = [p for p in mini_mtat.catalog() if p.collection == "dance"]
    assert {"reel", "jig", "hornpipe"} <= {t for p in dances for t in p.styles}
    # tag frequencies are skewed, as real tags are
    counts = np.bincount([i for c in clips for i in c.labels], minlength=len(vocab))
    assert counts.max() >= 4 * max(1, counts.min())


def test_renderer_is_deterministic_and_audible():
    notes = [Note(0.0, 0.5, 60, 100, 0), Note(0.25, 0.5, 64, 90, 40), Note(0.5, 0.1, 38, 100, 0, drums=True)]
    a, b = render_notes(notes, 1.0), render_notes(notes, 1.0)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (22050,) and np.abs(a).max() > 0.01


def test_every_dcase_gesture_makes_sound():
    for i, gesture in enumerate(mini_dcase.GESTURES):
        audio = render_notes(gesture(np.random.default_rng(i)), 6.0)
        assert np.sqrt(np.mean(audio ** 2)) > 1e-3, mini_dcase.CLASSES[i]


def test_proxies_flow_through_the_pipeline(stores):
    for name, segment in (("mini-speech-commands", 22050), ("mini-dcase", 22050), ("mini-mtat", 59049)):
        x, y = next(iter(pipeline.train_dataset(stores[name], segment=segment, batch_size=4, seed=0)))
        assert x.shape == (4, segment, 1) and np.isfinite(x.numpy()).all()


def test_mfcc_baseline_beats_chance_on_the_speech_proxy(stores):
    result = mfcc_baseline(stores["mini-speech-commands"])
    # the small set has 4 training speakers and 35 test clips: 3x chance is already P < 0.02 by luck
    assert result["accuracy"] > 3 * result["chance_accuracy"]
    assert result["roc_auc"] > 0.65
    assert result["accuracy"] < 1.0


def test_dcase_events_fill_their_span():
    """v1.1: an event repeats its gesture over its 3-8 s span, so 1-s training segments hold it."""
    clips = mini_dcase.plan("small", seed=0)
    events = [e for c in clips for e in json.loads(c.source)["events"]]
    for e in events[:12]:
        lo, hi = mini_dcase.EVENT_SPAN
        assert lo <= e["span"] <= hi and 0 <= e["onset"] <= mini_dcase.CLIP_SECONDS - e["span"]
        notes = mini_dcase.repeat_gesture(e)
        starts = sorted(n.start for n in notes)
        assert starts[0] == 0.0 and starts[-1] < e["span"]
        assert max(n.start + n.length for n in notes) >= 0.6 * e["span"]  # sounding across most of the span
        audio = render_notes(notes, mini_dcase.CLIP_SECONDS)
        second = 22050
        active = [np.sqrt(np.mean(audio[k * second:(k + 1) * second] ** 2)) > 1e-3
                  for k in range(int(e["span"]))]
        assert np.mean(active) >= 0.5, (mini_dcase.CLASSES[e["class"]], active)


def test_shared_proxy_helpers_keep_the_old_outputs():
    """The proxies' shared helpers (``signals``, ``scores``) give what the proxy modules that used to
    hold them gave: the values below were printed by the old ``mini_speech_commands.colored_noise``,
    ``mini_mtat._tags`` and ``MiniMTATLoader._notes``, so the demo's cached stores stay valid."""
    from sampleaudio.data_prep.synthetic import scores, signals

    pinned = {"white": [0.40272, 0.957456, 0.385068, -1.518608], "pink": [0.10609, 0.759363, 0.25635, -0.964003],
              "brown": [-0.257075, 0.261763, 0.06491, -0.398694]}
    for kind, first in pinned.items():
        np.testing.assert_allclose(signals.colored_noise(64, kind, np.random.default_rng(1))[:4], first, atol=2e-6)
    assert mini_speech_commands.colored_noise is signals.colored_noise and mini_mtat.catalog is scores.catalog
    piece = scores.Piece("bach/bwv1.6.mxl", "bach", ("chorale", "baroque"), True, (56, 96))
    assert scores.provenance_tags(piece, {"programs": [19, 52], "drums": True, "solo": False, "bpm": 160,
                                          "velocity": 45}) == \
        ["baroque", "choir", "chorale", "drums", "fast", "organ", "quiet", "vocal"]
    notes = scores.loop_notes([([(0.0, 1.0, 60), (1.0, 0.5, 20)], 19, -12)], 0.5, 3.0, 2.0, 0.5, 70,
                              np.random.default_rng(3))
    assert notes == [Note(0.25, 0.2375, 32, 75, 19), Note(0.75, 0.475, 48, 63, 19), Note(1.25, 0.2375, 32, 65, 19)]
    drums = scores.drum_pattern(1.5, 0.5, 70)
    assert [(n.start, n.key, n.velocity) for n in drums] == [(0.0, 36, 70), (0.25, 42, 50), (0.5, 38, 70),
                                                             (0.75, 42, 50)]


def test_score_offsets_are_each_notes_offset_in_its_part():
    """score_events reads a note's offset from the flattened part (constant time); it is music21's offset of the
    note in the part's hierarchy, the slow call it replaced (30 % of generating mini-MTAT)."""
    from sampleaudio.data_prep.synthetic import scores

    clips, _ = mini_mtat.plan("small", 0)
    for piece in [json.loads(c.source)["piece"] for c in clips[:6]]:
        score = scores.parse_score(piece)
        events, _ = scores.score_events(score)
        parts = list(score.parts) if hasattr(score, "parts") and len(score.parts) else [score]
        expected = [sorted((float(n.getOffsetInHierarchy(part)), float(n.quarterLength) or 0.25, int(p.midi))
                           for n in part.flatten().notes for p in n.pitches) for part in parts[:4]]
        assert events == [e for e in expected if e] and events


def test_every_dataset_is_its_converters_declaration():
    """The converters are found by their declarations (no hand-kept table): each real dataset's task names its
    proxy, each proxy names the dataset it stands for and what its generator imports."""
    from sampleaudio import migrate
    from sampleaudio.data_prep import (
        get_converter,
        get_info,
        real_datasets,
        synthetic_datasets,
        task_for,
        tasks,
    )
    from sampleaudio.errors import UnknownNameError

    proxy_of = {name: get_info(name).proxy_of for name in synthetic_datasets()}
    # (a new dataset adds itself: these are the ones that must stay)
    assert proxy_of.items() >= {"mini-mtat": "mtat", "mini-speech-commands": "speech-commands",
                                "mini-dcase": "dcase2017", "mini-artists": "msd-artist",
                                "mini-artists-genres": "gtzan", "mini-artists-tags": "msd-tags"}.items()
    assert set(real_datasets()) >= {"mtat", "speech-commands", "dcase2017", "gtzan", "fma-small", "msd-artist",
                                    "msd-tags", "ballroom", "urbansound8k"}
    assert all(get_info(name).requires for name in proxy_of)
    assert all(task_for(proxy) == task_for(real) for proxy, real in proxy_of.items())
    # the frozen table that reads stores written before they recorded their task agrees with today's declarations
    assert {name: tasks()[name] for name in migrate.V2_TASKS} == migrate.V2_TASKS
    with pytest.raises(UnknownNameError, match="unknown dataset 'mtta'; did you mean 'mtat'"):
        get_converter("mtta")
    with pytest.raises(KeyError, match="no task for dataset 'speech-comands'; did you mean 'speech-commands'"):
        task_for("speech-comands")
