"""MuMu (Oramas, Nieto, Barbieri, Serra, ISMIR 2017; Oramas et al., TISMIR 2018): albums in one or more of 250
Amazon genre classes, each track with its album's cover, split as the authors split the albums.

The release (Zenodo 10.5281/zenodo.831189) gives the mapping, the genres and the splits; the covers (Amazon image
URLs in ``amazon_metadata_MuMu.json``) and the audio (Million Song Dataset 7digital previews) cannot be released,
so the user fetches them into the same folder::

    SRC/MuMu_dataset_multi-label.csv    the release: one row per (album, track); columns amazon_id,
                                        MSD_track_id, genres (comma-separated) among others (artist_mbid used
                                        as the artist when present)
    SRC/genre_labels_MuMu.tsv           the release (optional): the 250 labels, one per line; default: every
                                        genre of the CSV
    SRC/splits/items_index_{train,val,test}_MuMu-albums.tsv
                                        the authors' album splits (the release's tarball, tartarus' layout): one
                                        amazon_id per line
    SRC/images/<amazon_id>.jpg          the album's cover (.jpeg, .png, ... too: data_prep.albums)
    SRC/audio/<MSD_track_id>.mp3        a track's preview (also audio/<c2>/<c3>/<c4>/<id>.mp3, the MSD's nesting,
                                        or any path listed in SRC/index_audio.tsv as 'id<TAB>path')

One clip per (album, track) with the album's genres, its cover (``cover``) and its ``album_id``; the clip id is
``<amazon_id>/<MSD_track_id>``. Skipped and listed, one line each: an album without a cover (all its tracks), a
track without audio, a track already listed under an earlier album (a song on several albums is kept once, so no
song is in two splits), an album in no split file, and a cover that is unreadable, not an image, damaged or huge
(:mod:`sampleaudio.data_prep.albums`); covers converted to RGB or scaled down are listed in the manifest's
``cover_notes``.
"""

from __future__ import annotations

import os

from sampleaudio.data_prep import keep_inside_src, require_inside_src
from sampleaudio.data_prep.albums import (
    ALBUM_FEATURE,
    COVER_FEATURE,
    album_cover,
    audio_index_of,
    read_id_list,
    track_sources,
)
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import Clip, DatasetInfo, Manifest, Task, write_dataset

__all__ = ["NAME", "VERSION", "INFO", "SPLIT_FILES", "read_table", "list_clips", "convert"]

NAME = "mumu"
VERSION = "1.0"
#: store split -> the authors' split file
SPLIT_FILES = {"train": "items_index_train_MuMu-albums.tsv", "valid": "items_index_val_MuMu-albums.tsv",
               "test": "items_index_test_MuMu-albums.tsv"}
INFO = DatasetInfo(
    NAME,
    Task(NAME, num_classes=250, multi_label=True, threshold=0.5, metric="roc_auc", clip_seconds=30.0,
         proxy="mini-albums"),
    description="MuMu: MuMu_dataset_multi-label.csv + splits/items_index_*_MuMu-albums.tsv + images/<amazon_id>.jpg "
                "+ audio/<MSD_track_id>.mp3; 250 genres, multi-label, album covers",
    features=(COVER_FEATURE, ALBUM_FEATURE),
    citation="Oramas, Nieto, Barbieri, Serra. Multi-label music genre classification from audio, text, and images "
             "using deep features. ISMIR 2017. Oramas, Barbieri, Nieto, Serra. Multimodal deep learning for music "
             "genre classification. TISMIR 1(1), 2018.",
    homepage="https://doi.org/10.5281/zenodo.831189",
)


def read_table(src: str):
    """The release's multi-label CSV (columns checked)."""
    import pandas as pd

    path = os.path.join(src, "MuMu_dataset_multi-label.csv")
    if not os.path.exists(path):
        raise DatasetLayoutError(f"'{src}' has no MuMu_dataset_multi-label.csv (the MuMu release)")
    table = pd.read_csv(require_inside_src(src, path), dtype=str).fillna("")
    missing = {"amazon_id", "MSD_track_id", "genres"} - set(table.columns)
    if missing:
        raise DatasetLayoutError(f"'{path}' lacks the column(s) {sorted(missing)}; has {list(table.columns)}")
    return table


def _splits(src: str) -> dict[str, str]:
    album_split = {}
    for split, name in SPLIT_FILES.items():
        path = os.path.join(src, "splits", name)
        if not os.path.exists(path):
            raise DatasetLayoutError(f"'{src}' has no splits/{name} (the authors' album splits, from the MuMu "
                                     "release's tarball)")
        for album in read_id_list(require_inside_src(src, path)):
            album_split.setdefault(album, split)
    return album_split


def _vocabulary(src: str, table) -> list[str]:
    path = os.path.join(src, "genre_labels_MuMu.tsv")
    if os.path.exists(path):
        with open(require_inside_src(src, path), encoding="utf-8") as f:
            labels = [line.strip() for line in f if line.strip()]
    else:
        labels = sorted({g.strip() for cell in table.genres for g in cell.split(",") if g.strip()})
    if not labels:
        raise DatasetLayoutError(f"'{src}': no genre labels")
    return labels


def list_clips(src: str) -> tuple[list[Clip], list[dict[str, str]], list[str], list[str]]:
    """``(clips, skipped, labels, cover notes)`` of the MuMu folder ``src``."""
    table = read_table(src)
    album_split = _splits(src)
    labels = _vocabulary(src, table)
    index = {g: i for i, g in enumerate(labels)}
    audio_index = audio_index_of(src)
    clips, skipped, notes, seen_tracks, covers = [], [], [], {}, {}
    for row in table.itertuples(index=False):
        album, track = row.amazon_id.strip(), row.MSD_track_id.strip()
        clip_id = f"{album}/{track}"
        if not album or not track:
            skipped.append({"clip_id": clip_id, "path": "", "reason": "row without amazon_id or MSD_track_id"})
            continue
        if album not in album_split:
            skipped.append({"clip_id": clip_id, "path": "", "reason": f"album {album} is in no split file"})
            continue
        if track in seen_tracks:
            skipped.append({"clip_id": clip_id, "path": "",
                            "reason": f"track {track} already listed under album {seen_tracks[track]}"})
            continue
        if album not in covers:
            covers[album], note = album_cover(src, album)
            notes += [note] if note else []
        found, skip = track_sources(src, clip_id, track, covers[album], cover_key=album, album=album,
                                    audio_index=audio_index)
        if skip:
            skipped.append(skip)
            continue
        cover, audio = found
        seen_tracks[track] = album
        genres = sorted({index[g.strip()] for g in row.genres.split(",") if g.strip() in index})
        artist = getattr(row, "artist_mbid", "") or ""
        clips.append(Clip(clip_id, album_split[album], tuple(genres), audio, artist_id=artist, track_id=track,
                          features={"cover": cover, "album_id": album}))
    clips, skipped = keep_inside_src(src, clips, skipped)
    if not clips:
        raise DatasetLayoutError(f"'{src}': no track has both its audio and its album's cover")
    return clips, skipped, labels, notes


def convert(src: str, out: str, *, workers: int = 1, progress: bool = True) -> Manifest:
    """Convert a MuMu folder (see the module docstring) into a store at ``out``."""
    clips, skipped, labels, notes = list_clips(src)
    return write_dataset(clips, out, info=INFO, labels=labels, converter=__name__, converter_version=VERSION,
                         workers=workers, clips_per_shard=256, skipped=skipped, progress=progress,
                         extra={"split_rule": "the authors' album splits (splits/items_index_*_MuMu-albums.tsv)",
                                "cover_notes": notes})
