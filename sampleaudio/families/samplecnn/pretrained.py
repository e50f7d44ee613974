"""The authors' released SampleCNN taggers: ICASSP 2018's SE+multi and ReSE+multi MagnaTagATune models.

Reference: Kim, Lee, Nam, "Sample-level CNN architectures for music auto-tagging using raw waveforms", ICASSP
2018. The authors released their two best models (``tae-jun/resemul`` README, "Downloading pre-trained models"):
``se-multi-auc_0.9111-tfrmodel.hdf5`` and ``rese-multi-auc_0.9113-tfrmodel.hdf5``, whole Keras 2.0.5 models saved by
``ModelCheckpoint``. The user downloads them and passes the file with ``--weights``:
``sampleaudio tag samplecnn-mtat-se-multi song.mp3 --weights se-multi-auc_0.9111-tfrmodel.hdf5``.

What they are, in this package's terms (``--protocol icassp2018`` of :mod:`sampleaudio.experiments.kim2019`):
:func:`sampleaudio.families.samplecnn.model.SampleCNN` with 9 blocks, ``block="se"`` or ``"rese2"`` (resemul's ``rese`` is
the two-conv block), ``multi=True`` (global max pools of the last three blocks, concatenated), SE amplifying ratio
16 (hidden width 16x the channels), He-uniform convs, the two-layer head (Dense 1024, BN, ReLU, dropout 0.5, 50
sigmoid outputs). Input: 59,049-sample segments of the **raw** 22,050 Hz waveform (no standardisation); the tags
are MTAT's top 50 in the authors' order (:data:`sampleaudio.data_prep.mtat.TOP50`); a clip's scores are the mean
over its segments, as the authors' ``eval.py`` averaged the 10 segments of a 29-s clip.

The file's layout (Keras 2 ``save``): ``model_weights`` holds ``layer_names`` and one group per layer; a layer
with weights lists ``weight_names`` such as ``conv1d_1/kernel:0`` and keeps its arrays at
``model_weights/conv1d_1/conv1d_1/kernel:0``. resemul named no layer, so the names are Keras' automatic ones,
``<type>_<n>`` with one counter per type, numbered in the order the layers were created (the authors'
``extract_excitations.py`` reads the SE excitations of the SE model as ``dense_2, dense_4, ..., dense_18``). A
process that had built a model before starts the counters higher, so the names are matched by their rank within
each type, not by their number: the k-th ``conv1d`` in creation order is the k-th conv of :func:`released_order`.
"""

from __future__ import annotations

import os
import re

import keras

from sampleaudio.errors import ParameterError

__all__ = ["ICASSP2018", "build_icassp2018", "released_order", "load_icassp2018_weights", "load_mtat_se_multi",
           "load_mtat_rese_multi"]

#: The ICASSP 2018 model settings (resemul's ``train.py`` defaults; ``--protocol icassp2018``).
ICASSP2018 = {"num_blocks": 9, "multi": True, "amplifying_ratio": 16.0, "initializer": "he_uniform",
              "dropout": 0.5, "num_classes": 50, "segment": 59049, "sample_rate": 22050}
_BLOCKS = {"se": "se", "rese": "rese2"}  # resemul's block names -> this package's
_KERAS2_NAME = re.compile(r"^(conv1d|batch_normalization|dense)_(\d+)$")


def build_icassp2018(block: str, *, init_features: int = 128, num_classes: int = 50) -> keras.Model:
    """The ICASSP 2018 SampleCNN with resemul's ``block`` (``se`` or ``rese``), as the released files hold it
    (``init_features`` and ``num_classes`` other than 128 and 50 only for tests)."""
    from sampleaudio.families.samplecnn.model import SampleCNN

    if block not in _BLOCKS:
        raise ParameterError(f"block must be one of {sorted(_BLOCKS)}. Received: block={block!r}")
    s = ICASSP2018
    return SampleCNN(_BLOCKS[block], multi=s["multi"], num_blocks=s["num_blocks"], num_classes=num_classes,
                     amplifying_ratio=s["amplifying_ratio"], dropout=s["dropout"], init_features=init_features,
                     initializer=s["initializer"], name=f"samplecnn_icassp2018_{block}")


def released_order(block: str, num_blocks: int = 9, init_features: int = 128) -> dict[str, list[str]]:
    """This package's layer names of each Keras-2 layer type, in the order resemul's ``model.py`` created them.

    ``conv1d``: the stem, then per block (ReSE: the 1x1 shortcut first where the width changes, then two convs);
    ``batch_normalization``: the same, then the head's; ``dense``: each block's SE pair, then the head's two.
    """
    from sampleaudio.families.samplecnn.model import block_widths

    widths = block_widths(num_blocks, init_features)
    convs, norms, dense = ["conv0"], ["norm0"], []
    previous = init_features
    for i, width in enumerate(widths):
        b = f"block{i}"
        if block == "se":
            convs.append(f"{b}_conv")
            norms.append(f"{b}_norm")
        else:
            if width != previous:
                convs.append(f"{b}_scut_conv")
                norms.append(f"{b}_scut_norm")
            convs += [f"{b}_conv0", f"{b}_conv1"]
            norms += [f"{b}_norm0", f"{b}_norm1"]
        dense += [f"{b}_ex0", f"{b}_ex1"]
        previous = width
    norms.append("final_norm")
    dense += ["final_fc", "logit"]
    return {"conv1d": convs, "batch_normalization": norms, "dense": dense}


def _renaming(path: str, file_layers: list[str], block: str, num_blocks: int, init_features: int) -> dict[str, str]:
    """``{name in the file: name in the model}``, by rank within each layer type (see the module docstring)."""
    by_type: dict[str, list[tuple[int, str]]] = {}
    for name in file_layers:
        match = _KERAS2_NAME.match(name)
        if match:
            by_type.setdefault(match.group(1), []).append((int(match.group(2)), name))
    rename = {}
    for kind, ours in released_order(block, num_blocks, init_features).items():
        theirs = [name for _, name in sorted(by_type.get(kind, []))]
        if len(theirs) != len(ours):
            raise ParameterError(f"'{path}' has {len(theirs)} {kind} layers with weights, the ICASSP 2018 "
                                 f"{block}+multi model {len(ours)}: not the released {block}-multi file?")
        rename.update(zip(theirs, ours))
    return rename


def load_icassp2018_weights(model: keras.Model, path: str, block: str, *, num_blocks: int = 9,
                            init_features: int = 128) -> None:
    """Copy a resemul Keras-2 HDF5 file's weights into :func:`build_icassp2018`'s model (every layer with weights,
    shapes checked: a file of the other block type is refused)."""
    from sampleaudio.weights import load_keras2_weights, read_keras2_weights

    stored = read_keras2_weights(path)
    weighted = [name for name, arrays in stored.items() if arrays]
    rename = _renaming(path, weighted, block, num_blocks, init_features)
    unknown = sorted(set(weighted) - set(rename))
    if unknown:
        raise ParameterError(f"'{path}' has layers with weights that resemul's model does not: {unknown[:3]}")
    try:
        load_keras2_weights(model, path, strict=True, rename=rename)
    except ParameterError as exc:
        detail = str(exc).removeprefix(f"weights '{path}': ")
        raise ParameterError(f"'{path}' does not fit the ICASSP 2018 {block}+multi model: {detail}") from exc


def _load(block: str, weights: str | None, release: str) -> tuple[keras.Model, dict]:
    from sampleaudio.data_prep.mtat import TOP50

    name = f"samplecnn-mtat-{block}-multi"
    if not weights:
        raise ParameterError(f"{name} needs its weights file: --weights {release} (the authors' release, linked "
                             "from the tae-jun/resemul README)")
    if not os.path.isfile(weights):
        raise ParameterError(f"--weights '{weights}': no such file")
    model = build_icassp2018(block)
    load_icassp2018_weights(model, weights, block)
    card = {"labels": list(TOP50), "segment": ICASSP2018["segment"], "mean": 0.0, "std": 1.0,
            "sample_rate": ICASSP2018["sample_rate"], "embedding_layer": "final_relu", "chunking": "consecutive",
            "clip_pooling": "mean",
            "source": f"Kim, Lee, Nam, ICASSP 2018; weights: tae-jun/resemul {release} (MIT)"}
    return model, card


def load_mtat_se_multi(weights: str | None) -> tuple[keras.Model, dict]:
    """Loader of ``samplecnn-mtat-se-multi`` (:mod:`sampleaudio.pretrained`): ``se-multi-auc_0.9111-tfrmodel.hdf5``."""
    return _load("se", weights, "se-multi-auc_0.9111-tfrmodel.hdf5")


def load_mtat_rese_multi(weights: str | None) -> tuple[keras.Model, dict]:
    """Loader of ``samplecnn-mtat-rese-multi``: ``rese-multi-auc_0.9113-tfrmodel.hdf5``."""
    return _load("rese", weights, "rese-multi-auc_0.9113-tfrmodel.hdf5")
