"""The metric-learning sampler: positives share the anchor's artist, negatives never do, seeded."""

import numpy as np
import pytest

from sampleaudio.errors import ParameterError
from sampleaudio.families.artist_cnn.siamese import ArtistSongs, siamese_dataset


def _songs():
    # song s of artist a is a constant signal (a * 10 + s) / 1000, lengths vary (one is shorter than a crop)
    audio, artists = [], []
    for a in range(4):
        for s in range(3):
            audio.append(np.full(50 + 10 * s + a, (a * 10 + s) / 1000, np.float32))
            artists.append(f"artist{a}")
    return ArtistSongs(audio, artists)


def _decode(x):
    code = np.rint(x[..., 0] * 1000).astype(int)  # every sample of a crop comes from one song
    assert np.all(code == code[..., :1])
    return code[..., 0] // 10, code[..., 0] % 10  # (artist, song)


def test_triplets_respect_artists_and_are_seeded():
    songs = _songs()
    ds = siamese_dataset(songs, segment=55, batch_size=8, num_negatives=3, seed=5, num_examples=64)
    batches = list(ds.as_numpy_iterator())
    assert len(batches) == 8
    x, y = batches[0]
    assert len(x) == 5 and x[0].shape == (8, 55, 1) and y.shape == (8, 4)
    seen_pos = set()
    for x, _ in batches:
        (aa, asong), (pa, psong) = _decode(x[0]), _decode(x[1])
        assert np.all(aa == pa) and np.all(asong != psong)
        seen_pos.update(zip(asong.tolist(), psong.tolist()))
        for neg in x[2:]:
            na, _ = _decode(neg)
            assert np.all(na != aa)
    assert len(seen_pos) == 6  # every ordered pair of distinct songs of an artist occurs
    again = list(siamese_dataset(songs, segment=55, batch_size=8, num_negatives=3, seed=5,
                                 num_examples=64).as_numpy_iterator())
    for (x1, _), (x2, _) in zip(batches, again):
        for a, b in zip(x1, x2):
            np.testing.assert_array_equal(a, b)
    other = next(siamese_dataset(songs, segment=55, batch_size=8, num_negatives=3, seed=6).as_numpy_iterator())
    assert any(not np.array_equal(a, b) for a, b in zip(other[0], batches[0][0]))


def test_bad_inputs_are_clear():
    with pytest.raises(ParameterError, match="at least 2 songs"):
        ArtistSongs([np.zeros(10), np.zeros(10), np.zeros(10)], ["a", "a", "b"])
    with pytest.raises(ParameterError, match="artist_id"):
        ArtistSongs([np.zeros(10), np.zeros(10)], ["a", ""])
    with pytest.raises(ParameterError, match="at least 2 artists"):
        ArtistSongs([np.zeros(10), np.zeros(10)], ["a", "a"])
