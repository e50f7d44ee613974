"""Extended Ballroom and UrbanSound8K converters on fixtures in their release layouts: labels in the authors'
order, a ``fold`` feature in every record (UrbanSound8K's own 10 folds), the fold-wise split, containment."""

import os
from collections import Counter

import numpy as np
import pytest
from layouts_choi2017 import make_ballroom, make_urbansound8k

from sampleaudio.data_prep import ballroom, get_converter, urbansound8k
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.pipeline import read_clips
from sampleaudio.stores import Store
from sampleaudio.transfer import choi2017_folds, read_all


def test_converters_are_discovered():
    assert get_converter("ballroom") is ballroom and get_converter("urbansound8k") is urbansound8k


def test_urbansound8k_keeps_its_ten_folds(tmp_path):
    src = tmp_path / "UrbanSound8K"
    expected = make_urbansound8k(str(src))
    clips, skipped, facts = urbansound8k.list_clips(str(tmp_path))  # the release folder one level down
    assert {c.clip_id: (c.labels[0], c.features["fold"]) for c in clips} == expected
    assert [s["clip_id"] for s in skipped] == ["99999-3-0-0"]
    assert Counter(c.split for c in clips) == {"train": 16, "valid": 2, "test": 2}  # folds 1-8 / 9 / 10
    out = str(tmp_path / "store")
    manifest = urbansound8k.convert(str(tmp_path), out, progress=False)
    assert manifest.labels == urbansound8k.CLASSES and manifest.sample_rate == 22050
    store = Store.open(out)
    assert [f.name for f in store.declared_features] == ["fold"]
    stored = {ex["clip_id"].decode(): int(ex["fold"]) for split in ("train", "valid", "test")
              for ex in read_clips(store, split).as_numpy_iterator()}
    assert stored == {k: fold for k, (_, fold) in expected.items()}
    target = read_all(out)
    assert len(target.audio) == 20 and sorted(target.folds.tolist()) == sorted(f for _, f in expected.values())
    assert list(target.labels.argmax(1)) == sorted(target.labels.argmax(1))  # in class order
    assert {i: int(f) for i, f in zip(target.ids, target.folds)} == {k: f for k, (_, f) in expected.items()}
    with pytest.raises(DatasetLayoutError, match="UrbanSound8K.csv"):
        urbansound8k.list_clips(str(tmp_path / "store"))


def test_ballroom_labels_in_the_authors_order_and_folds_of_the_unshuffled_cv(tmp_path):
    expected = make_ballroom(str(tmp_path / "ballroom_extended_2016"))
    clips, skipped, facts = ballroom.list_clips(str(tmp_path))
    assert not skipped and {c.clip_id: c.labels[0] for c in clips} == expected
    assert ballroom.STYLES[-1] == "Quickstep" and ballroom.STYLES[:2] == ["Chacha", "Foxtrot"]
    chacha = [c for c in clips if c.labels[0] == 0]
    assert [c.track_id for c in chacha] == sorted(c.track_id for c in chacha)  # id order within a style
    assert [c.features["fold"] for c in chacha] == [1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10]  # 12 clips, 10 folds
    assert [c.split for c in chacha][-2:] == ["valid", "test"]
    assert [c.features["fold"] - 1 for c in clips] == choi2017_folds([c.labels[0] for c in clips]).tolist()
    manifest = ballroom.convert(str(tmp_path), str(tmp_path / "store"), progress=False)
    assert manifest.labels == ballroom.STYLES and sum(s["clips"] for s in manifest.splits.values()) == 48


def test_a_file_linked_from_outside_src_is_skipped(tmp_path):
    src = tmp_path / "src"
    make_urbansound8k(str(src), per_fold=1)
    outside = tmp_path / "elsewhere.wav"
    target = next((src / "audio" / "fold3").iterdir())
    os.replace(target, outside)
    os.symlink(outside, target)
    clips, skipped, _ = urbansound8k.list_clips(str(src))
    assert target.stem not in {c.clip_id for c in clips}
    assert any(s["clip_id"] == target.stem and "outside --src" in s["reason"] for s in skipped)
    assert np.all([c.source.startswith(str(src)) for c in clips])
