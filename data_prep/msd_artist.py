"""An MSD artist set as Park et al. (ISMIR 2018) trained on: 20 songs per artist from a user-supplied list.

The authors' artist list is not public, so the user supplies one::

    SRC/artist_list.csv   columns song_id, artist, path (audio path relative to SRC, or absolute)
                          (a tab-separated artist_list.tsv works too)

A relative path must stay inside SRC once symbolic links are resolved (else the song is skipped, unopened:
:func:`sampleaudio.data_prep.keep_inside_src`); an absolute path is the user's explicit choice and is read where
it points.

Protocol (``data_generator.py`` of ``jongpillee/ismir2018-artist``): each artist's first 20 songs in list order;
songs 1-15 train, 16-18 valid, 19-20 test. Artists with fewer than 20 songs are left out (recorded as skipped).
The label is the artist (the basic model's softmax); ``artist_id`` is the artist and ``track_id`` the song id.
"""

from __future__ import annotations

import os

from sampleaudio.data_prep import keep_inside_src, require_inside_src
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import Clip, DatasetInfo, Manifest, Task, write_dataset

__all__ = ["NAME", "VERSION", "INFO", "SONGS_PER_ARTIST", "read_list", "list_clips", "convert"]

NAME = "msd-artist"
VERSION = "1.0"
SONGS_PER_ARTIST = 20
INFO = DatasetInfo(
    NAME,
    # no waveform standardisation (the mel front end standardises its log-mel output with the authors'
    # constants), so the "paper" constants are the identity; num_classes: the store's artists
    Task(NAME, num_classes=2, multi_label=False, threshold=0.5, metric="accuracy", clip_seconds=30.0,
         paper_mean=0.0, paper_std=1.0, proxy="mini-artists"),
    description="MSD artist list: artist_list.csv (song_id, artist, path); 20 songs per artist, 15/3/2",
    citation="Park, Lee, Park, Ha, Nam. Representation learning of music using artist labels. ISMIR 2018.",
    homepage="http://millionsongdataset.com/",
)


def read_list(src: str):
    import pandas as pd

    for name, sep in (("artist_list.csv", ","), ("artist_list.tsv", "\t")):
        path = os.path.join(src, name)
        if os.path.exists(path):
            table = pd.read_csv(require_inside_src(src, path), sep=sep, dtype=str).fillna("")
            missing = {"song_id", "artist", "path"} - set(table.columns)
            if missing:
                raise DatasetLayoutError(f"'{path}' lacks the column(s) {sorted(missing)}; has {list(table.columns)}")
            if table.song_id.duplicated().any():
                raise DatasetLayoutError(f"'{path}': song id {table.song_id[table.song_id.duplicated()].iloc[0]!r} "
                                         "is listed twice")
            return table
    raise DatasetLayoutError(f"'{src}' has no artist_list.csv (or .tsv) with columns song_id, artist, path")


def split_of(position: int) -> str:
    """Split of an artist's song at 0-based ``position`` (< 20): 0-14 train, 15-17 valid, 18-19 test."""
    return "train" if position < 15 else "valid" if position < 18 else "test"


def list_clips(src: str) -> tuple[list[Clip], list[dict[str, str]], list[str]]:
    table = read_list(src)
    counts = table.artist.value_counts()
    artists = sorted(a for a, n in counts.items() if n >= SONGS_PER_ARTIST and a)
    index = {a: i for i, a in enumerate(artists)}
    clips, skipped, seen, relative = [], [], {a: 0 for a in artists}, set()
    for row in table.itertuples(index=False):
        path = row.path if os.path.isabs(row.path) else os.path.join(src, row.path)
        if not os.path.isabs(row.path):
            relative.add(row.song_id)
        if row.artist not in index:
            skipped.append({"clip_id": row.song_id, "path": path,
                            "reason": f"artist {row.artist!r} has fewer than {SONGS_PER_ARTIST} songs"})
            continue
        k = seen[row.artist]
        seen[row.artist] += 1
        if k >= SONGS_PER_ARTIST:
            skipped.append({"clip_id": row.song_id, "path": path, "reason": "beyond the artist's first 20 songs"})
            continue
        clips.append(Clip(clip_id=row.song_id, split=split_of(k), labels=(index[row.artist],), source=path,
                          artist_id=row.artist, track_id=row.song_id))
    inside, skipped = keep_inside_src(src, [c for c in clips if c.clip_id in relative], skipped)
    kept = {c.clip_id for c in inside}
    clips = [c for c in clips if c.clip_id not in relative or c.clip_id in kept]
    if not clips:
        raise DatasetLayoutError(f"'{src}': no artist has {SONGS_PER_ARTIST} songs in the list")
    return clips, skipped, artists


def convert(src: str, out: str, *, workers: int = 1, progress: bool = True) -> Manifest:
    """Convert the listed songs into a TFRecord store at ``out``."""
    clips, skipped, artists = list_clips(src)
    return write_dataset(clips, out, info=INFO, labels=artists, converter=__name__,
                         converter_version=VERSION, workers=workers, clips_per_shard=500, skipped=skipped,
                         progress=progress, extra={"split_rule": "first 20 songs per artist in list order: "
                                                                 "1-15 train, 16-18 valid, 19-20 test"})
