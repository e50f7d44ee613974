"""The mini-artists proxy: stable artist identities, the MSD artist split, disjoint pieces, a genre target set."""

from collections import Counter

import numpy as np
import pytest

pytest.importorskip("music21", reason="needs the `synth` extra")
pytest.importorskip("tinysoundfont", reason="needs the `synth` extra")

from sampleaudio.data_prep.synthetic import mini_artists as ma  # noqa: E402


def test_plans_follow_the_protocol():
    source, target = ma.artists("small", seed=0)
    assert len(source) == 4 and len(target) == 2 * len(ma.GENRES)
    pieces = [p for a in source + target for p in a.pieces]
    assert len(pieces) == len(set(pieces))  # no piece is played by two artists
    clips, labels = ma.plan("small", seed=0)
    assert labels == [a.name for a in source]
    per_artist = Counter((c.artist_id, c.split) for c in clips)
    for a in source:
        assert (per_artist[(a.name, "train")], per_artist[(a.name, "valid")], per_artist[(a.name, "test")]) == (
            15, 3, 2)
    assert all(c.labels == (labels.index(c.artist_id),) for c in clips)
    recipes = [c.source for c in clips if c.artist_id == source[0].name]
    assert all(f'"programs": {list(source[0].programs)}'.replace(" ", "") in r.replace(" ", "") for r in recipes)
    tclips, genres = ma.plan_target("small", seed=0)
    assert genres == sorted(ma.GENRES) and {c.artist_id for c in tclips}.isdisjoint({a.name for a in source})
    assert Counter(c.labels[0] for c in tclips) == Counter({g: 8 for g in range(len(genres))})
    assert Counter(c.split for c in tclips) == Counter({"train": 20, "valid": 10, "test": 10})
    assert ma.plan("small", seed=0)[0] == clips and ma.plan("small", seed=1)[0] != clips  # seeded


def test_a_song_renders_deterministically():
    clips, _ = ma.plan("small", seed=0)
    loader = ma.MiniArtistsLoader()
    a, b = loader(clips[0]), loader(clips[0])
    assert a.shape == (int(ma.SIZES["small"][3] * 22050),) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert 0.01 < float(np.abs(a).max()) <= 1.0


def test_the_tag_proxy_relabels_the_same_songs_with_provenance_tags():
    from sampleaudio.data_prep.synthetic import mini_artists_tags as mat

    clips, _ = ma.plan("small", seed=0)
    tagged, vocab = mat.plan("small", seed=0)
    # same songs, ids, splits, recipes and artists: only the labels differ
    assert [(c.clip_id, c.split, c.source, c.artist_id) for c in tagged] == [
        (c.clip_id, c.split, c.source, c.artist_id) for c in clips]
    assert vocab == sorted(vocab) and len(vocab) <= 50 and all(c.labels for c in tagged)
    source, _ = ma.artists("small", seed=0)
    genre_of = {a.name: a.genre for a in source}
    styles = {"chorale": {"chorale", "baroque"}, "german-folk": {"folk", "german folk"},
              "chinese-folk": {"folk", "chinese"}, "celtic-dance": {"folk", "celtic"}}
    for c in tagged:
        tags = {vocab[i] for i in c.labels}
        assert styles[genre_of[c.artist_id]] <= tags  # the corpus' style tags
        assert ("drums" in tags) == next(a.drums for a in source if a.name == c.artist_id)
    assert mat.plan("small", seed=0) == (tagged, vocab)


def test_the_tag_proxy_copies_the_audio_of_the_artist_store(tmp_path):
    from sampleaudio.data_prep import get_info
    from sampleaudio.data_prep.synthetic import mini_artists_tags as mat
    from sampleaudio.stores import Clip, write_dataset

    source = tmp_path / "artists"
    clips = [Clip("a", "train", (0,), "0", artist_id="x"), Clip("b", "test", (1,), "1", artist_id="y")]
    write_dataset(clips, source, info=get_info("mini-artists"), labels=["x", "y"], converter="test",
                  converter_version="0", loader=lambda c: np.full(100, 0.1 * (1 + int(c.source)), np.float32),
                  progress=False)
    loader = mat.StoreAudio(str(source))
    np.testing.assert_allclose(loader(clips[1]), 0.2, atol=1e-4)
    from sampleaudio.errors import AudioDecodeError

    with pytest.raises(AudioDecodeError, match="no clip 'c'"):
        loader(Clip("c", "train", (0,), "2"))
