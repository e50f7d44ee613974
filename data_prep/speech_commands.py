"""Speech Commands v0.02 (Warden 2018) as used by Kim, Lee, Nam 2019.

On-disk layout of the release::

    SRC/<word>/<speaker>_nohash_<n>.wav     35 word folders
    SRC/_background_noise_/*.wav            excluded
    SRC/validation_list.txt                 lines like ``right/bb05582b_nohash_3.wav``
    SRC/testing_list.txt

Protocol: validation and test clips are the ones the two lists name; training is every other word clip.
Labels are the 35 words in the authors' index order. The speaker id (the file name's prefix) is stored as
``artist_id``; the release's lists keep each speaker in one split.
"""

from __future__ import annotations

import os
import warnings

from sampleaudio.data_prep import keep_inside_src, require_inside_src
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import Clip, DatasetInfo, Manifest, Task, write_dataset

__all__ = ["NAME", "VERSION", "INFO", "WORDS", "list_clips", "convert"]

NAME = "speech-commands"
VERSION = "1.0"
INFO = DatasetInfo(
    NAME,
    # Kim 2019's constants (the authors' lib/data/config.py)
    Task(NAME, num_classes=35, multi_label=False, threshold=0.5, metric="accuracy", clip_seconds=1.0,
         paper_mean=-8.520474e-5, paper_std=0.18, proxy="mini-speech-commands", aliases=("scd",)),
    description="Speech Commands v0.02: <word>/*.wav + validation_list.txt + testing_list.txt; 35 words",
    citation="Warden. Speech Commands: a dataset for limited-vocabulary speech recognition. arXiv:1804.03209, 2018.",
    homepage="https://www.tensorflow.org/datasets/catalog/speech_commands",
)

#: The 35 words of v0.02 in the authors' index order.
WORDS = [
    "backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow", "forward", "four", "go", "happy",
    "house", "learn", "left", "marvin", "nine", "no", "off", "on", "one", "right", "seven", "sheila", "six",
    "stop", "three", "tree", "two", "up", "visual", "wow", "yes", "zero",
]
NOISE_DIR = "_background_noise_"


def _read_list(path: str) -> set[str]:
    if not os.path.exists(path):
        raise DatasetLayoutError(f"'{os.path.dirname(path)}' is not a Speech Commands v0.02 folder: "
                                 f"{os.path.basename(path)} is missing")
    require_inside_src(os.path.dirname(path), path)
    try:
        # utf-8-sig: a byte-order mark written by an editor must not turn the first entry into another name
        # (that clip would silently move to train and its speaker leak across splits)
        with open(path, encoding="utf-8-sig") as f:
            entries = {line.strip().replace("\\", "/") for line in f if line.strip()}
    except UnicodeDecodeError as exc:
        raise DatasetLayoutError(f"'{path}' is not UTF-8 text (byte {exc.start}): is it the release's list?") from exc
    except OSError as exc:
        raise DatasetLayoutError(f"'{path}' cannot be read ({exc.strerror})") from exc
    if not entries:
        raise DatasetLayoutError(f"'{path}' is empty: the release's list names thousands of clips")
    return entries


def list_clips(src: str) -> tuple[list[Clip], list[dict[str, str]], dict[str, list[str]]]:
    """Return ``(clips, skipped, facts)``; ``facts`` lists folders that were ignored or missing."""
    valid = _read_list(os.path.join(src, "validation_list.txt"))
    test = _read_list(os.path.join(src, "testing_list.txt"))
    overlap = valid & test
    if overlap:
        raise DatasetLayoutError(f"{len(overlap)} clip(s) are in both validation_list.txt and testing_list.txt, "
                                 f"e.g. {sorted(overlap)[0]}")
    index = {w: i for i, w in enumerate(WORDS)}
    folders = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    ignored = [d for d in folders if d not in index and d != NOISE_DIR]
    missing = [w for w in WORDS if w not in folders]
    if len(missing) == len(WORDS):
        raise DatasetLayoutError(f"'{src}' holds none of the 35 Speech Commands word folders")
    if missing:
        warnings.warn(f"Speech Commands folder '{src}' lacks word folder(s) {missing}", stacklevel=2)
    clips, listed = [], set()
    for word in folders:
        if word not in index:
            continue
        for name in sorted(os.listdir(os.path.join(src, word))):
            if not name.lower().endswith(".wav"):
                continue
            rel = f"{word}/{name}"
            listed.add(rel)
            split = "valid" if rel in valid else "test" if rel in test else "train"
            speaker = name.split("_nohash_")[0]
            clips.append(Clip(clip_id=rel, split=split, labels=(index[word],), source=os.path.join(src, rel),
                              artist_id=speaker))
    wanted = {rel for rel in valid | test if rel.split("/", 1)[0] in index}
    skipped = [{"clip_id": rel, "path": os.path.join(src, rel), "reason": "named in a split list but not on disk"}
               for rel in sorted(wanted - listed)]
    clips, skipped = keep_inside_src(src, clips, skipped)
    return clips, skipped, {"ignored_folders": ignored, "missing_words": missing}


def convert(src: str, out: str, *, workers: int = 1, progress: bool = True,
            clips_per_shard: int = 1000) -> Manifest:
    """Convert a Speech Commands v0.02 folder into a TFRecord store at ``out``."""
    clips, skipped, facts = list_clips(src)
    return write_dataset(clips, out, info=INFO, labels=WORDS, converter=__name__,
                         converter_version=VERSION, workers=workers, clips_per_shard=clips_per_shard,
                         skipped=skipped, progress=progress,
                         extra={"split_rule": "validation_list.txt / testing_list.txt, train is the rest; "
                                              "_background_noise_ excluded", **facts})
