"""The source set of Park et al.'s (ISMIR 2018) tag model: the songs of the MSD artist list, labelled by their
Last.fm tags (the paper's Tables 1-3 compare artist features with features of the same 1D CNN trained on tags).

The paper does not publish the tag model's song list, so this converter trains it on the *same songs* as the
artist models (:mod:`sampleaudio.data_prep.msd_artist`: each artist's first 20 songs, 15/3/2): artist and tag features then
differ in their labels alone. The user adds the songs' tags to the artist list::

    SRC/artist_list.csv   columns song_id, artist, path, tags   (tags separated by ';', e.g. "rock;indie;90s",
                          from the Last.fm dataset's MSD tags)

The vocabulary is the 50 most frequent tags over the kept songs (ties by name), as the MSD top-50 tagging
benchmarks; songs with none of them are left out (recorded as skipped).
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from sampleaudio.data_prep.msd_artist import list_clips, read_list
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import DatasetInfo, Manifest, Task, write_dataset

__all__ = ["NAME", "VERSION", "INFO", "NUM_TAGS", "tag_clips", "convert"]

NAME = "msd-tags"
VERSION = "1.0"
NUM_TAGS = 50
INFO = DatasetInfo(
    NAME,
    # Park 2018's tag model: sigmoid + binary cross-entropy over the top-50 tags (no waveform standardisation)
    Task(NAME, num_classes=NUM_TAGS, multi_label=True, threshold=0.5, metric="roc_auc", clip_seconds=30.0,
         paper_mean=0.0, paper_std=1.0, proxy="mini-artists-tags"),
    description="MSD artist list with Last.fm tags: artist_list.csv (song_id, artist, path, tags); top-50 tags, "
                "15/3/2",
    citation="Park, Lee, Park, Ha, Nam. Representation learning of music using artist labels. ISMIR 2018.",
    homepage="http://millionsongdataset.com/lastfm/",
)


def _split_tags(text: str) -> list[str]:
    return sorted({t.strip().lower() for t in text.split(";") if t.strip()})


def tag_clips(src: str, num_tags: int = NUM_TAGS):
    """``(clips, skipped, vocabulary)``: the artist list's kept songs with their top-``num_tags`` tags."""
    table = read_list(src)
    if "tags" not in table.columns:
        raise DatasetLayoutError(f"the artist list in '{src}' has no 'tags' column (tags separated by ';'); has "
                                 f"{list(table.columns)}")
    tags_of = {row.song_id: _split_tags(row.tags) for row in table.itertuples(index=False)}
    clips, skipped, _ = list_clips(src)
    counts = Counter(t for c in clips for t in tags_of[c.clip_id])
    if not counts:
        raise DatasetLayoutError(f"the artist list in '{src}': none of the kept songs has a tag")
    vocab = sorted(sorted(counts, key=lambda t: (-counts[t], t))[:num_tags])
    index = {t: i for i, t in enumerate(vocab)}
    kept = []
    for c in clips:
        labels = tuple(sorted(index[t] for t in tags_of[c.clip_id] if t in index))
        if labels:
            kept.append(dataclasses.replace(c, labels=labels))
        else:
            skipped.append({"clip_id": c.clip_id, "path": c.source, "reason": f"none of the top {num_tags} tags"})
    return kept, skipped, vocab


def convert(src: str, out: str, *, workers: int = 1, progress: bool = True) -> Manifest:
    """Convert the listed songs, with their tags, into a TFRecord store at ``out``."""
    clips, skipped, vocab = tag_clips(src)
    return write_dataset(clips, out, info=INFO, labels=vocab, converter=__name__,
                         converter_version=VERSION, workers=workers, clips_per_shard=500, skipped=skipped,
                         progress=progress, extra={"split_rule": "the msd-artist songs and split (first 20 songs "
                                                                 "per artist: 1-15 train, 16-18 valid, 19-20 test)",
                                                   "tag_rule": f"the {NUM_TAGS} most frequent tags of those songs"})
