"""Load weights saved by Keras 2 / tf.keras into sampleaudio models, by layer name.

The authors released SampleCNN weights (``tae-jun/resemul``, ``tae-jun/sampleaudio``) and the Park 2018
artist model as Keras-2 HDF5 files: either a whole model (``model.save``, weights under ``model_weights/``) or
weights only (``save_weights``). Both keep one group per layer, with ``layer_names`` and ``weight_names``
attributes in saving order. Keras 3's own loader does not read these by name, hence this module. It also reads
Keras 3 ``.weights.h5`` files by layer name (:func:`load_keras3_weights`: musicnn's ``--weights`` and cache).

Weight files come from users, so every reader checks a file before reading any array from it: names are
strings, every named group and dataset exists, no soft or external link (an external link would open any file
the process can read), no dataset keeping its data in other files, floating-point dtypes, the model's shapes, and
no dataset declaring more data than the file holds for it (a 2 MB file declaring an 8 GB array). Each problem is
one :class:`~sampleaudio.errors.ParameterError` naming the file.
"""

from __future__ import annotations

import dataclasses
import os

import h5py
import keras
import numpy as np

from sampleaudio.errors import ParameterError

__all__ = ["LoadReport", "read_keras2_weights", "load_keras2_weights", "load_keras3_weights", "open_weights_file",
           "check_dataset", "read_dataset"]


@dataclasses.dataclass
class LoadReport:
    """What :func:`load_keras2_weights` did."""

    loaded: list[str]
    missing_in_file: list[str]
    unused_in_file: list[str]


#: Deflate, the strongest HDF5 filter in common use, compresses at most about 1032:1: a dataset declaring more
#: data than that over what the file stores for it is crafted or truncated.
_MAX_COMPRESSION = 1032


def open_weights_file(path: str | os.PathLike) -> h5py.File:
    """``path`` opened read-only as HDF5, after refusing a missing path, a folder, a pipe or device and a file that
    is not HDF5
    (one :class:`~sampleaudio.errors.ParameterError` naming it). Links to other files are refused by the readers
    (:func:`_refuse_links`), before anything is read."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ParameterError(f"weights '{path}': no such file")
    if os.path.isdir(path):
        raise ParameterError(f"weights '{path}' is a folder, not an HDF5 weights file")
    if not os.path.isfile(path):  # a FIFO would block the open, a device never ends
        raise ParameterError(f"weights '{path}' is not a regular file (a pipe or a device?)")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise ParameterError(f"weights '{path}' is not a readable HDF5 file ({' '.join(str(exc).split())})") from exc


def _refuse_links(f: h5py.File, path: str) -> None:
    """Refuse soft and external links anywhere in the file: an external link opens another file (any file the
    process can read), a soft link can alias or loop; Keras writes neither."""
    def visit(name, link):  # a value other than None stops the walk (an exception must not cross h5py's C code)
        if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)):
            target = f"{link.filename}:{link.path}" if isinstance(link, h5py.ExternalLink) else link.path
            return f"weights '{path}': '{name}' is a link to '{target}'; links are not followed"
        return None

    problem = f.visititems_links(visit)
    if problem:
        raise ParameterError(problem)


def _member(path: str, group: h5py.Group, name: str, kind: type, what: str):
    """``group[name]`` when it is a hard-linked ``kind`` (Group or Dataset); one line naming the file otherwise."""
    link = group.get(name, getlink=True)
    if link is None:
        raise ParameterError(f"weights '{path}': {what} '{group.name.rstrip('/')}/{name}' is missing")
    if not isinstance(link, h5py.HardLink):
        raise ParameterError(f"weights '{path}': {what} '{group.name.rstrip('/')}/{name}' is a link; links are not "
                             "followed")
    obj = group[name]
    if not isinstance(obj, kind):
        raise ParameterError(f"weights '{path}': '{obj.name}' is not a {kind.__name__.lower()}")
    return obj


def check_dataset(path: str, dset: h5py.Dataset, shape: tuple[int, ...] | None = None,
                  what: str | None = None) -> h5py.Dataset:
    """Refuse an array before reading it: data kept in other files (external storage, a virtual dataset), a
    non-float dtype, a shape other than ``shape`` (the model's), or more data declared than the file holds for it
    (a small file declaring a huge array)."""
    what = what or f"dataset '{dset.name}'"
    if dset.is_virtual or dset.external:
        raise ParameterError(f"weights '{path}': {what} keeps its data in other files; refused")
    if dset.dtype.kind != "f":
        raise ParameterError(f"weights '{path}': {what} holds {dset.dtype}, not floating-point numbers")
    if shape is not None and tuple(dset.shape) != tuple(shape):
        raise ParameterError(f"weights '{path}': {what} has shape {tuple(dset.shape)} in the file, {tuple(shape)} "
                             "in the model")
    declared = int(dset.size or 0) * dset.dtype.itemsize
    stored = dset.id.get_storage_size()
    filtered = dset.id.get_create_plist().get_nfilters() > 0
    if declared > stored * (_MAX_COMPRESSION if filtered else 1):
        raise ParameterError(f"weights '{path}': {what} declares shape {tuple(dset.shape)} ({declared} bytes) but "
                             f"the file stores {stored} bytes for it (truncated or crafted)")
    return dset


def read_dataset(path: str, dset: h5py.Dataset) -> np.ndarray:
    """The data of a dataset :func:`check_dataset` accepted (a read error, e.g. a truncated file, is one line)."""
    try:
        return np.asarray(dset[()])
    except (OSError, ValueError) as exc:
        raise ParameterError(f"weights '{path}': '{dset.name}' cannot be read ({' '.join(str(exc).split())})") from exc


def _names(path: str, obj, attr: str) -> list[str]:
    """A string-list attribute (``layer_names``, ``weight_names``), refusing anything else (integers, ...)."""
    values = np.asarray(obj.attrs.get(attr, []))
    if values.ndim != 1 or not (values.size == 0 or values.dtype.kind in "SUO"):
        raise ParameterError(f"weights '{path}': attribute '{attr}' of '{obj.name}' holds {values.dtype} values, "
                             "not names")
    names = [v.decode("utf8") if isinstance(v, bytes) else v for v in values.tolist()]
    if not all(isinstance(n, str) and n for n in names):
        raise ParameterError(f"weights '{path}': attribute '{attr}' of '{obj.name}' holds something other than names")
    return names


def _keras2_layers(f: h5py.File, path: str) -> dict[str, list[h5py.Dataset]]:
    """``{layer_name: [datasets in saving order]}`` of a Keras-2 file, its structure checked, nothing read."""
    _refuse_links(f, path)
    root = _member(path, f, "model_weights", h5py.Group, "group") if "model_weights" in f else f
    if "layer_names" not in root.attrs:
        raise ParameterError(f"weights '{path}' has no 'layer_names' attribute: not a Keras 2 HDF5 weights file")
    out = {}
    for layer_name in _names(path, root, "layer_names"):
        group = _member(path, root, layer_name, h5py.Group, "layer group")
        out[layer_name] = [_member(path, group, n, h5py.Dataset, "weight")
                           for n in _names(path, group, "weight_names")]
    return out


def read_keras2_weights(path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """``{layer_name: [arrays in saving order]}`` from a Keras-2 HDF5 model or weights file.

    The structure is checked before any array is read (names are strings, every named group and dataset exists,
    no links to other files, no array declaring more data than the file holds); each problem is one
    :class:`~sampleaudio.errors.ParameterError` naming the file.
    """
    path = os.fspath(path)
    with open_weights_file(path) as f:
        layers = _keras2_layers(f, path)
        for datasets in layers.values():
            for d in datasets:
                check_dataset(path, d)
        return {name: [read_dataset(path, d) for d in datasets] for name, datasets in layers.items()}


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
    path = os.fspath(path)
    with open_weights_file(path) as f:
        stored = _keras2_layers(f, path)
        if rename:
            stored = {rename.get(k, k): v for k, v in stored.items()}
        plan, missing = [], []
        for layer in model.layers:  # every shape checked before anything is read
            if not layer.weights:
                continue
            datasets = stored.get(layer.name)
            if not datasets:
                missing.append(layer.name)
                continue
            if len(datasets) != len(layer.weights):
                raise ParameterError(f"weights '{path}': layer '{layer.name}' has {len(datasets)} weights in the "
                                     f"file, {len(layer.weights)} in the model")
            for var, d in zip(layer.weights, datasets):
                check_dataset(path, d, tuple(var.shape), f"layer '{layer.name}' weight '{var.name}'")
            plan.append((layer, datasets))
        if strict and missing:
            raise ParameterError(f"{len(missing)} layer(s) of the model are not in '{path}': {missing[:5]}")
        for layer, datasets in plan:
            layer.set_weights([read_dataset(path, d) for d in datasets])
    loaded = [layer.name for layer, _ in plan]
    names = {layer.name for layer in model.layers}
    unused = sorted(k for k, v in stored.items() if v and k not in names)
    return LoadReport(loaded=loaded, missing_in_file=missing, unused_in_file=unused)


def load_keras3_weights(model: keras.Model, path: str | os.PathLike) -> None:
    """Copy a Keras 3 ``.weights.h5`` file (``model.save_weights``) into ``model``, layer by layer name.

    Keras 3 keeps each layer's variables as datasets ``0 ... n-1`` of a ``layers/<key>/vars`` group whose
    ``name`` attribute is the layer's name. Every layer of ``model`` with weights must be there with exactly its
    variables' shapes, and the file must hold no other layer with weights (another architecture's file); all of it
    is checked before any array is read, and each problem is one :class:`~sampleaudio.errors.ParameterError`
    naming the file. For models whose layers hold their own variables (musicnn's), not nested sub-layers.
    """
    path = os.fspath(path)
    with open_weights_file(path) as f:
        _refuse_links(f, path)
        groups: dict[str, h5py.Group] = {}
        top = _member(path, f, "layers", h5py.Group, "group") if "layers" in f else None
        for key in (top.keys() if top is not None else []):
            holder = _member(path, top, key, h5py.Group, "layer group")
            if "vars" not in holder:
                continue
            group = _member(path, holder, "vars", h5py.Group, "group")
            name = group.attrs.get("name")
            name = name.decode("utf8") if isinstance(name, bytes) else name
            if not isinstance(name, str):
                raise ParameterError(f"weights '{path}': '{group.name}' has no layer name: not a Keras 3 "
                                     ".weights.h5 file this reader knows")
            if name in groups:
                raise ParameterError(f"weights '{path}': layer '{name}' is stored twice")
            groups[name] = group
        if not groups:
            raise ParameterError(f"weights '{path}' holds no Keras 3 layer weights (layers/*/vars)")
        ours = {layer.name for layer in model.layers if layer.weights}
        foreign = sorted(n for n, g in groups.items() if len(g) and n not in ours)
        if foreign:
            raise ParameterError(f"weights '{path}' are another architecture's: layer(s) {foreign[:3]} are not in "
                                 f"model '{model.name}'")
        plan = []
        for layer in model.layers:
            if not layer.weights:
                continue
            group = groups.get(layer.name)
            if group is None:
                raise ParameterError(f"weights '{path}' lack layer '{layer.name}' of model '{model.name}': another "
                                     "architecture's file?")
            if sorted(group.keys()) != sorted(str(i) for i in range(len(layer.weights))):
                raise ParameterError(f"weights '{path}': layer '{layer.name}' has {len(group)} weights in the file, "
                                     f"{len(layer.weights)} in the model")
            datasets = [check_dataset(path, _member(path, group, str(i), h5py.Dataset, "weight"), tuple(var.shape),
                                      f"layer '{layer.name}' weight {i}")
                        for i, var in enumerate(layer.weights)]
            plan.append((layer, datasets))
        for layer, datasets in plan:
            layer.set_weights([read_dataset(path, d) for d in datasets])
