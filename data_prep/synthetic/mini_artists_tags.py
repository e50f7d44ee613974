"""``mini-artists-tags``: the songs of ``mini-artists`` labelled by tags instead of artists, the proxy of the
tag model of Park et al. (ISMIR 2018), Sec. 4 / Tables 1-3 (the same 1D CNN trained on MSD Last.fm tags).

Same songs, same audio, same 15/3/2 split as ``mini-artists`` (the audio is copied from that store, which is
generated first if needed): only the labels change, so the artist and tag models differ in their labels alone.
A song's tags follow ``mini-mtat``'s provenance rule (:func:`sampleaudio.data_prep.synthetic.scores.provenance_tags`): the style
tags of the piece's corpus (``chorale``, ``baroque``, ``folk``, ``celtic``, a dance rhythm...), one instrument
tag per General MIDI program, ``drums``, ``vocal`` / ``no vocals``, ``fast`` / ``slow`` from the tempo and
``loud`` / ``quiet`` from the dynamics; the vocabulary is every tag on at least 2 % of the songs (at most 50), as
``mini-mtat``.

What it shares with the real tag labels, and says plainly: most tags are attributes of the artist (its
instruments, drums, loudness, its genre's corpus), as Last.fm tags of MSD songs mostly are, and the style tags
name the genres that ``mini-artists-genres`` is labelled with (as Last.fm's top 50 holds GTZAN's genres: rock,
jazz, blues...). This is a proxy: its numbers are never comparable to the paper's.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections import Counter

import numpy as np

from sampleaudio.data_prep import msd_tags
from sampleaudio.data_prep.synthetic.mini_artists import VERSION as AUDIO_VERSION
from sampleaudio.errors import AudioDecodeError
from sampleaudio.stores import Clip, DatasetInfo, Manifest, write_dataset

__all__ = ["NAME", "VERSION", "song_tags", "plan", "StoreAudio", "convert", "INFO"]

NAME = "mini-artists-tags"
#: this relabelling's version and that of the generator of its audio (``mini-artists``): the store's folder is
#: named by both, so a new ``mini-artists`` generator never pairs with tags copied from an older one's audio
VERSION = f"1.0-audio{AUDIO_VERSION}"
INFO = DatasetInfo.proxy(
    msd_tags.INFO, name=NAME, requires=("music21",),
    description="mini-artists-tags: the songs of mini-artists labelled by provenance tags (style, instruments, "
                "tempo, dynamics) instead of artists; the tag model's proxy (Park 2018)")
MIN_FRACTION, MAX_TAGS = 0.02, 50


@functools.lru_cache(maxsize=1)
def _pieces() -> dict:
    from sampleaudio.data_prep.synthetic.scores import catalog

    return {p.piece_id: p for p in catalog()}


def song_tags(recipe: dict) -> list[str]:
    """The tags of one ``mini-artists`` song from its rendering recipe (``mini-mtat``'s rule; never solo)."""
    from sampleaudio.data_prep.synthetic.scores import provenance_tags

    return provenance_tags(_pieces()[recipe["piece"]], {**recipe, "solo": False})


def plan(size: str = "default", seed: int = 0) -> tuple[list[Clip], list[str]]:
    """``mini-artists``' clips (same ids, splits, recipes, artists) with tag labels, and the tag vocabulary."""
    from sampleaudio.data_prep.synthetic import mini_artists

    clips, _ = mini_artists.plan(size, seed)
    tags = [song_tags(json.loads(c.source)) for c in clips]
    counts = Counter(t for song in tags for t in song)
    minimum = max(2, int(MIN_FRACTION * len(clips)))
    vocab = sorted(sorted((t for t, n in counts.items() if n >= minimum), key=lambda t: (-counts[t], t))[:MAX_TAGS])
    index = {t: i for i, t in enumerate(vocab)}
    return [dataclasses.replace(c, labels=tuple(sorted(index[t] for t in song if t in index)))
            for c, song in zip(clips, tags)], vocab


@functools.lru_cache(maxsize=2)
def _audio_of(store: str) -> dict[str, np.ndarray]:
    from sampleaudio.pipeline import read_clips
    from sampleaudio.stores import read_manifest

    return {ex["clip_id"].decode(): ex["audio"] for split in read_manifest(store).splits
            for ex in read_clips(store, split).as_numpy_iterator()}


@dataclasses.dataclass(frozen=True)
class StoreAudio:
    """A clip's audio read back from another store by clip id (picklable: holds the store's path only)."""

    store: str

    def __call__(self, clip: Clip) -> np.ndarray:
        audio = _audio_of(self.store).get(clip.clip_id)
        if audio is None:
            raise AudioDecodeError(self.store, f"holds no clip '{clip.clip_id}'")
        return audio


def convert(out: str, *, size: str = "default", seed: int = 0, workers: int = 1, progress: bool = True) -> Manifest:
    """Generate ``mini-artists-tags`` at ``out`` from the ``mini-artists`` store beside it (made if missing)."""
    from sampleaudio.data_prep.synthetic import ensure

    source = ensure("mini-artists", size=size, seed=seed, root=os.path.dirname(os.path.abspath(out)),
                    workers=workers, progress=progress)
    clips, vocab = plan(size, seed)
    return write_dataset(clips, out, info=INFO, labels=vocab, converter=__name__,
                         converter_version=VERSION, loader=StoreAudio(source), workers=1, clips_per_shard=64,
                         seed=seed, progress=progress,
                         extra={"synthetic": "the songs of mini-artists (audio copied from its store) with tags",
                                "size": size, "seed": seed, "audio_from": os.path.basename(source),
                                "split_rule": "as mini-artists: 20 songs per artist, 1-15 train, 16-18 valid, "
                                              "19-20 test",
                                "tag_rule": "mini-mtat's provenance tags; tags on >= 2 % of songs, at most 50"})
