"""Seeded seen/unseen tag split and the track sets AB / A / B / C of Choi et al., ISMIR 2019 (Sec. 4.2; the authors'
``scripts/data_split_tag.py`` and ``scripts/data_split_track.py``).

- Tags: shuffled with the seed; the first ``int(0.8 * T)`` are *seen* (used in training: 900 of the paper's 1,126,
  as ``num_train = int(num_whole_set * 0.8)`` in ``data_split_tag.py``), the rest *unseen* (226).
- Tracks, from the track x tag matrix:

  - AB: tracks with at least one seen tag; a track positive on *every* seen tag is dropped (it would have no
    negative to sample);
  - C: tracks with no seen tag (never used in training);
  - B: tracks of AB with at least one unseen tag; A = AB minus B.

  AB, A and B are each split 90 / 10 into train / valid (seeded shuffles). Training uses AB-train (seen tags only);
  the zero-shot evaluation scores unseen tags on B + C (``eval.py``'s default), where B's tracks were heard in
  training but never with their unseen tags.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sampleaudio.errors import ParameterError

__all__ = ["TagSplit", "TrackSets", "split_tags", "split_tracks"]


@dataclasses.dataclass(frozen=True)
class TagSplit:
    """Column indices of the seen and unseen tags (in shuffled order), with their names."""

    seen: tuple[int, ...]
    unseen: tuple[int, ...]
    tags: tuple[str, ...]

    @property
    def seen_tags(self) -> list[str]:
        return [self.tags[i] for i in self.seen]

    @property
    def unseen_tags(self) -> list[str]:
        return [self.tags[i] for i in self.unseen]


@dataclasses.dataclass(frozen=True)
class TrackSets:
    """Row indices of each track set; ``AB_train``/``AB_valid`` etc. are the 90 / 10 splits. ``dropped``: AB
    candidates positive on every seen tag."""

    AB_train: tuple[int, ...]
    AB_valid: tuple[int, ...]
    A_train: tuple[int, ...]
    A_valid: tuple[int, ...]
    B_train: tuple[int, ...]
    B_valid: tuple[int, ...]
    C: tuple[int, ...]
    dropped: tuple[int, ...]

    @property
    def AB(self) -> list[int]:
        return sorted(self.AB_train + self.AB_valid)

    @property
    def A(self) -> list[int]:
        return sorted(self.A_train + self.A_valid)

    @property
    def B(self) -> list[int]:
        return sorted(self.B_train + self.B_valid)

    def tracks(self, name: str) -> list[int]:
        """The rows of ``A``, ``B``, ``C``, ``AB``, ``BC`` (B + C, the zero-shot evaluation set) or ``ABC``."""
        parts = {"A": self.A, "B": self.B, "C": list(self.C)}
        if not name or any(p not in parts for p in name):
            raise ParameterError(f"track set must be made of A, B, C (e.g. BC). Received: {name!r}")
        return sorted({i for p in name for i in parts[p]})


def split_tags(tags, *, unseen_fraction: float = 0.2, seed: int = 0) -> TagSplit:
    """Shuffle the tags with ``seed``; the first ``int((1 - unseen_fraction) * T)`` are seen (the authors' floor:
    1,126 tags give 900 seen and 226 unseen)."""
    tags = tuple(tags)
    if not 0.0 < unseen_fraction < 1.0:
        raise ParameterError(f"unseen_fraction must be in (0, 1). Received: unseen_fraction={unseen_fraction}")
    if len(tags) < 2:
        raise ParameterError(f"a seen/unseen split needs at least 2 tags; got {len(tags)}")
    order = np.random.default_rng(seed).permutation(len(tags))
    n_seen = min(max(int(len(tags) * (1.0 - unseen_fraction)), 1), len(tags) - 1)
    return TagSplit(tuple(int(i) for i in order[:n_seen]), tuple(int(i) for i in order[n_seen:]), tags)


def _split90(rows: list[int], rng: np.random.Generator, train_fraction: float) -> tuple[tuple, tuple]:
    rows = [rows[i] for i in rng.permutation(len(rows))]
    n = int(len(rows) * train_fraction)
    return tuple(sorted(rows[:n])), tuple(sorted(rows[n:]))


def split_tracks(labels, split: TagSplit, *, seed: int = 0, train_fraction: float = 0.9) -> TrackSets:
    """The track sets of ``labels`` (``[tracks, tags]`` 0/1, columns as ``split.tags``) under ``split``."""
    y = np.asarray(labels) > 0
    if y.ndim != 2 or y.shape[1] != len(split.tags):
        raise ParameterError(f"labels must be [tracks, {len(split.tags)}]; got shape {y.shape}")
    seen, unseen = y[:, list(split.seen)], y[:, list(split.unseen)]
    any_seen, all_seen = seen.any(axis=1), seen.all(axis=1)
    ab = np.flatnonzero(any_seen & ~all_seen).tolist()
    b = [i for i in ab if unseen[i].any()]
    b_set = set(b)
    a = [i for i in ab if i not in b_set]
    rng = np.random.default_rng([seed, 90])
    ab_train, ab_valid = _split90(ab, rng, train_fraction)
    a_train, a_valid = _split90(a, rng, train_fraction)
    b_train, b_valid = _split90(b, rng, train_fraction)
    return TrackSets(ab_train, ab_valid, a_train, a_valid, b_train, b_valid,
                     tuple(np.flatnonzero(~any_seen).tolist()), tuple(np.flatnonzero(all_seen).tolist()))
