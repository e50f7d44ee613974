"""Cross-modal retrieval in the shared audio-image space (this package's evaluation of the co-embedding: the paper
scores the space through the classifiers it feeds), and tracks' outputs pooled over their segments.

Queries and database come from one split. ``track -> cover``: each track ranks every album's cover by cosine; its
album's cover is the one relevant item, so its average precision is ``1 / rank`` (MAP is the mean reciprocal rank)
and recall@k is whether that cover is among the first ``k``. ``cover -> tracks``: each cover ranks every track;
its album's tracks are relevant; AP over that ranking, and recall@k is whether one of them is among the first
``k``. :func:`chance_retrieval` gives the same numbers for random scores (mean of seeded trials), the chance row.
"""

from __future__ import annotations

import numpy as np

from sampleaudio.errors import ParameterError

__all__ = ["KS", "cross_modal_retrieval", "chance_retrieval", "track_outputs"]

#: the recall cut-offs reported
KS = (1, 5, 10)


def _ap(relevant: np.ndarray, scores: np.ndarray) -> float:
    order = np.argsort(-scores, kind="stable")
    hits = relevant[order]
    ranks = np.flatnonzero(hits) + 1
    return float(np.mean(np.arange(1, len(ranks) + 1) / ranks)) if len(ranks) else float("nan")


def _scores(similarity: np.ndarray, track_album: np.ndarray, ks) -> dict[str, float]:
    num_tracks, num_albums = similarity.shape
    out = {}
    truth = np.zeros_like(similarity, dtype=bool)
    truth[np.arange(num_tracks), track_album] = True
    for direction, sims, rel in (("track_to_cover", similarity, truth), ("cover_to_tracks", similarity.T, truth.T)):
        aps = [_ap(r, s) for r, s in zip(rel, sims) if r.any()]
        out[f"{direction}_map"] = float(np.mean(aps))
        order = np.argsort(-sims, axis=1, kind="stable")
        for k in ks:
            top = np.take_along_axis(rel, order[:, :k], axis=1).any(axis=1)
            out[f"{direction}_recall_at_{k}"] = float(top[rel.any(axis=1)].mean())
    return out


def cross_modal_retrieval(track_embeddings, track_album, cover_embeddings, ks=KS) -> dict[str, float]:
    """MAP and recall@k in both directions (see the module docstring); ``track_album[i]`` is the row of track
    ``i``'s album in ``cover_embeddings``."""
    tracks = np.asarray(track_embeddings, np.float64)
    covers = np.asarray(cover_embeddings, np.float64)
    track_album = np.asarray(track_album, np.int64)
    if tracks.shape[0] != track_album.shape[0] or tracks.shape[1] != covers.shape[1]:
        raise ParameterError(f"{tracks.shape} track embeddings, {track_album.shape} albums, {covers.shape} covers")
    tracks = tracks / np.maximum(np.linalg.norm(tracks, axis=1, keepdims=True), 1e-12)
    covers = covers / np.maximum(np.linalg.norm(covers, axis=1, keepdims=True), 1e-12)
    return _scores(tracks @ covers.T, track_album, ks)


def chance_retrieval(track_album, num_albums: int, ks=KS, *, seed: int = 0, trials: int = 20) -> dict[str, float]:
    """The same metrics for uniform random similarities, averaged over ``trials`` seeded draws."""
    track_album = np.asarray(track_album, np.int64)
    rng = np.random.default_rng([seed, 2018])
    runs = [_scores(rng.random((len(track_album), num_albums)), track_album, ks) for _ in range(trials)]
    return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}


def track_outputs(model, audio: list[np.ndarray], *, segment: int, mean: float = 0.0, std: float = 1.0,
                  batch_size: int = 16, max_segments: int | None = None, renormalise: bool = False) -> np.ndarray:
    """Each track's output of ``model`` (a waveform network), the mean over its consecutive ``segment``-sample
    windows (a short track tiled to one), optionally renormalised to unit length."""
    from sampleaudio.segments import clip_segments_np, pool_np, standardise_np

    pooled = []
    for first in range(0, len(audio), batch_size):  # a few tracks at a time: memory stays bounded
        segs, owner = [], []
        for j, wave in enumerate(audio[first:first + batch_size]):
            windows = clip_segments_np(wave, segment, max_segments=max_segments)
            segs.append(standardise_np(windows, mean, std))
            owner += [j] * len(windows)
        x = np.concatenate(segs)[..., None]
        out = np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                              for i in range(0, len(x), batch_size)])
        pooled.append(pool_np(out, np.asarray(owner), "mean")[1])
    if not pooled:
        return np.zeros((0, model.output.shape[-1]), np.float32)
    result = np.concatenate(pooled)
    if renormalise:
        result = result / np.maximum(np.linalg.norm(result, axis=1, keepdims=True), 1e-12)
    return result.astype(np.float32)
