"""GTZAN, FMA small and MSD-artist converters on fixtures in the release layouts."""

from collections import Counter

import pytest
from layouts_artist import make_fma, make_gtzan, make_msd_artist_list

from sampleaudio.data_prep import fma, gtzan, msd_artist, msd_tags
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import read_manifest


def test_gtzan_seeded_stratified_split(tmp_path):
    make_gtzan(str(tmp_path), per_genre=10, ext="wav")
    clips, skipped, facts = gtzan.list_clips(str(tmp_path), seed=0)
    assert len(clips) == 100 and not skipped and "seeded" in facts["split_rule"]
    per = Counter((c.labels[0], c.split) for c in clips)
    assert all((per[(g, "train")], per[(g, "valid")], per[(g, "test")]) == (5, 2, 3) for g in range(10))
    assert [c.split for c in gtzan.list_clips(str(tmp_path), seed=0)[0]] == [c.split for c in clips]


def test_gtzan_fault_filtered_lists(tmp_path):
    fixture = make_gtzan(str(tmp_path), per_genre=2, ext="au", lists=True)
    clips, skipped, facts = gtzan.list_clips(str(tmp_path))
    assert "fault-filtered" in facts["split_rule"]
    assert {c.track_id: c.split for c in clips} == fixture["split"]
    assert [s["clip_id"] for s in skipped] == [fixture["left_out"]]
    manifest = gtzan.convert(str(tmp_path), str(tmp_path / "store"), progress=False)
    assert manifest.splits["train"]["clips"] + manifest.splits["valid"]["clips"] + manifest.splits["test"][
        "clips"] == 19
    assert read_manifest(str(tmp_path / "store")).labels == gtzan.GENRES
    with pytest.raises(DatasetLayoutError, match="not a GTZAN folder"):
        gtzan.list_clips(str(tmp_path / "store"))


def test_fma_small_tracks_csv(tmp_path):
    expected = make_fma(str(tmp_path))
    clips, skipped, _ = fma.list_clips(str(tmp_path))
    assert {int(c.track_id): (fma.GENRES[c.labels[0]], c.split) for c in clips} == expected
    assert [s["clip_id"] for s in skipped] == ["155066"] and "not on disk" in skipped[0]["reason"]
    assert all(c.artist_id.isdigit() and c.source.endswith(f"{int(c.track_id):06d}.mp3") for c in clips)
    assert "/fma_small/000/000002.mp3" in clips[0].source
    manifest = fma.convert(str(tmp_path), str(tmp_path / "store"), progress=False)
    assert manifest.splits["train"]["clips"] == 16 and manifest.labels == fma.GENRES
    with pytest.raises(DatasetLayoutError, match="tracks.csv"):
        fma.list_clips(str(tmp_path / "store"))


def test_msd_artist_list_split(tmp_path):
    fixture = make_msd_artist_list(str(tmp_path))
    clips, skipped, artists = msd_artist.list_clips(str(tmp_path))
    assert artists == fixture["artists"] and len(clips) == 60
    for a in artists:
        mine = [c for c in clips if c.artist_id == a]
        assert [c.split for c in mine] == ["train"] * 15 + ["valid"] * 3 + ["test"] * 2
    reasons = Counter(s["reason"].split(" ")[0] for s in skipped)
    assert reasons == {"artist": 5, "beyond": 1}
    manifest = msd_artist.convert(str(tmp_path), str(tmp_path / "store"), progress=False)
    assert manifest.splits["test"]["clips"] == 6 and manifest.labels == artists
    from sampleaudio.families.artist_cnn.siamese import load_artist_songs

    songs = load_artist_songs(str(tmp_path / "store"), "valid")  # artist ids travel in the records
    assert songs.artists == artists and list(songs.counts) == [3, 3, 3]


def test_msd_tags_label_the_artist_songs_with_their_top_tags(tmp_path):
    import pandas as pd

    make_msd_artist_list(str(tmp_path))
    with pytest.raises(DatasetLayoutError, match="no 'tags' column"):
        msd_tags.tag_clips(str(tmp_path))
    table = pd.read_csv(tmp_path / "artist_list.csv", dtype=str)
    # artist 0's songs: "Rock; indie"; artist 1's: "jazz"; artist 2's: one song untagged, the others "jazz;rare"
    table["tags"] = [{"Artist 0": "Rock; indie", "Artist 1": "jazz"}.get(a, "jazz;rare") for a in table.artist]
    table.loc[table.song_id == "TR02000", "tags"] = ""
    table.to_csv(tmp_path / "artist_list.csv", index=False)
    clips, skipped, vocab = msd_tags.tag_clips(str(tmp_path), num_tags=3)
    assert vocab == ["indie", "jazz", "rock"]  # "rare" (19 songs) is the least frequent: out of the top 3
    artist_clips, _, _ = msd_artist.list_clips(str(tmp_path))
    by_id = {c.clip_id: c for c in artist_clips}
    assert len(clips) == 59 and [s["clip_id"] for s in skipped if "top 3" in s["reason"]] == ["TR02000"]
    for c in clips:  # the same songs and split as msd-artist, tag labels
        assert (c.split, c.artist_id) == (by_id[c.clip_id].split, by_id[c.clip_id].artist_id)
        assert [vocab[i] for i in c.labels] == {"Artist 0": ["indie", "rock"]}.get(c.artist_id, ["jazz"])
    manifest = msd_tags.convert(str(tmp_path), str(tmp_path / "store"), progress=False)
    assert manifest.multi_label and manifest.dataset == "msd-tags" and len(manifest.labels) == 4
