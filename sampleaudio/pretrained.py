"""Registered pretrained models: names that ``tag``, ``embed``, ``index`` and ``export`` accept in place of a run
folder.

Each entry maps a public name (``musicnn-mtt``, ``park2018-artist``, ``samplecnn-mtat-se-multi``, ...) to a
:class:`Pretrained` record that describes itself: its loader, given as ``"module:function"`` so that nothing is
imported until the name is used, the paper, the input it takes (sample rate, segment), what it outputs, and what
the user must supply (a weights file, a package or an extra). Listings (``sampleaudio tag --help``, the error for
an unknown name, a future ``sampleaudio models``) are generated from these records.

A loader takes the user-supplied weights path (``None`` when the weights come from an installed package) and
returns ``(model, card)``: a Keras model taking segments ``[N, segment, 1]`` and a model card with the same keys as
a training run's ``model_card.json`` (``labels``, ``segment``, ``mean``, ``std``, and optionally ``sample_rate``,
``embedding_layer``, ``chunking``, ``chunks`` and ``clip_pooling``: ``mean`` over segments (default),
``max-then-mean`` or the ``first`` segment only; :class:`sampleaudio.segments.InputSpec`, whose defaults fill what a
card leaves out). Adding a pretrained model is one entry here and its loader in the family's own module.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from sampleaudio.errors import ParameterError

__all__ = ["Pretrained", "PRETRAINED", "is_pretrained", "load_pretrained", "describe", "summary"]


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """A registered pretrained model, described for listings.

    Attributes:
        loader: ``"module:function"`` of its loader (see the module docstring).
        paper: the paper (authors, venue, year) whose released model it is.
        sample_rate: the input's sample rate in Hz.
        segment_seconds: the model's input window in seconds (the default hop of ``tag``/``embed``).
        outputs: what it computes (tags and their vocabulary, or an embedding).
        needs: what the user must supply, as the user would type it (``--weights FILE`` and where the file comes
            from; a package to install), or ``""`` when the weights ship with the package's dependencies.
    """

    loader: str
    paper: str
    sample_rate: int
    segment_seconds: float
    outputs: str
    needs: str = ""

    def line(self, name: str) -> str:
        """One line for a listing: name, paper, input, outputs and what it needs."""
        needs = f"; needs {self.needs}" if self.needs else ""
        return (f"{name}: {self.paper}; {self.sample_rate:,} Hz, {round(self.segment_seconds, 2):g} s windows; "
                f"{self.outputs}{needs}")


_MUSICNN = "pip install --no-deps musicnn (the authors' wheel holds the weights)"
_RESEMUL = "the authors' release, tae-jun/resemul README, MIT"

#: name -> its :class:`Pretrained` record (a plain ``"module:function"`` string is accepted too, for tests).
PRETRAINED: dict[str, Pretrained | str] = {
    # Park, Lee, Park, Ha, Nam: artist-labelled song features (ISMIR 2018); weights supplied by the user
    "park2018-artist": Pretrained(
        "sampleaudio.models.artist_cnn:load_park2018_artist", "Park et al., ISMIR 2018", 22050, 660480 / 22050,
        "256-d song embedding (first 30 s of a file)",
        "--weights model_siamese_10000.h5 (the authors' release, jongpillee/ismir2018-artist, MIT)"),
    # musicnn (Pons and Serra): released MTAT / MSD taggers, weights from the `musicnn` wheel (--no-deps)
    "musicnn-mtt": Pretrained("sampleaudio.models.musicnn:load_mtt_musicnn", "Pons and Serra, musicnn, 2019",
                              16000, 47872 / 16000, "50 MagnaTagATune tags", _MUSICNN),
    "musicnn-msd": Pretrained("sampleaudio.models.musicnn:load_msd_musicnn", "Pons and Serra, musicnn, 2019",
                              16000, 47872 / 16000, "50 Million Song Dataset tags", _MUSICNN),
    "musicnn-mtt-vgg": Pretrained("sampleaudio.models.musicnn:load_mtt_vgg", "Pons and Serra, musicnn, 2019",
                                  16000, 47872 / 16000, "50 MagnaTagATune tags (VGG baseline)", _MUSICNN),
    "musicnn-msd-vgg": Pretrained("sampleaudio.models.musicnn:load_msd_vgg", "Pons and Serra, musicnn, 2019",
                                  16000, 47872 / 16000, "50 Million Song Dataset tags (VGG baseline)", _MUSICNN),
    # Kim, Lee, Nam: SampleCNN with SE / ReSE blocks and multi-level aggregation (ICASSP 2018); user-supplied weights
    "samplecnn-mtat-se-multi": Pretrained(
        "sampleaudio.models.samplecnn_pretrained:load_mtat_se_multi", "Kim, Lee, Nam, ICASSP 2018 (SE+multi)",
        22050, 59049 / 22050, "50 MagnaTagATune tags (ROC-AUC 0.9111 in the paper)",
        f"--weights se-multi-auc_0.9111-tfrmodel.hdf5 ({_RESEMUL})"),
    "samplecnn-mtat-rese-multi": Pretrained(
        "sampleaudio.models.samplecnn_pretrained:load_mtat_rese_multi", "Kim, Lee, Nam, ICASSP 2018 (ReSE+multi)",
        22050, 59049 / 22050, "50 MagnaTagATune tags (ROC-AUC 0.9113 in the paper)",
        f"--weights rese-multi-auc_0.9113-tfrmodel.hdf5 ({_RESEMUL})"),
}


def is_pretrained(name: str) -> bool:
    """Whether ``name`` is a registered pretrained model name (and not a path)."""
    return str(name) in PRETRAINED


def describe() -> str:
    """Every registered name with its paper, input, outputs and needs, one per line (for ``--help``)."""
    lines = []
    for name in sorted(PRETRAINED):
        entry = PRETRAINED[name]
        lines.append(entry.line(name) if isinstance(entry, Pretrained) else f"{name}: {entry}")
    return "\n".join(lines)


def summary() -> str:
    """The registered names with what each needs, on one line (for one-line errors)."""
    parts = []
    for name in sorted(PRETRAINED):
        entry = PRETRAINED[name]
        needs = entry.needs.split(" (")[0] if isinstance(entry, Pretrained) and entry.needs else ""
        parts.append(f"{name} ({needs})" if needs else name)
    return "; ".join(parts)


def load_pretrained(name: str, weights: str | None = None) -> tuple[Any, dict]:
    """The Keras model and model card of the registered pretrained model ``name``."""
    if name not in PRETRAINED:
        raise ParameterError(f"unknown pretrained model '{name}'; registered: {summary() or 'none'}")
    entry = PRETRAINED[name]
    module, function = (entry.loader if isinstance(entry, Pretrained) else entry).split(":")
    model, card = getattr(importlib.import_module(module), function)(weights)
    from sampleaudio.segments import InputSpec  # TensorFlow: only once a model is loaded (--help stays fast)

    missing = {"labels", "segment", "mean", "std"} - set(card)
    if missing:
        raise ParameterError(f"pretrained model '{name}': its card lacks {sorted(missing)}")
    try:
        return model, InputSpec.complete(card)  # the input-path fields it leaves out, at their defaults
    except (ParameterError, TypeError) as exc:
        raise ParameterError(f"pretrained model '{name}': {exc}") from exc
