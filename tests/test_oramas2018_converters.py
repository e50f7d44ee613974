"""MuMu and MSD-I converters on fixtures in the releases' layouts, the cover checks (each bad cover one line, the
track skipped and listed, nothing else lost; CMYK, greyscale and transparent covers converted and noted), and the
``mini-albums`` proxy's determinism and design."""

from __future__ import annotations

import collections
import io
import os

import numpy as np
import pytest
from layouts_oramas import MSDI_GENRES, MUMU_GENRES, make_msdi, make_mumu, write_cover, write_huge_png

from sampleaudio.data_prep import get_info, msdi, mumu
from sampleaudio.data_prep.albums import MAX_SIDE, cover_note, read_cover
from sampleaudio.errors import DatasetLayoutError, FeatureDecodeError
from sampleaudio.stores import Store, read_manifest


def rgb(data: bytes) -> np.ndarray:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    assert image.mode == "RGB" and image.format in ("JPEG", "PNG")
    return np.asarray(image)


def convert_and_check(converter, make, tmp_path) -> Store:
    """Build the fixture, convert it, check what was kept, skipped (one line each) and noted; the opened store."""
    src, out = tmp_path / "src", tmp_path / "store"
    expect = make(str(src))
    check_outcome(converter.convert(str(src), str(out), progress=False), expect, str(out))
    return Store.open(str(out))


def check_outcome(manifest, expect: dict, store: str) -> None:
    reasons = {s["clip_id"]: s["reason"] for s in manifest.skipped}
    assert set(reasons) == set(expect["skipped"])
    for clip, why in expect["skipped"].items():
        assert why in reasons[clip] and "\n" not in reasons[clip], (clip, reasons[clip])
    kept = set(Store.open(store).index.clip_id)
    assert kept == expect["kept"]
    notes = manifest.extra["cover_notes"]
    for key, what in expect["notes"].items():
        assert sum(key in n and what in n for n in notes) == 1, (key, notes)


def test_mumu_converts_the_release_layout_and_lists_every_bad_album(tmp_path):
    store = convert_and_check(mumu, make_mumu, tmp_path)
    src = tmp_path / "src"
    assert store.labels == MUMU_GENRES and store.multi_label and store.task.proxy == "mini-albums"
    from sampleaudio.pipeline import read_clips

    clips = {ex["clip_id"].decode(): ex for split in store.splits for ex in read_clips(store, split).as_numpy_iterator()}
    first = clips[min(c for c in clips if c.startswith("B00000000/"))]
    assert first["album_id"].decode() == "B00000000"
    assert first["labels"].tolist() == [1, 0, 1, 0]  # Christmas and Pop: multi-label
    with open(src / "images" / "B00000000.jpg", "rb") as f:
        assert bytes(first["cover"]) == f.read()  # an RGB JPEG is stored byte for byte
    cmyk = next(ex for c, ex in clips.items() if c.startswith("BCMYK"))
    alpha = next(ex for c, ex in clips.items() if c.startswith("BALPHA"))
    assert rgb(bytes(cmyk["cover"])).shape == (24, 24, 3)
    assert (rgb(bytes(alpha["cover"]))[:, :4] == 255).all()  # transparent half composited over white
    splits = {ex["album_id"].decode(): ex["split"].decode() for ex in clips.values()}
    assert splits["B00000002"] == "valid" and splits["B00000003"] == "test"  # the authors' split files


def test_mumu_refuses_a_folder_without_the_release_files(tmp_path):
    with pytest.raises(DatasetLayoutError, match="MuMu_dataset_multi-label.csv"):
        mumu.list_clips(str(tmp_path))
    make_mumu(str(tmp_path / "m"), albums=4, bad=False)
    os.remove(tmp_path / "m" / "splits" / "items_index_val_MuMu-albums.tsv")
    with pytest.raises(DatasetLayoutError, match="items_index_val_MuMu-albums.tsv"):
        mumu.list_clips(str(tmp_path / "m"))


def test_msdi_converts_the_release_layout(tmp_path):
    store = convert_and_check(msdi, make_msdi, tmp_path)
    assert not store.multi_label and set(store.labels) <= set(MSDI_GENRES)
    assert read_manifest(str(tmp_path / "store")).extra["split_rule"].startswith("the authors' set column")
    make_msdi(str(tmp_path / "flat"), tracks=4, bad=False, nested_release=False)  # the release file at the top
    assert len(msdi.list_clips(str(tmp_path / "flat"))[0]) == 4


@pytest.mark.parametrize("case,reason", [("text", "not an image"), ("empty", "empty file"),
                                         ("folder", "cannot be read"), ("huge", "megapixel limit"),
                                         ("truncated", "damaged image"), ("missing", "cannot be read")])
def test_a_bad_cover_is_one_line(tmp_path, case, reason):
    path = tmp_path / "cover.png"
    if case == "text":
        path.write_text("<html>")
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "folder":
        path.mkdir()
    elif case == "huge":
        write_huge_png(str(path))
    elif case == "truncated":
        write_cover(str(path), (1, 2, 3), side=64)
        path.write_bytes(path.read_bytes()[:80])
    for check in (read_cover, cover_note):
        if case == "truncated" and check is cover_note:
            continue  # the header is intact: only decoding finds the damage
        with pytest.raises(FeatureDecodeError) as info:
            check(str(path))
        assert reason in info.value.reason and "\n" not in str(info.value)


def test_covers_are_converted_to_rgb_and_bounded(tmp_path):
    from PIL import Image

    big = tmp_path / "big.png"
    Image.new("RGB", (1200, 600), (10, 20, 30)).save(big)
    assert rgb(read_cover(str(big))).shape == (MAX_SIDE // 2, MAX_SIDE, 3)
    assert "scaled down" in cover_note(str(big))
    grey16 = tmp_path / "grey16.png"
    Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16).save(grey16)
    out = rgb(read_cover(str(grey16)))
    assert out.min() == 0 and out.max() == 255 and "greyscale" in cover_note(str(grey16))
    gif = tmp_path / "palette.gif"
    Image.new("P", (8, 8), 3).save(gif)
    assert rgb(read_cover(str(gif))).shape == (8, 8, 3) and cover_note(str(gif))
    plain = tmp_path / "plain.jpg"
    write_cover(str(plain), (5, 6, 7))
    assert cover_note(str(plain)) is None


def test_the_proxy_is_deterministic_multi_label_and_imperfectly_styled():
    from sampleaudio.data_prep.synthetic import mini_albums as m

    pytest.importorskip("music21")
    albums = m.albums("default", 0)
    assert albums == m.albums("default", 0) and albums != m.albums("default", 1)
    np.testing.assert_array_equal(m.draw_cover(albums[3]), m.draw_cover(albums[3]))
    assert not np.array_equal(m.draw_cover(albums[3]), m.draw_cover(albums[4]))
    assert len(albums) == 240 and collections.Counter(a.split for a in albums) == {"train": 144, "valid": 48,
                                                                                    "test": 48}
    assert all(len(a.labels) >= 2 for a in albums)  # a genre and its parent at least
    styles = collections.Counter((a.genre, a.style) for a in albums)
    assert styles[("chorale", "engraving")] > 20 and styles[("renaissance", "engraving")] > 20  # a shared style
    off = sum(a.style != m._style_of(a.genre) for a in albums) / len(albums)
    assert 0.1 < off < 0.3
    holiday = [a for a in albums if "holiday" in a.labels]
    assert 0.1 < len(holiday) / len(albums) < 0.3
    assert np.mean([a.stars for a in holiday]) > 0.7 > np.mean([a.stars for a in albums if a not in holiday]) + 0.5
    artists = collections.defaultdict(set)
    for a in albums:
        artists[a.artist].add(a.split)
    assert all(s == {"train", "valid", "test"} for s in artists.values())  # album splits, artists shared (MuMu)
    info = get_info("mini-albums")
    assert info.proxy_of == "mumu" and {f.name for f in info.features} == {"cover", "album_id"}
