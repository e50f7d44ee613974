"""DCASE 2017 Task 4 (large-scale weakly supervised sound event detection for smart cars), weak labels.

On-disk layout::

    SRC/groundtruth_weak_label_training_set.csv      tab-separated, no header:
    SRC/groundtruth_weak_label_testing_set.csv         <YouTubeID>_<start>_<end>.wav <start> <end> <label>
    SRC/groundtruth_weak_label_evaluation_set.csv      (one row per clip and label)
    SRC/unbalanced_train_segments_training_set_audio_formatted_and_segmented_downloads/Y<file>
    SRC/unbalanced_train_segments_testing_set_audio_formatted_and_segmented_downloads/Y<file>
    SRC/evaluation_set_formatted_audio_segments/Y<file>

Protocol of the authors' ``lib/data/dcs.py``: the DCASE training and testing sets are merged; 10 % of each
class's rows (``DataFrame.sample(frac=0.1, random_state=123)``) make the validation split (a clip drawn for any
of its classes goes to validation); the evaluation set is the test split. 17 classes in the original order.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from sampleaudio.data_prep import keep_inside_src, require_inside_src
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import Clip, DatasetInfo, Manifest, Task, write_dataset

if TYPE_CHECKING:  # pandas is imported when a conversion runs, not when the converters are listed
    import pandas as pd

__all__ = ["NAME", "VERSION", "INFO", "CLASSES", "list_clips", "convert"]

NAME = "dcase2017"
VERSION = "1.0"
INFO = DatasetInfo(
    NAME,
    # Kim 2019's constants (the authors' lib/data/config.py); the original thresholds DCASE's scores at 0.1
    Task(NAME, num_classes=17, multi_label=True, threshold=0.1, metric="instance_f1", clip_seconds=10.0,
         paper_mean=-3.320680e-4, paper_std=0.2051463, proxy="mini-dcase", aliases=("dcs",)),
    description="DCASE 2017 Task 4: weak-label CSVs + 3 audio folders; 17 classes, valid 10% per class (seed 123)",
    citation="Mesaros et al. DCASE 2017 challenge setup: tasks, datasets and baseline system. DCASE 2017 "
             "Workshop. Task 4.",
    homepage="https://dcase.community/challenge2017/task-large-scale-sound-event-detection",
)

#: The 17 event classes in the authors' index order.
CLASSES = [
    "Train horn", "Air horn, truck horn", "Car alarm", "Reversing beeps", "Ambulance (siren)",
    "Police car (siren)", "Fire engine, fire truck (siren)", "Civil defense siren", "Screaming", "Bicycle",
    "Skateboard", "Car", "Car passing by", "Bus", "Truck", "Motorcycle", "Train",
]
SETS = {
    "training": ("groundtruth_weak_label_training_set.csv",
                 "unbalanced_train_segments_training_set_audio_formatted_and_segmented_downloads"),
    "testing": ("groundtruth_weak_label_testing_set.csv",
                "unbalanced_train_segments_testing_set_audio_formatted_and_segmented_downloads"),
    "evaluation": ("groundtruth_weak_label_evaluation_set.csv", "evaluation_set_formatted_audio_segments"),
}


def _read(src: str, which: str) -> pd.DataFrame:
    import pandas as pd

    csv, folder = SETS[which]
    path = os.path.join(src, csv)
    if not os.path.exists(path):
        raise DatasetLayoutError(f"'{src}' is not a DCASE 2017 Task 4 folder: {csv} is missing")
    require_inside_src(src, path)
    try:
        df = pd.read_csv(path, sep="\t", header=None, names=["file", "start", "end", "label"], dtype={"file": str})
    except pd.errors.EmptyDataError as exc:
        raise DatasetLayoutError(f"{path} is empty: the {which} set would have no clips") from exc
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise DatasetLayoutError(f"{path} is not the release's tab-separated label file ({exc})") from exc
    if df.empty:
        raise DatasetLayoutError(f"{path} is empty: the {which} set would have no clips")
    if df["file"].isna().any() or df["label"].isna().any():
        raise DatasetLayoutError(f"{path} has no rows or rows without a file name or label: is it tab-separated?")
    unknown = sorted(set(df["label"]) - set(CLASSES))
    if unknown:
        raise DatasetLayoutError(f"{path} has label(s) outside the 17 classes: {unknown[:3]}")
    df["path"] = [os.path.join(src, folder, "Y" + f) for f in df["file"]]
    return df


def list_clips(src: str, seed: int = 123) -> list[Clip]:
    """Every clip with its weak labels and split (validation drawn per class with ``seed``)."""
    import pandas as pd

    dev = pd.concat([_read(src, "training"), _read(src, "testing")], ignore_index=True)
    evaluation = _read(src, "evaluation")
    valid_files: set[str] = set()
    for c in CLASSES:
        rows = dev[dev["label"] == c]
        valid_files.update(rows.sample(frac=0.1, random_state=seed)["file"])
    index = {c: i for i, c in enumerate(CLASSES)}
    clips = []
    for df, is_eval in ((dev, False), (evaluation, True)):
        for file, group in df.groupby("file", sort=True):
            split = "test" if is_eval else "valid" if file in valid_files else "train"
            labels = tuple(sorted({index[lab] for lab in group["label"]}))
            clips.append(Clip(clip_id=file[:-4] if file.endswith(".wav") else file, split=split, labels=labels,
                              source=group["path"].iloc[0]))
    return clips


def convert(src: str, out: str, *, workers: int = 1, progress: bool = True, clips_per_shard: int = 300,
            seed: int = 123) -> Manifest:
    """Convert a DCASE 2017 Task 4 folder into a TFRecord store at ``out``."""
    clips, skipped = keep_inside_src(src, list_clips(src, seed))
    return write_dataset(clips, out, info=INFO, labels=CLASSES, converter=__name__,
                         converter_version=VERSION, workers=workers, clips_per_shard=clips_per_shard,
                         skipped=skipped, progress=progress,
                         extra={"split_rule": f"training+testing merged, 10% per class valid (random_state={seed}), "
                                              "evaluation set = test"})
