"""musicnn (Pons and Serra, ISMIR 2019 late-breaking demo; Pons et al., ISMIR 2018): the released MagnaTagATune and
Million Song Dataset taggers, musicnn and its VGG baseline, ported to Keras 3 with the checkpoints the ``musicnn``
wheel carries (install it with ``pip install --no-deps musicnn``). 16 kHz, 3 s patches.
"""

from __future__ import annotations

from sampleaudio.families import Family, Pretrained

__all__ = ["FAMILY"]

_NEEDS = "pip install --no-deps musicnn (the wheel carries the weights)"
_PAPER = "Pons and Serra, ISMIR 2019 LBD"
_LOADERS = "sampleaudio.families.musicnn.model"

FAMILY = Family(
    name="musicnn",
    paper=_PAPER,
    docs="papers/musicnn.md",
    pretrained=tuple(
        Pretrained(name, f"{_LOADERS}:{loader}", f"{_PAPER}: {what}", _NEEDS, 16000, 47872)
        for name, loader, what in (
            ("musicnn-mtt", "load_mtt_musicnn", "musicnn, MagnaTagATune top-50 tags"),
            ("musicnn-msd", "load_msd_musicnn", "musicnn, Million Song Dataset top-50 tags"),
            ("musicnn-mtt-vgg", "load_mtt_vgg", "VGG baseline, MagnaTagATune top-50 tags"),
            ("musicnn-msd-vgg", "load_msd_vgg", "VGG baseline, Million Song Dataset top-50 tags"),
        )),
)
