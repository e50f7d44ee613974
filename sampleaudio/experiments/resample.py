"""A small store at another sample rate, for the profiles of families whose paper runs at another rate than the
store's (Won 2020 and HarmonicCNN at 16 kHz, Choi 2017's convnet at 12 kHz), so that a demo on the 22,050 Hz
synthetic proxies trains the paper's model and not one built for 22,050 Hz.

The clips of every split are read, resampled (:func:`sampleaudio.audio.resample`, soxr HQ) and written as a store
of the same dataset, labels, splits, artists and tracks; the new store records where it came from. It is made once
and reused. Real datasets should be converted at the rate from their sources (one resampling, not two): this
helper holds the audio in memory and refuses a store of more than :data:`MAX_BYTES`.
"""

from __future__ import annotations

import os

import numpy as np

from sampleaudio.errors import ParameterError

__all__ = ["store_at_rate", "MAX_BYTES"]

#: the most float32 audio (bytes at the new rate) :func:`store_at_rate` holds in memory
MAX_BYTES = 2 << 30
VERSION = "1"


class _InMemory:
    """A store writer's loader over audio already decoded: clip id -> samples."""

    def __init__(self, audio: dict[str, np.ndarray]):
        self.audio = audio

    def __call__(self, clip) -> np.ndarray:
        return self.audio[clip.clip_id]


def store_at_rate(data_dir: str, sample_rate: int, *, out: str | None = None) -> str:
    """``data_dir`` itself when it is at ``sample_rate``, else a copy at that rate (made on first use, in ``out``;
    default: beside it, named ``<data_dir>-<rate>hz``)."""
    from sampleaudio.audio import resample
    from sampleaudio.pipeline import read_clips
    from sampleaudio.stores import SPLITS, Clip, DatasetInfo, Store, write_dataset

    store = Store.open(data_dir)
    manifest = store.manifest
    if manifest.sample_rate == sample_rate:
        return data_dir
    out = out or f"{os.path.normpath(data_dir)}-{sample_rate}hz"
    if os.path.exists(os.path.join(out, "manifest.json")):
        return out
    seconds = sum(store.seconds(s) for s in SPLITS)
    if seconds * sample_rate * 4 > MAX_BYTES:
        raise ParameterError(f"store '{data_dir}' holds {seconds / 3600:.1f} h of audio: convert the dataset from its "
                             f"sources at {sample_rate} Hz instead of resampling the store in memory")
    # the store's own declaration (its features' stored values are final: no loader runs again)
    info = DatasetInfo(store.dataset, store.task, description=store.info.get("description", ""),
                       features=store.declared_features, citation=store.info.get("citation", ""),
                       homepage=store.info.get("homepage", ""),
                       proxy_of=store.info.get("proxy_of") or (store.task.name if store.task.name != store.dataset
                                                               else None))
    kinds = {f.name: f.kind for f in info.features}
    clips, audio = [], {}
    for split in SPLITS:
        for ex in read_clips(store, split).as_numpy_iterator():
            clip_id = ex["clip_id"].decode()
            audio[clip_id] = resample(ex["audio"], manifest.sample_rate, sample_rate)
            own = {}
            for name, kind in kinds.items():
                value = ex[name]
                own[name] = (value.decode() if kind == "string" else value if kind == "bytes"
                             else value.tolist() if isinstance(value, np.ndarray) else value)
            clips.append(Clip(clip_id, split, tuple(int(i) for i in np.flatnonzero(ex["labels"])), clip_id,
                              artist_id=ex["artist_id"].decode(), track_id=ex["track_id"].decode(), features=own))
    write_dataset(clips, out, info=info, labels=manifest.labels, converter=__name__, converter_version=VERSION,
                  loader=_InMemory(audio), workers=1, skipped=manifest.skipped, progress=False,
                  extra={**manifest.extra, "resampled_from": os.path.abspath(data_dir),
                         "resampled_from_rate": manifest.sample_rate}, sample_rate=sample_rate)
    return out

