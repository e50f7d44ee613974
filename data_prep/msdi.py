"""MSD-I (Oramas, Barbieri, Nieto, Serra, TISMIR 2018): Million Song Dataset tracks in one of 15 genres, each with
its album's cover, split as the authors split them (the ``set`` column).

The release gives one row per track; the covers (``image_url``) and the audio (MSD 7digital previews) are fetched
by the user into the same folder::

    SRC/MSD-I_dataset.tsv            the release (also accepted as SRC/splits/MSD-I_dataset.tsv, tartarus'
                                     ``msdi-data/splits``): tab-separated, a header, columns msd_track_id, genre,
                                     album_index, set (train / val / test), msd_artist_id, image_url
    SRC/images/<msd_track_id>.jpg    the row's cover (its image_url; .jpeg, .png, ... too)
    SRC/audio/<msd_track_id>.mp3     the preview (also audio/<c2>/<c3>/<c4>/<id>.mp3 or SRC/index_audio.tsv)

One clip per track, single-label (its genre), with its cover (``cover``), ``album_id`` (``album_index``) and
``artist_id`` (``msd_artist_id``). Skipped and listed, one line each: a track without a cover or without audio, a
row whose ``set`` is not train / val / test, a track listed twice, and a cover that is unreadable, not an image,
damaged or huge (:mod:`sampleaudio.data_prep.albums`); converted covers are listed in ``cover_notes``.
"""

from __future__ import annotations

import os

from sampleaudio.data_prep import keep_inside_src, require_inside_src
from sampleaudio.data_prep.albums import (
    ALBUM_FEATURE,
    COVER_FEATURE,
    album_cover,
    audio_index_of,
    track_sources,
)
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import Clip, DatasetInfo, Manifest, Task, write_dataset

__all__ = ["NAME", "VERSION", "INFO", "COLUMNS", "read_table", "list_clips", "convert"]

NAME = "msd-i"
VERSION = "1.0"
COLUMNS = ("msd_track_id", "genre", "album_index", "set", "msd_artist_id", "image_url")
_SPLITS = {"train": "train", "val": "valid", "test": "test"}
INFO = DatasetInfo(
    NAME,
    Task(NAME, num_classes=15, multi_label=False, threshold=0.5, metric="accuracy", clip_seconds=30.0),
    description="MSD-I: MSD-I_dataset.tsv + images/<msd_track_id>.jpg + audio/<msd_track_id>.mp3; 15 genres, "
                "single-label, album covers, the authors' split",
    features=(COVER_FEATURE, ALBUM_FEATURE),
    citation="Oramas, Barbieri, Nieto, Serra. Multimodal deep learning for music genre classification. TISMIR "
             "1(1), 2018.",
    homepage="https://github.com/sergiooramas/tartarus",
)


def read_table(src: str):
    """The release's table (columns checked)."""
    import pandas as pd

    for path in (os.path.join(src, "MSD-I_dataset.tsv"), os.path.join(src, "splits", "MSD-I_dataset.tsv")):
        if os.path.exists(path):
            table = pd.read_csv(require_inside_src(src, path), sep="\t", dtype=str).fillna("")
            missing = set(COLUMNS[:4]) - set(table.columns)
            if missing:
                raise DatasetLayoutError(f"'{path}' lacks the column(s) {sorted(missing)}; has {list(table.columns)}")
            return table
    raise DatasetLayoutError(f"'{src}' has no MSD-I_dataset.tsv (the MSD-I release)")


def list_clips(src: str) -> tuple[list[Clip], list[dict[str, str]], list[str], list[str]]:
    """``(clips, skipped, genres, cover notes)`` of the MSD-I folder ``src``."""
    table = read_table(src)
    genres = sorted({g.strip() for g in table.genre if g.strip()})
    if not genres:
        raise DatasetLayoutError(f"'{src}': MSD-I_dataset.tsv names no genre")
    index = {g: i for i, g in enumerate(genres)}
    audio_index = audio_index_of(src)
    clips, skipped, notes, seen = [], [], [], set()
    for row in table.itertuples(index=False):
        track = row.msd_track_id.strip()
        split = _SPLITS.get(row.set.strip())
        if not track or split is None or row.genre.strip() not in index:
            skipped.append({"clip_id": track, "path": "", "reason": f"row without a track id, a genre or a set of "
                                                                    f"train/val/test (set {row.set!r})"})
            continue
        if track in seen:
            skipped.append({"clip_id": track, "path": "", "reason": f"track {track} is listed twice"})
            continue
        cover, note = album_cover(src, track)
        found, skip = track_sources(src, track, track, cover, cover_key=track, album=row.album_index.strip(),
                                    audio_index=audio_index)
        if skip:
            skipped.append(skip)
            continue
        cover, audio = found
        seen.add(track)
        notes += [note] if note else []
        clips.append(Clip(track, split, (index[row.genre.strip()],), audio,
                          artist_id=getattr(row, "msd_artist_id", "").strip(), track_id=track,
                          features={"cover": cover, "album_id": row.album_index.strip()}))
    clips, skipped = keep_inside_src(src, clips, skipped)
    if not clips:
        raise DatasetLayoutError(f"'{src}': no track has both its audio and its cover")
    return clips, skipped, genres, notes


def convert(src: str, out: str, *, workers: int = 1, progress: bool = True) -> Manifest:
    """Convert an MSD-I folder (see the module docstring) into a store at ``out``."""
    clips, skipped, genres, notes = list_clips(src)
    return write_dataset(clips, out, info=INFO, labels=genres, converter=__name__, converter_version=VERSION,
                         workers=workers, clips_per_shard=256, skipped=skipped, progress=progress,
                         extra={"split_rule": "the authors' set column (train / val / test)", "cover_notes": notes})
