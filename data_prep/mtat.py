"""MagnaTagATune (Law et al., ISMIR 2009) as used by Lee 2017 and Kim, Lee, Nam 2019.

On-disk layout of the release::

    SRC/annotations_final.csv        tab-separated: clip_id, 188 tag columns (0/1), mp3_path
    SRC/mp3/0/... SRC/mp3/f/         the 16 folders of the mp3 zip (``SRC/0 ... SRC/f`` accepted too)

Protocol (Kim, Lee, Nam 2019 Sec. IV-A; authors' ``lib/data/mtt.py``): the 50 most frequent tags;
clips with none of them dropped; split by the mp3 folder's hex digit: ``0``-``b`` train, ``c`` valid,
``d``-``f`` test (15,244-15,250 / 1,529 / 4,332 clips). The vocabulary is ordered like the original (ascending
tag frequency), so the authors' released output layers line up index by index. Clips are stored whole
(29.1 s); the pipeline cuts ten 59,049-sample segments from each for evaluation.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from sampleaudio.audio import SAMPLE_RATE
from sampleaudio.data_prep import keep_inside_src, require_inside_src
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import Clip, DatasetInfo, Manifest, Task, write_dataset

if TYPE_CHECKING:  # pandas is imported when a conversion runs, not when the converters are listed
    import pandas as pd

__all__ = ["NAME", "VERSION", "INFO", "TOP50", "KNOWN_BROKEN", "split_of", "list_clips", "convert"]

NAME = "mtat"
VERSION = "1.0"
INFO = DatasetInfo(
    NAME,
    # Kim 2019's constants (the authors' lib/data/config.py)
    Task(NAME, num_classes=50, multi_label=True, threshold=0.5, metric="roc_auc", clip_seconds=29.0,
         paper_mean=-1.650025e-4, paper_std=0.1551194, proxy="mini-mtat", aliases=("mtt",)),
    description="MagnaTagATune: annotations_final.csv + mp3/0..f; top-50 tags, split by folder (0-b/c/d-f)",
    citation="Law, West, Mandel, Bay, Downie. Evaluation of algorithms using games: the case of music tagging. "
             "ISMIR 2009.",
    homepage="https://mirg.city.ac.uk/codeapps/the-magnatagatune-dataset",
)

#: The top-50 tags of the release in the authors' index order (ascending frequency).
TOP50 = [
    "choral", "female voice", "metal", "country", "weird", "no voice", "cello", "harp", "beats", "female vocal",
    "male voice", "dance", "new age", "voice", "choir", "classic", "man", "solo", "sitar", "soft", "pop",
    "no vocal", "male vocal", "woman", "flute", "quiet", "loud", "harpsichord", "no vocals", "vocals", "singing",
    "male", "opera", "indian", "female", "synth", "vocal", "violin", "beat", "ambient", "piano", "fast", "rock",
    "electronic", "drums", "strings", "techno", "slow", "classical", "guitar",
]

#: mp3 files of the release that are empty (0 bytes) and are skipped without trying to decode them.
KNOWN_BROKEN = {
    "6/norine_braun-now_and_zen-08-gently-117-146.mp3",
    "8/jacob_heringman-josquin_des_prez_lute_settings-19-gintzler__pater_noster-204-233.mp3",
    "9/american_baroque-dances_and_suites_of_rameau_and_couperin-25-le_petit_rien_xiveme_ordre_couperin-88-117.mp3",
}


def split_of(mp3_path: str) -> str:
    """Split of a clip from its folder's hex digit: 0-b train, c valid, d-f test."""
    folder = mp3_path.split("/", 1)[0]
    try:
        part = int(folder, 16)
    except ValueError as exc:
        raise DatasetLayoutError(f"mp3_path '{mp3_path}' does not start with a hex folder 0-f") from exc
    if not 0 <= part <= 15 or len(folder) != 1:
        raise DatasetLayoutError(f"mp3_path '{mp3_path}' does not start with a hex folder 0-f")
    return "train" if part < 12 else "valid" if part == 12 else "test"


def _audio_root(src: str) -> str:
    for root in (os.path.join(src, "mp3"), src):
        if any(os.path.isdir(os.path.join(root, d)) for d in "0123456789abcdef"):
            return root
    raise DatasetLayoutError(f"no mp3 folders 0-f under '{src}/mp3' or '{src}'")


def top_tags(annotations: pd.DataFrame, num_top: int = 50) -> list[str]:
    """The ``num_top`` most frequent tags, ordered like the original (ascending count, ties by column order).

    When they are exactly MTAT's published top 50, the authors' order (:data:`TOP50`) is used.
    """
    tags = annotations.drop(columns=["clip_id", "mp3_path"])
    counts = tags.sum(axis=0)
    position = {t: i for i, t in enumerate(tags.columns)}
    ranked = sorted(counts.index, key=lambda t: (-counts[t], position[t]))[:num_top]
    if num_top == 50 and set(ranked) == set(TOP50):
        return list(TOP50)
    return sorted(ranked, key=lambda t: (counts[t], -position[t]))


def list_clips(src: str, num_top: int = 50) -> tuple[list[Clip], list[dict[str, str]], list[str]]:
    """Read the release's annotations; return ``(clips, skipped, vocabulary)``."""
    import pandas as pd

    csv = os.path.join(src, "annotations_final.csv")
    if not os.path.exists(csv):
        raise DatasetLayoutError(f"'{src}' is not a MagnaTagATune folder: {csv} is missing")
    require_inside_src(src, csv)
    try:
        df = pd.read_csv(csv, sep="\t", dtype={"clip_id": str, "mp3_path": str})
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DatasetLayoutError(f"{csv} is not the release's tab-separated annotation file ({exc})") from exc
    missing = {"clip_id", "mp3_path"} - set(df.columns)
    if missing:
        raise DatasetLayoutError(f"{csv} lacks column(s) {sorted(missing)}: is it tab-separated?")
    if df["clip_id"].isna().any() or df["mp3_path"].isna().any():
        raise DatasetLayoutError(f"{csv} has rows without a clip_id or mp3_path")
    tags = df.drop(columns=["clip_id", "mp3_path"])
    if tags.empty or not all(pd.api.types.is_numeric_dtype(t) for t in tags.dtypes) or \
            not tags.isin([0, 1]).all().all():
        bad = next((c for c in tags.columns if not tags[c].isin([0, 1]).all()), "?")
        raise DatasetLayoutError(f"{csv}: tag cells must be 0 or 1 (column '{bad}' holds other values)")
    vocab = top_tags(df, num_top)
    root = _audio_root(src)
    label_matrix = df[vocab].to_numpy()
    clips, skipped = [], []
    for row, (clip_id, mp3) in enumerate(zip(df["clip_id"], df["mp3_path"])):
        labels = tuple(int(i) for i in label_matrix[row].nonzero()[0])
        if not labels:
            continue  # clips with none of the top tags are dropped (as in the original)
        parts = mp3.replace("\\", "/").split("/")
        if os.path.isabs(mp3) or ".." in parts or "" in parts:
            raise DatasetLayoutError(f"{csv}: mp3_path '{mp3}' (clip {clip_id}) points outside the audio folder")
        path = os.path.join(root, mp3)
        if mp3 in KNOWN_BROKEN:
            skipped.append({"clip_id": clip_id, "path": path, "reason": "known broken file of the MTAT release"})
            continue
        base = os.path.basename(mp3)[: -len(".mp3")]
        parts = base.split("-")
        track = "-".join(parts[:-2]) if len(parts) > 2 else base
        clips.append(Clip(clip_id=clip_id, split=split_of(mp3), labels=labels, source=path,
                          artist_id=parts[0], track_id=track))
    clips, skipped = keep_inside_src(src, clips, skipped)
    return clips, skipped, vocab


def convert(src: str, out: str, *, workers: int = 1, progress: bool = True, clips_per_shard: int = 256,
            num_top: int = 50, sample_rate: int = SAMPLE_RATE) -> Manifest:
    """Convert a MagnaTagATune folder into a TFRecord store at ``out`` (``sample_rate``: 22,050 Hz, Kim 2019's;
    16,000 for Won 2020's models and musicnn)."""
    clips, skipped, vocab = list_clips(src, num_top)
    return write_dataset(clips, out, info=INFO, labels=vocab, converter=__name__,
                         converter_version=VERSION, workers=workers, clips_per_shard=clips_per_shard,
                         skipped=skipped, progress=progress, sample_rate=sample_rate,
                         extra={"split_rule": "mp3 folder 0-b train, c valid, d-f test",
                                "top_tags": num_top})
