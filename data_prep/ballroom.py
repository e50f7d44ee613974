"""Extended Ballroom (Marchand and Peeters, ISMIR 2016 LBD), as a target of Choi et al. (ISMIR 2017): 4,180 excerpts
of 13 dance styles.

On-disk layout (the release, ``extendedballroom_v1.1.zip``)::

    SRC/<Style>/<id>.mp3            13 style folders (Chacha, Foxtrot, ..., Wcswing), ~30 s excerpts
    SRC/ballroom_extended_2016/<Style>/<id>.mp3   (or the style folders one level down, as the authors kept them)

Labels in the authors' order (``0. main_prepare_many_datasets.ipynb``: ``labels_be``): Chacha, Foxtrot, Jive,
Pasodoble, Rumba, Salsa, Samba, Slowwaltz, Tango, Viennesewaltz, Waltz, Wcswing, Quickstep (Quickstep last).

Split: the paper evaluates by 10-fold cross-validation over all 4,180 clips (:func:`sampleaudio.transfer.
cross_validate_svm`); a store needs three splits, so the clips of each style, in id order, are cut into 10
contiguous folds as that CV's unshuffled stratified folds (:func:`sampleaudio.transfer.choi2017_folds`), folds 1-8
train, 9 valid, 10 test, and each clip records its ``fold`` (1-10).
"""

from __future__ import annotations

import os

from sampleaudio.data_prep import keep_inside_src
from sampleaudio.errors import DatasetLayoutError
from sampleaudio.stores import Clip, DatasetInfo, Feature, Manifest, Task, write_dataset

__all__ = ["NAME", "VERSION", "INFO", "STYLES", "list_clips", "convert"]

NAME = "ballroom"
VERSION = "1.0"
INFO = DatasetInfo(
    NAME,
    Task(NAME, num_classes=13, multi_label=False, threshold=0.5, metric="accuracy", clip_seconds=30.0,
         aliases=("ballroom-extended",)),
    description="Extended Ballroom: <Style>/<id>.mp3 in 13 style folders (optionally under ballroom_extended_2016/)",
    features=(Feature("fold", "int", doc="cross-validation fold 1-10 (unshuffled, stratified, in id order)"),),
    citation="Marchand, Peeters. The extended ballroom dataset. ISMIR 2016 late-breaking demo.",
    homepage="http://anasynth.ircam.fr/home/media/ExtendedBallroom",
)
STYLES = ["Chacha", "Foxtrot", "Jive", "Pasodoble", "Rumba", "Salsa", "Samba", "Slowwaltz", "Tango",
          "Viennesewaltz", "Waltz", "Wcswing", "Quickstep"]
EXTENSIONS = (".mp3", ".wav", ".flac")


def _root(src: str) -> str:
    for candidate in (src, os.path.join(src, "ballroom_extended_2016"), os.path.join(src, "extendedballroom_v1.1")):
        if sum(os.path.isdir(os.path.join(candidate, s)) for s in STYLES) >= 2:
            return candidate
    raise DatasetLayoutError(f"'{src}' is not an Extended Ballroom folder: no style folders ({', '.join(STYLES[:3])}, "
                             "...) in it or in ballroom_extended_2016/")


def _folds(count: int, n_folds: int = 10) -> list[int]:
    """1-based fold of each of ``count`` clips: ``n_folds`` contiguous runs, the first ``count % n_folds`` longer."""
    sizes = [count // n_folds + (1 if k < count % n_folds else 0) for k in range(n_folds)]
    return [k + 1 for k, size in enumerate(sizes) for _ in range(size)]


def list_clips(src: str) -> tuple[list[Clip], list[dict[str, str]], dict]:
    """``(clips, skipped, facts)``; ``facts['missing_styles']`` names style folders not found."""
    root = _root(src)
    clips, missing = [], []
    for label, style in enumerate(STYLES):
        folder = os.path.join(root, style)
        if not os.path.isdir(folder):
            missing.append(style)
            continue
        names = sorted((f for f in os.listdir(folder) if f.lower().endswith(EXTENSIONS)),
                       key=lambda f: os.path.splitext(f)[0])
        for name, fold in zip(names, _folds(len(names))):
            stem = os.path.splitext(name)[0]
            split = "train" if fold <= 8 else "valid" if fold == 9 else "test"
            clips.append(Clip(clip_id=f"{style}/{stem}", split=split, labels=(label,),
                              source=os.path.join(folder, name), track_id=stem, features={"fold": fold}))
    clips, skipped = keep_inside_src(src, clips)
    return clips, skipped, {"split_rule": "per style in id order, 10 contiguous folds: 1-8 train, 9 valid, 10 test",
                            "missing_styles": missing}


def convert(src: str, out: str, *, workers: int = 1, progress: bool = True) -> Manifest:
    """Convert an Extended Ballroom folder into a TFRecord store at ``out``."""
    clips, skipped, facts = list_clips(src)
    if not clips:
        raise DatasetLayoutError(f"'{src}': no Extended Ballroom excerpt found")
    return write_dataset(clips, out, info=INFO, labels=STYLES, converter=__name__, converter_version=VERSION,
                         workers=workers, clips_per_shard=256, skipped=skipped, progress=progress, extra=facts)
