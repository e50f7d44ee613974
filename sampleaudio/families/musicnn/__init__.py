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
        Pretrained(name, f"{_LOADERS}:{loader}", _PAPER, _NEEDS, 16000, 47872, outputs)
        for name, loader, outputs in (
            ("musicnn-mtt", "load_mtt_musicnn", "50 MagnaTagATune tags"),
            ("musicnn-msd", "load_msd_musicnn", "50 Million Song Dataset tags"),
            ("musicnn-mtt-vgg", "load_mtt_vgg", "50 MagnaTagATune tags (VGG baseline)"),
            ("musicnn-msd-vgg", "load_msd_vgg", "50 Million Song Dataset tags (VGG baseline)"),
        )),
)
