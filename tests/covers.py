"""A test-only dataset whose clips carry their album cover beside the audio (as Oramas et al., ISMIR 2017/2018 pair
audio with cover art), written the way any new dataset's converter is: it declares its image feature in its own
:class:`~sampleaudio.stores.DatasetInfo`, and no store module knows about images.

On-disk layout (:func:`make_covers` writes it)::

    SRC/covers.csv          clip_id, split, genre, cover, fold (cover: a PNG path relative to SRC, or empty)
    SRC/audio/<clip_id>.wav
    SRC/covers/<clip_id>.png
"""

from __future__ import annotations

import csv
import os

import numpy as np
import soundfile as sf

from sampleaudio.errors import FeatureDecodeError
from sampleaudio.stores import Clip, DatasetInfo, Feature, Manifest, Task, write_dataset

NAME = "covers"
VERSION = "1.0"
GENRES = ["rock", "jazz"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_cover(path: str) -> bytes:
    """A cover's encoded PNG bytes, checked to be a PNG (else the clip is skipped and listed)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise FeatureDecodeError(path, exc.strerror or str(exc)) from exc
    if not data.startswith(PNG_SIGNATURE):
        raise FeatureDecodeError(path, "not a PNG image")
    return data


INFO = DatasetInfo(
    NAME,
    Task(NAME, num_classes=len(GENRES), multi_label=False, threshold=0.5, metric="accuracy", clip_seconds=0.25),
    description="covers (tests): covers.csv + audio/<id>.wav + covers/<id>.png; 2 genres",
    features=(Feature("cover", "bytes", default=b"", loader=read_cover, doc="album cover, PNG bytes"),
              Feature("fold", "int", default=-1, doc="cross-validation fold")),
)


def convert(src: str, out: str, *, workers=1, progress: bool = False, clips_per_shard: int = 3) -> Manifest:
    """Convert a covers folder into a store at ``out``."""
    clips = []
    with open(os.path.join(src, "covers.csv"), newline="") as f:
        for row in csv.DictReader(f):
            values = {"fold": int(row["fold"])}
            if row["cover"]:
                values["cover"] = os.path.join(src, row["cover"])
            clips.append(Clip(row["clip_id"], row["split"], (GENRES.index(row["genre"]),),
                              os.path.join(src, "audio", row["clip_id"] + ".wav"), features=values))
    return write_dataset(clips, out, info=INFO, labels=GENRES, converter=__name__, converter_version=VERSION,
                         workers=workers, clips_per_shard=clips_per_shard, progress=progress)


def make_covers(root: str, clips: int = 10) -> dict[str, bytes]:
    """Write a covers folder: every clip a tone and a tiny PNG cover, except clip ``c1`` (no cover) and ``c2``
    (a cover file that is no PNG). Returns clip id -> the cover bytes stored for it."""
    import tensorflow as tf

    os.makedirs(os.path.join(root, "audio"))
    os.makedirs(os.path.join(root, "covers"))
    stored, rows = {}, []
    for k in range(clips):
        clip_id = f"c{k}"
        t = np.arange(5512) / 22050
        sf.write(os.path.join(root, "audio", clip_id + ".wav"),
                 (0.3 * np.sin(2 * np.pi * (200 + 50 * k) * t)).astype(np.float32), 22050, subtype="PCM_16")
        cover = f"covers/{clip_id}.png"
        if k == 1:
            cover, data = "", b""
        elif k == 2:
            data = b"GIF89a not a png"
        else:
            pixels = np.full((4, 3, 3), 20 * k, np.uint8)
            data = tf.io.encode_png(pixels).numpy()
        if cover:
            with open(os.path.join(root, cover), "wb") as f:
                f.write(data)
        stored[clip_id] = data
        rows.append({"clip_id": clip_id, "split": ("train", "train", "valid", "test")[k % 4] if k > 2 else "train",
                     "genre": GENRES[k % 2], "cover": cover, "fold": k % 3})
    with open(os.path.join(root, "covers.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return stored
