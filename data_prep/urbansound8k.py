"""UrbanSound8K (Salamon, Jacoby, Bello, ACM MM 2014), as a target of Choi et al. (ISMIR 2017): 8,732 slices of at
most 4 s of 10 urban sound classes, in 10 predefined folds.

On-disk layout (the release, ``UrbanSound8K.tar.gz``)::

    SRC/metadata/UrbanSound8K.csv      slice_file_name,fsID,start,end,salience,fold,classID,class
    SRC/audio/fold<k>/<slice_file_name>   k = 1..10, WAV files of various rates, depths and channel counts
    (or all of it one level down, in SRC/UrbanSound8K/)

Labels: ``classID`` 0-9 (air_conditioner, car_horn, children_playing, dog_bark, drilling, engine_idling,
gun_shot, jackhammer, siren, street_music). Every clip records its ``fold``: the dataset's own evaluation is
10-fold cross-validation over these folds (slices of one recording, ``fsID``, stay in one fold), and Choi et
al. ran it so (``PredefinedSplit(df['fold'])``; :func:`sampleaudio.transfer.cross_validate_svm` with the store's
folds). A store needs three splits: folds 1-8 train, 9 valid, 10 test (one of the ten CV rounds). ``track_id`` is
the source recording (``fsID``).
"""

from __future__ import annotations

import csv
import os

from sampleaudio.data_prep import keep_inside_src, require_inside_src
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import Clip, DatasetInfo, Feature, Manifest, Task, write_dataset

__all__ = ["NAME", "VERSION", "INFO", "CLASSES", "list_clips", "convert"]

NAME = "urbansound8k"
VERSION = "1.0"
INFO = DatasetInfo(
    NAME,
    Task(NAME, num_classes=10, multi_label=False, threshold=0.5, metric="accuracy", clip_seconds=4.0,
         aliases=("urbansound",)),
    description="UrbanSound8K: metadata/UrbanSound8K.csv + audio/fold1..10/*.wav; 10 classes, 10 predefined folds",
    features=(Feature("fold", "int", doc="the dataset's predefined fold, 1-10"),),
    citation="Salamon, Jacoby, Bello. A dataset and taxonomy for urban sound research. ACM Multimedia 2014.",
    homepage="https://urbansounddataset.weebly.com/urbansound8k.html",
)
CLASSES = ["air_conditioner", "car_horn", "children_playing", "dog_bark", "drilling", "engine_idling", "gun_shot",
           "jackhammer", "siren", "street_music"]
COLUMNS = ("slice_file_name", "fsID", "fold", "classID")


def _root(src: str) -> str:
    for candidate in (src, os.path.join(src, "UrbanSound8K")):
        if os.path.isfile(os.path.join(candidate, "metadata", "UrbanSound8K.csv")):
            return candidate
    raise DatasetLayoutError(f"'{src}' is not an UrbanSound8K folder: no metadata/UrbanSound8K.csv in it or in "
                             "UrbanSound8K/")


def list_clips(src: str) -> tuple[list[Clip], list[dict[str, str]], dict]:
    """``(clips, skipped, facts)``: every row of the metadata whose file exists."""
    root = _root(src)
    path = require_inside_src(src, os.path.join(root, "metadata", "UrbanSound8K.csv"))
    clips, skipped = [], []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetLayoutError(f"'{path}' has no column(s) {missing}")
        for row in reader:
            try:
                fold, label = int(row["fold"]), int(row["classID"])
            except ValueError as exc:
                raise DatasetLayoutError(f"'{path}': row {row['slice_file_name']!r}: {exc}") from exc
            if not (1 <= fold <= 10 and 0 <= label < len(CLASSES)):
                raise DatasetLayoutError(f"'{path}': row {row['slice_file_name']!r} has fold {fold}, classID {label}")
            audio = os.path.join(root, "audio", f"fold{fold}", row["slice_file_name"])
            clip_id = os.path.splitext(row["slice_file_name"])[0]
            if not os.path.isfile(audio):
                skipped.append({"clip_id": clip_id, "path": audio, "reason": "named in the metadata but not on disk"})
                continue
            split = "train" if fold <= 8 else "valid" if fold == 9 else "test"
            clips.append(Clip(clip_id=clip_id, split=split, labels=(label,), source=audio, track_id=row["fsID"],
                              features={"fold": fold}))
    clips, skipped = keep_inside_src(src, clips, skipped)
    return clips, skipped, {"split_rule": "predefined folds: 1-8 train, 9 valid, 10 test; evaluate by 10-fold CV "
                                          "over the stored fold"}


def convert(src: str, out: str, *, workers: int = 1, progress: bool = True) -> Manifest:
    """Convert an UrbanSound8K folder into a TFRecord store at ``out``."""
    clips, skipped, facts = list_clips(src)
    if not clips:
        raise DatasetLayoutError(f"'{src}': no UrbanSound8K slice found")
    return write_dataset(clips, out, info=INFO, labels=CLASSES, converter=__name__, converter_version=VERSION,
                         workers=workers, clips_per_shard=512, skipped=skipped, progress=progress, extra=facts)
