"""GTZAN genre collection (Tzanetakis and Cook 2002), as the transfer target of Park et al. (ISMIR 2018).

On-disk layouts accepted (the original tarball and the common WAV re-release)::

    SRC/genres/<genre>/<genre>.000NN.au            10 genre folders of 100 clips (30 s, 22,050 Hz)
    SRC/genres_original/<genre>/<genre>.000NN.wav  (or the genre folders directly under SRC)

Split: the fault-filtered split (Kereliuk, Sturm, Larsen 2015; 443 train / 197 valid / 290 test) when the
user supplies its lists as ``SRC/train_filtered.txt``, ``SRC/valid_filtered.txt`` and ``SRC/test_filtered.txt``
(lines like ``blues/blues.00029.au``; only the file stem is matched, so .au and .wav both work); otherwise a
seeded split stratified by genre in the same 443/197/290 proportions. Clips in no list are left out of the
fault-filtered split (it drops repeated and mislabelled clips) and recorded as skipped. GTZAN has no artist
metadata; ``track_id`` is the clip's stem.
"""

from __future__ import annotations

import os

import numpy as np

from sampleaudio.data_prep import keep_inside_src, require_inside_src
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import Clip, DatasetInfo, Manifest, Task, write_dataset

__all__ = ["NAME", "VERSION", "INFO", "GENRES", "LISTS", "list_clips", "convert"]

NAME = "gtzan"
VERSION = "1.0"
INFO = DatasetInfo(
    NAME,
    # Park 2018's transfer target; no waveform standardisation in Park 2018, so the "paper" constants are 0 / 1
    Task(NAME, num_classes=10, multi_label=False, threshold=0.5, metric="accuracy", clip_seconds=30.0,
         paper_mean=0.0, paper_std=1.0, proxy="mini-artists-genres"),
    description="GTZAN: genres/<genre>/<genre>.000NN.au (+ optional *_filtered.txt split lists); 10 genres",
    citation="Tzanetakis, Cook. Musical genre classification of audio signals. IEEE TSAP 10(5), 2002.",
    homepage="http://marsyas.info/downloads/datasets.html",
)
GENRES = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]
LISTS = {"train": "train_filtered.txt", "valid": "valid_filtered.txt", "test": "test_filtered.txt"}
FRACTIONS = (443 / 930, 197 / 930)  # train, valid; the rest is test
EXTENSIONS = (".au", ".wav", ".mp3", ".flac")


def _genre_root(src: str) -> str:
    for candidate in (os.path.join(src, "genres"), os.path.join(src, "genres_original"), src):
        if os.path.isdir(candidate) and any(os.path.isdir(os.path.join(candidate, g)) for g in GENRES):
            return candidate
    raise DatasetLayoutError(f"'{src}' is not a GTZAN folder: no genre folder ({', '.join(GENRES[:3])}, ...) "
                             "in it, in genres/ or in genres_original/")


def _read_lists(src: str) -> dict[str, str] | None:
    present = {split: os.path.join(src, name) for split, name in LISTS.items()
               if os.path.exists(os.path.join(src, name))}
    if not present:
        return None
    if len(present) != len(LISTS):
        missing = sorted(set(LISTS.values()) - {os.path.basename(p) for p in present.values()})
        raise DatasetLayoutError(f"'{src}' has some fault-filtered split lists but not {missing}")
    stem_split = {}
    for split, path in present.items():
        with open(require_inside_src(src, path)) as f:
            for line in f:
                line = line.strip().replace("\\", "/")
                if line:
                    stem = os.path.splitext(os.path.basename(line))[0]
                    if stem in stem_split:
                        raise DatasetLayoutError(f"'{stem}' is in both {LISTS[stem_split[stem]]} and {LISTS[split]}")
                    stem_split[stem] = split
    return stem_split


def list_clips(src: str, seed: int = 0) -> tuple[list[Clip], list[dict[str, str]], dict]:
    """``(clips, skipped, facts)``; ``facts['split_rule']`` says which split was used."""
    root = _genre_root(src)
    files = {}
    for g in GENRES:
        folder = os.path.join(root, g)
        if not os.path.isdir(folder):
            continue
        files[g] = sorted(f for f in os.listdir(folder) if f.lower().endswith(EXTENSIONS))
    missing = [g for g in GENRES if g not in files]
    lists = _read_lists(src)
    clips, skipped = [], []
    rng = np.random.default_rng(seed)
    for g, names in files.items():
        if lists is None:
            order = rng.permutation(len(names))
            n_train, n_valid = round(FRACTIONS[0] * len(names)), round(FRACTIONS[1] * len(names))
            splits = {names[i]: "train" if r < n_train else "valid" if r < n_train + n_valid else "test"
                      for r, i in enumerate(order)}
        for name in names:
            stem = os.path.splitext(name)[0]
            split = lists.get(stem) if lists is not None else splits[name]
            path = os.path.join(root, g, name)
            if split is None:
                skipped.append({"clip_id": stem, "path": path, "reason": "not in the fault-filtered split lists"})
                continue
            clips.append(Clip(clip_id=f"{g}/{stem}", split=split, labels=(GENRES.index(g),), source=path,
                              track_id=stem))
    if lists is not None:
        found = {c.track_id for c in clips}
        for stem in sorted(set(lists) - found):
            skipped.append({"clip_id": stem, "path": "", "reason": "named in a split list but not on disk"})
    clips, skipped = keep_inside_src(src, clips, skipped)
    rule = ("fault-filtered lists (train/valid/test_filtered.txt)" if lists is not None else
            f"seeded split stratified by genre in the 443/197/290 proportions (seed {seed})")
    return clips, skipped, {"split_rule": rule, "missing_genres": missing}


def convert(src: str, out: str, *, workers: int = 1, progress: bool = True, seed: int = 0) -> Manifest:
    """Convert a GTZAN folder into a TFRecord store at ``out``."""
    clips, skipped, facts = list_clips(src, seed)
    if not clips:
        raise DatasetLayoutError(f"'{src}': no GTZAN clip found")
    return write_dataset(clips, out, info=INFO, labels=GENRES, converter=__name__,
                         converter_version=VERSION, workers=workers, clips_per_shard=256, skipped=skipped,
                         progress=progress, extra=facts)
