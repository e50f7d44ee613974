"""Load weights saved by Keras 2 / tf.keras into sampleaudio models, by layer name.

The authors released SampleCNN weights (``tae-jun/resemul``, ``tae-jun/sampleaudio``) and the Park 2018
artist model as Keras-2 HDF5 files: either a whole model (``model.save``, weights under ``model_weights/``) or
weights only (``save_weights``). Both keep one group per layer, with ``layer_names`` and ``weight_names``
attributes in saving order. Keras 3's own loader does not read these by name, hence this module.
"""

from __future__ import annotations

import dataclasses
import os

import h5py
import keras
import numpy as np

from sampleaudio.errors import ParameterError

__all__ = ["LoadReport", "read_keras2_weights", "load_keras2_weights"]


@dataclasses.dataclass
class LoadReport:
    """What :func:`load_keras2_weights` did."""

    loaded: list[str]
    missing_in_file: list[str]
    unused_in_file: list[str]


def _decode(values) -> list[str]:
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def read_keras2_weights(path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """``{layer_name: [arrays in saving order]}`` from a Keras-2 HDF5 model or weights file."""
    path = os.fspath(path)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise ParameterError(f"'{path}' is not a readable HDF5 file ({exc})") from exc
    with f:
        root = f["model_weights"] if "model_weights" in f else f
        if "layer_names" not in root.attrs:
            raise ParameterError(f"'{path}' has no 'layer_names' attribute: not a Keras 2 HDF5 weights file")
        out = {}
        for layer_name in _decode(root.attrs["layer_names"]):
            group = root[layer_name]
            names = _decode(group.attrs.get("weight_names", []))
            out[layer_name] = [np.asarray(group[n]) for n in names]
        return out


def load_keras2_weights(model: keras.Model, path: str | os.PathLike, *, strict: bool = True,
                        rename: dict[str, str] | None = None) -> LoadReport:
    """Copy weights from a Keras-2 HDF5 file into ``model``'s layers of the same name.

    Args:
        model: the target model.
        path: ``.h5`` file saved by Keras 2 / tf.keras (whole model or weights only).
        strict: raise when a model layer with weights has no counterpart in the file.
        rename: ``{file_layer_name: model_layer_name}`` for files whose names differ.

    Raises:
        ParameterError: a shape or weight-count mismatch (always), or missing layers with ``strict``.
    """
    stored = read_keras2_weights(path)
    if rename:
        stored = {rename.get(k, k): v for k, v in stored.items()}
    loaded, missing = [], []
    for layer in model.layers:
        if not layer.weights:
            continue
        arrays = stored.get(layer.name)
        if arrays is None or (not arrays and layer.weights):
            missing.append(layer.name)
            continue
        if len(arrays) != len(layer.weights):
            raise ParameterError(f"layer '{layer.name}': the file has {len(arrays)} weights, the model "
                                 f"{len(layer.weights)}")
        for var, arr in zip(layer.weights, arrays):
            if tuple(var.shape) != arr.shape:
                raise ParameterError(f"layer '{layer.name}' weight '{var.name}': shape {arr.shape} in the file, "
                                     f"{tuple(var.shape)} in the model")
        layer.set_weights(arrays)
        loaded.append(layer.name)
    if strict and missing:
        raise ParameterError(f"{len(missing)} layer(s) of the model are not in '{path}': {missing[:5]}")
    names = {layer.name for layer in model.layers}
    unused = sorted(k for k, v in stored.items() if v and k not in names)
    return LoadReport(loaded=loaded, missing_in_file=missing, unused_in_file=unused)
