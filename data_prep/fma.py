"""FMA small (Defferrard et al., ISMIR 2017), a transfer target of Park et al. (ISMIR 2018).

On-disk layout of the release::

    SRC/fma_metadata/tracks.csv      two header rows (column group, column) and the index name row
    SRC/fma_small/NNN/NNNNNN.mp3     NNN: the first three digits of the zero-padded six-digit track id

Protocol: the tracks whose ``set.subset`` is ``small`` (8,000 tracks, 8 balanced top genres), the release's own
``set.split`` (``training`` / ``validation`` / ``test`` -> train / valid / test), ``track.genre_top`` as the label.
``artist.id`` is stored as ``artist_id`` and the track id as ``track_id``. Tracks listed but absent on disk are
recorded as skipped; undecodable MP3s (a few in the release) are skipped by the writer with their reason.
"""

from __future__ import annotations

import os

from sampleaudio.data_prep import keep_inside_src, require_inside_src
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import Clip, DatasetInfo, Manifest, Task, write_dataset

__all__ = ["NAME", "VERSION", "INFO", "GENRES", "read_tracks", "audio_path", "list_clips", "convert"]

NAME = "fma-small"
VERSION = "1.0"
INFO = DatasetInfo(
    NAME,
    # Park 2018's transfer target (no waveform standardisation: "paper" constants 0 / 1)
    Task(NAME, num_classes=8, multi_label=False, threshold=0.5, metric="accuracy", clip_seconds=30.0,
         paper_mean=0.0, paper_std=1.0),
    description="FMA small: fma_metadata/tracks.csv + fma_small/NNN/NNNNNN.mp3; 8 top genres, the release's split",
    citation="Defferrard, Benzi, Vandergheynst, Bresson. FMA: a dataset for music analysis. ISMIR 2017.",
    homepage="https://github.com/mdeff/fma",
)
GENRES = ["Electronic", "Experimental", "Folk", "Hip-Hop", "Instrumental", "International", "Pop", "Rock"]
SPLITS = {"training": "train", "validation": "valid", "test": "test"}


def audio_path(src: str, track_id: int) -> str:
    tid = f"{int(track_id):06d}"
    return os.path.join(src, "fma_small", tid[:3], f"{tid}.mp3")


def read_tracks(src: str):
    """``tracks.csv`` as a DataFrame with two-level columns, indexed by track id."""
    import pandas as pd

    path = os.path.join(src, "fma_metadata", "tracks.csv")
    if not os.path.exists(path):
        raise DatasetLayoutError(f"'{src}' is not an FMA folder: fma_metadata/tracks.csv is missing")
    tracks = pd.read_csv(require_inside_src(src, path), index_col=0, header=[0, 1], low_memory=False)
    need = [("set", "split"), ("set", "subset"), ("track", "genre_top"), ("artist", "id")]
    absent = [".".join(c) for c in need if c not in tracks.columns]
    if absent:
        raise DatasetLayoutError(f"'{path}' lacks the column(s) {absent} (expected the release's two header rows)")
    return tracks


def list_clips(src: str) -> tuple[list[Clip], list[dict[str, str]], dict]:
    tracks = read_tracks(src)
    small = tracks[tracks[("set", "subset")] == "small"]
    if small.empty:
        raise DatasetLayoutError(f"'{src}': no track of tracks.csv has set.subset == 'small'")
    clips, skipped, unknown = [], [], set()
    for track_id, row in small.iterrows():
        genre, split = row[("track", "genre_top")], SPLITS.get(row[("set", "split")])
        path = audio_path(src, track_id)
        if genre not in GENRES or split is None:
            unknown.add(f"{genre}/{row[('set', 'split')]}")
            skipped.append({"clip_id": str(track_id), "path": path, "reason": f"genre_top {genre!r} or split "
                                                                               f"{row[('set', 'split')]!r} unknown"})
            continue
        if not os.path.exists(path):
            skipped.append({"clip_id": str(track_id), "path": path, "reason": "listed in tracks.csv but not on disk"})
            continue
        clips.append(Clip(clip_id=f"{int(track_id):06d}", split=split, labels=(GENRES.index(genre),), source=path,
                          artist_id=str(row[("artist", "id")]), track_id=str(track_id)))
    clips, skipped = keep_inside_src(src, clips, skipped)
    return clips, skipped, {"unknown_genre_or_split": sorted(unknown)}


def convert(src: str, out: str, *, workers: int = 1, progress: bool = True) -> Manifest:
    """Convert an FMA folder (metadata + fma_small audio) into a TFRecord store at ``out``."""
    clips, skipped, facts = list_clips(src)
    return write_dataset(clips, out, info=INFO, labels=GENRES, converter=__name__,
                         converter_version=VERSION, workers=workers, clips_per_shard=500, skipped=skipped,
                         progress=progress, extra={"split_rule": "tracks.csv set.split of set.subset == small",
                                                   **facts})
