"""Export a trained run as a TF Serving SavedModel (``sampleaudio export MODEL --out DIR/1``).

Signatures (all take a batch of variable-length mono float32 waveforms at the model card's sample rate, 22,050 Hz
unless the card says otherwise and recorded in the export's ``sampleaudio.json``, zero-padded to the longest, with
their true lengths):

- ``serving_default(waveform [B, T] float32, length [B] int64)`` -> ``probabilities [B, C]`` (clip-level: the
  model's outputs pooled over the clip's segments as the card says, by default the mean over every
  non-overlapping segment, as in evaluation: :mod:`sampleaudio.segments`), ``labels [C]`` (the tag
  vocabulary, read from the ``labels.txt`` asset), ``num_segments [B]``.
- ``embed(waveform, length)`` -> ``embedding [B, D]`` (the card's embedding layer pooled over segments the same
  way; a time axis is averaged, or maxed for ``max-then-mean``) and ``num_segments``.
- ``labels()`` -> the vocabulary.

Segmentation happens inside the graph: a clip shorter than one segment is tiled (as in training), a remainder
shorter than a segment is dropped, and every segment is standardised with the training mean/std before the
network. Bad input fails with a clear message: lengths outside ``[min_samples, T]``, NaN/Inf samples, a waveform
that is not a ``[batch, samples]`` matrix (rank is checked in the graph, so ``tf.saved_model.load`` users get the
same message as TF Serving's), and a request holding more samples than ``max_request_seconds`` of audio (default
:data:`MAX_REQUEST_SECONDS`; split longer audio over several requests). Dtype is enforced by the signature.

``--overwrite`` only ever replaces a SavedModel that sampleaudio exported: a folder holding ``saved_model.pb``,
``sampleaudio.json`` and, in its whole tree, nothing but what ``tf.saved_model.save`` writes (``fingerprint.pb``,
``variables/variables.index`` and ``.data-*`` shards, ``assets/labels.txt``; no link); anything else, a user's
file inside ``variables/`` included, is named and refused. It refuses any other folder or file, the run being
exported and every folder that contains it. The new export is built in a private staging folder beside ``--out`` and moved in place
when complete.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf

from sampleaudio.errors import ParameterError
from sampleaudio.segments import (
    DEFAULT_SAMPLE_RATE,
    WON2020_CHUNKS,
    InputSpec,
    batch_segments,
    pool_segments,
    standardise,
)

__all__ = ["ClipModel", "export_run", "export_model", "embedding_layer_name", "check_card", "MIN_SECONDS",
           "MAX_REQUEST_SECONDS"]

#: Shortest clip accepted, in seconds: tiling anything shorter into a segment would be meaningless.
MIN_SECONDS = 0.1
#: Most audio one request may carry (all clips together), in seconds: the network runs on every segment at once.
MAX_REQUEST_SECONDS = 600.0
#: What a SavedModel exported by sampleaudio holds, file by file (paths relative to the export, '/'-separated);
#: only a folder holding nothing else may be replaced by ``overwrite``.
_EXPORT_FILES = re.compile(r"saved_model\.pb|fingerprint\.pb|sampleaudio\.json|assets/labels\.txt"
                           r"|variables/variables\.index|variables/variables\.data-\d{5}-of-\d{5}")
_EXPORT_FOLDERS = {"variables", "assets"}


def check_card(card, model: keras.Model | None = None, where: str = "model card") -> dict:
    """Refuse a model card that cannot describe ``model``: labels must be unique strings, one per model output;
    segment a positive integer; mean and std finite with std > 0; sample_rate a positive integer. An embedding
    model (no tag outputs) has an empty label list and names its ``embedding_layer``."""
    def bad(why: str) -> ParameterError:
        return ParameterError(f"{where}: {why}")

    if not isinstance(card, dict):
        raise bad("is not a JSON object")
    labels = card.get("labels")
    embedding_only = labels == [] and bool(card.get("embedding_layer"))  # an embedder (e.g. park2018-artist)
    if not isinstance(labels, list) or not (labels or embedding_only) or not all(isinstance(x, str) for x in labels):
        raise bad("'labels' must be a non-empty list of strings (or empty, for an embedding model whose card "
                  "names its embedding_layer)")
    if len(set(labels)) != len(labels):
        raise bad("'labels' are not unique")
    for key in ("segment", "sample_rate"):
        value = card.get(key, DEFAULT_SAMPLE_RATE if key == "sample_rate" else None)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad(f"'{key}' must be a positive integer, is {value!r}")
    for key in ("mean", "std"):
        value = card.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad(f"'{key}' must be a finite number, is {value!r}")
    if card["std"] <= 0:
        raise bad(f"'std' must be positive, is {card['std']}")
    try:
        InputSpec.from_card(card)  # chunking, chunks, clip_pooling
    except ParameterError as exc:
        raise bad(str(exc)) from exc
    if model is not None:
        outputs = model.output_shape[-1] if not isinstance(model.output_shape, list) else None
        if outputs is not None and outputs != len(labels) and not embedding_only:
            raise bad(f"names {len(labels)} labels but the model has {outputs} outputs")
    return card


def embedding_layer_name(model: keras.Model, card: dict | None = None) -> str:
    """The layer whose output is the clip embedding: the one the model card names (runs record it from the
    model registry, :mod:`sampleaudio.models.registry`), else the package's known names. A model with none of
    them is refused rather than guessed from its position (a Siamese model's third-last layer is no embedding)."""
    names = [layer.name for layer in model.layers]
    named = (card or {}).get("embedding_layer")
    if named:
        if named not in names:
            raise ParameterError(f"the model card names embedding layer '{named}', which model '{model.name}' "
                                 "lacks")
        return named
    for candidate in ("final_relu", "final_pool", "multi", "penultimate"):
        if candidate in names:
            return candidate
    raise ParameterError(f"model '{model.name}' has no known embedding layer (final_relu, penultimate, ...) and "
                         "its card names none: add `embedding_layer` to its model card")


class ClipModel(tf.Module):
    """A Keras model wrapped with in-graph segmentation, standardisation and clip pooling
    (:mod:`sampleaudio.segments`: the same cuts and pooling as evaluation and the Tagger)."""

    def __init__(self, model: keras.Model, labels: list[str], *, segment: int, mean: float, std: float,
                 sample_rate: int = DEFAULT_SAMPLE_RATE, labels_file: str | None = None,
                 max_request_seconds: float = MAX_REQUEST_SECONDS, embedding_layer: str | None = None,
                 chunking: str = "consecutive", chunks: int = WON2020_CHUNKS, clip_pooling: str = "mean"):
        super().__init__(name="sampleaudio_clip_model")
        layer = embedding_layer or embedding_layer_name(model)
        embedder = keras.Model(model.inputs, [model.get_layer(layer).output, model.output], name="embedder")
        # Track the underlying tf.Variables only. Tracking the Keras objects as well saves every weight twice
        # (Keras variable + tf.Variable), and the session-based loader of saved_model_cli and TF Serving then
        # fails with "Could not find variable" (keras-team/keras#19274, #20095).
        self.__dict__["model"] = model
        self.__dict__["embedder"] = embedder
        self.variables_ = [v.value for v in model.weights]
        self.segment = int(segment)
        self.mean = float(mean)
        self.std = float(std)
        self.sample_rate = int(sample_rate)
        self.chunking, self.chunks, self.clip_pooling = chunking, int(chunks), clip_pooling
        self.min_samples = int(MIN_SECONDS * sample_rate)
        self.max_request_samples = int(max_request_seconds * sample_rate)
        self.num_labels = len(labels)
        if labels_file is not None:
            self.labels_asset = tf.saved_model.Asset(labels_file)
        self._labels_list = list(labels)

    def _segments(self, waveform, length):
        """All segments of all clips, ``[S, segment, 1]``, and the clip of each, ``[S]``."""
        waveform = tf.convert_to_tensor(waveform, tf.float32)
        length = tf.cast(length, tf.int64)
        with tf.control_dependencies([
            tf.debugging.Assert(tf.equal(tf.rank(waveform), 2), ["waveform must be a [batch, samples] float32 "
                                                                 "matrix (one zero-padded clip per row)"]),
            tf.debugging.Assert(tf.equal(tf.rank(length), 1), ["length must be a [batch] int64 vector (each "
                                                               "clip's number of samples)"]),
        ]):  # static ranks for the network, after the checks above (tf.ensure_shape would fail first, cryptically)
            waveform = tf.reshape(waveform, tf.stack([tf.shape(waveform)[0], -1]))
            length = tf.reshape(length, [-1])
        width = tf.shape(waveform, out_type=tf.int64)[1]
        checks = [
            tf.debugging.assert_less_equal(tf.size(waveform, out_type=tf.int64),
                                           tf.constant(self.max_request_samples, tf.int64),
                                           message=f"a request may hold at most {self.max_request_samples} samples "
                                                   f"(batch x width; {self.max_request_samples / self.sample_rate:g}"
                                                   " s of audio): split it over several requests"),
            tf.debugging.assert_equal(tf.shape(length, out_type=tf.int64)[0], tf.shape(waveform, out_type=tf.int64)[0],
                                      message="waveform and length must have the same batch size"),
            tf.debugging.assert_greater_equal(length, tf.constant(self.min_samples, tf.int64),
                                              message=f"every clip needs at least {self.min_samples} samples "
                                                      f"({MIN_SECONDS} s at {self.sample_rate} Hz)"),
            tf.debugging.assert_less_equal(length, width, message="a length exceeds the waveform's width"),
            tf.debugging.assert_all_finite(waveform, message="waveform contains NaN or Inf"),
        ]
        with tf.control_dependencies(checks):
            x, rows, count = batch_segments(waveform, length, self.segment, chunking=self.chunking,
                                            chunks=self.chunks)
            x = standardise(x, self.mean, self.std)
        return x[..., None], rows, count

    def _average(self, values, rows, count):
        return pool_segments(values, rows, tf.shape(count)[0], self.clip_pooling)

    def labels_tensor(self):
        if hasattr(self, "labels_asset"):
            text = tf.strings.strip(tf.io.read_file(self.labels_asset))
            return tf.strings.split(text, "\n")
        return tf.constant(self._labels_list)

    # Unknown rank in the signature, so a wrong rank reaches the graph's own check and its message.
    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32, name="waveform"),
                                  tf.TensorSpec(None, tf.int64, name="length")])
    def serve(self, waveform, length):
        x, rows, count = self._segments(waveform, length)
        probabilities = self._average(self.model(x, training=False), rows, count)
        return {"probabilities": probabilities, "labels": self.labels_tensor(), "num_segments": count}

    # Unknown rank in the signature, so a wrong rank reaches the graph's own check and its message.
    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32, name="waveform"),
                                  tf.TensorSpec(None, tf.int64, name="length")])
    def embed(self, waveform, length):
        x, rows, count = self._segments(waveform, length)
        features, _ = self.embedder(x, training=False)
        return {"embedding": self._average(features, rows, count), "num_segments": count}

    @tf.function(input_signature=[])
    def labels(self):
        return {"labels": self.labels_tensor()}


def _add_image_signature(module: ClipModel, model: keras.Model, card: dict):
    """An ``embed_image`` signature on ``module``: a batch of encoded images (JPEG, PNG, GIF, BMP bytes) ->
    decoded RGB, resized to the card's size (bilinear, antialiased) -> the image tower's embedding (the card's
    ``image`` embedding). JPEG, PNG, GIF and BMP decode in the graph (not WebP or TIFF: convert those first). The
    tower's weights join the module's tracked variables; its scaling (``ImageSpec.preprocessing``) is a layer of the
    model, so the signature gives it pixels in [0, 255] as ``sampleaudio.images`` does."""
    from sampleaudio.cards import ImageSpec
    from sampleaudio.runs import named_input

    image = ImageSpec(**card["image"])
    layer = (card.get("embeddings") or {}).get("image")
    if not layer:
        raise ParameterError("the model card names an image input but no 'image' embedding to export")
    net = keras.Model(named_input(model, "image"), model.get_layer(layer).output, name="image_embedder")
    module.__dict__["image_net"] = net
    tracked = {id(v): v for v in module.variables_}
    tracked.update({id(w.value): w.value for w in net.weights})
    module.variables_ = list(tracked.values())
    size = (image.height, image.width)

    def one(data):  # RGBA, the alpha composited over white as sampleaudio.images does
        x = tf.cast(tf.io.decode_image(data, channels=4, expand_animations=False), tf.float32)
        alpha = x[..., 3:] / 255.0
        x = x[..., :3] * alpha + 255.0 * (1.0 - alpha)
        return tf.image.resize(x, size, method="bilinear", antialias=True)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image")])
    def embed_image(image_bytes):
        x = tf.map_fn(one, image_bytes, fn_output_signature=tf.TensorSpec([*size, 3], tf.float32))
        return {"embedding": tf.cast(net(x, training=False), tf.float32)}

    module.embed_image = embed_image
    return module.embed_image


def export_run(run_dir: str, out_dir: str, *, overwrite: bool = False, weights: str | None = None,
               max_request_seconds: float = MAX_REQUEST_SECONDS) -> str:
    """Export a finished training run's best model, or a registered pretrained model (``weights``: its file where
    the user supplies one), as a SavedModel at ``out_dir`` (e.g. ``models/tagger/1``)."""
    from sampleaudio.pretrained import is_pretrained, load_pretrained
    from sampleaudio.runs import load_best, read_model_card

    if is_pretrained(run_dir):
        model, card = load_pretrained(run_dir, weights)
        protect = [weights] if weights else []
        return export_model(model, card, out_dir, overwrite=overwrite, protect=protect,
                            max_request_seconds=max_request_seconds)

    _refuse_unsafe_target(out_dir, [run_dir])  # before the (slow) model load
    card = read_model_card(run_dir)
    model = load_best(run_dir)
    return export_model(model, card, out_dir, overwrite=overwrite, protect=[run_dir],
                        max_request_seconds=max_request_seconds)


def _foreign_entry(path: str) -> str | None:
    """The first thing in ``path``'s tree that no sampleaudio export holds (a link, another file or folder), or
    ``None``; ``path`` must hold ``saved_model.pb`` and ``sampleaudio.json``."""
    for name in ("saved_model.pb", "sampleaudio.json"):
        if not os.path.isfile(os.path.join(path, name)) or os.path.islink(os.path.join(path, name)):
            return f"(no {name})"
    for dirpath, dirs, files in os.walk(path):
        for name in sorted(dirs) + sorted(files):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, path).replace(os.sep, "/")
            if os.path.islink(full):
                return rel
            if name in dirs and rel not in _EXPORT_FOLDERS:
                return rel + "/"
            if name in files and not _EXPORT_FILES.fullmatch(rel):
                return rel
    return None


def _refuse_unsafe_target(out_dir: str, protect) -> None:
    """Refuse ``out_dir`` when it is, or contains, anything in ``protect`` (the run, the weights file)."""
    target = os.path.realpath(out_dir)
    for item in protect:
        if not item:
            continue
        other = os.path.realpath(item)
        if other == target or other.startswith(target.rstrip(os.sep) + os.sep):
            raise ParameterError(f"--out '{out_dir}' is or contains '{item}', which is being exported; choose a "
                                 "version folder elsewhere (TF Serving: .../<name>/<n>)")


def export_model(model: keras.Model, card: dict, out_dir: str, *, overwrite: bool = False, protect=(),
                 max_request_seconds: float = MAX_REQUEST_SECONDS) -> str:
    """Export ``model`` with the facts of its model card (labels, segment, mean, std).

    ``overwrite`` replaces an existing export (and only an export); ``protect`` lists paths that ``out_dir`` must
    neither be nor contain.
    """
    out_dir = os.fspath(out_dir)
    if not out_dir or os.path.realpath(out_dir) == os.path.realpath(os.sep):
        raise ParameterError(f"--out '{out_dir}' cannot be an export folder")
    if not max_request_seconds > 0:
        raise ParameterError(f"max_request_seconds must be positive. Received: {max_request_seconds}")
    _refuse_unsafe_target(out_dir, protect)
    if os.path.lexists(out_dir):
        if not overwrite:
            raise ParameterError(f"'{out_dir}' exists; choose a new version folder (TF Serving: .../<name>/<n>)")
        foreign = ("(a symbolic link)" if os.path.islink(out_dir) else None if os.path.isdir(out_dir)
                   else "(not a folder)")
        foreign = foreign or _foreign_entry(out_dir)
        if foreign is not None:
            what = f" ('{foreign}' is not part of one)" if not foreign.startswith("(") else f" {foreign}"
            raise ParameterError(f"--overwrite refused: '{out_dir}' is not a SavedModel exported by sampleaudio"
                                 f"{what}; only such a folder is ever replaced: remove it yourself or choose "
                                 "another --out")
    check_card(card, model)
    if not all(np.all(np.isfinite(w)) for w in model.get_weights()):
        raise ParameterError("the model's weights hold NaN or Inf (did its training diverge?); refusing to export it")
    parent = os.path.dirname(os.path.abspath(out_dir))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"cannot create the folder of --out '{out_dir}' ({exc.strerror})") from exc
    # A private staging folder: nothing of the user's (a '<out>.staging' of theirs included) is ever removed.
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(os.path.abspath(out_dir))}.staging-", dir=parent)
    try:
        labels_file = os.path.join(staging, "labels.txt")
        with open(labels_file, "w") as f:
            f.write("\n".join(card["labels"]) + "\n")
        spec = InputSpec.from_card(card)
        audio_model, layer = model, embedding_layer_name(model, card) if len(model.inputs) == 1 else None
        if len(model.inputs) > 1:  # audio and image towers in one space: the waveform's path to its embedding
            from sampleaudio.runs import named_input

            layer = (card.get("embeddings") or {}).get("audio") or embedding_layer_name(model, card)
            audio_model = keras.Model(named_input(model, "waveform"), model.get_layer(layer).output)
        module = ClipModel(audio_model, card["labels"], segment=spec.segment, mean=spec.mean, std=spec.std,
                           sample_rate=spec.sample_rate, labels_file=labels_file,
                           max_request_seconds=max_request_seconds,
                           embedding_layer=layer,
                           chunking=spec.chunking, chunks=spec.chunks, clip_pooling=spec.pooling)
        signatures = {"serving_default": module.serve, "embed": module.embed, "labels": module.labels}
        if card.get("image"):
            signatures["embed_image"] = _add_image_signature(module, model, card)
        export_dir = os.path.join(staging, "model")
        tf.saved_model.save(module, export_dir, signatures=signatures)
        with open(os.path.join(export_dir, "sampleaudio.json"), "w") as f:
            json.dump({k: v for k, v in card.items() if k != "labels"}, f, indent=2)
        previous = os.path.join(staging, "previous")
        if os.path.lexists(out_dir):  # an earlier export (checked above): set aside, then replaced
            os.replace(out_dir, previous)
        try:
            os.replace(export_dir, out_dir)  # complete SavedModels only appear under the version folder
        except OSError:
            if os.path.lexists(previous):
                os.replace(previous, out_dir)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir
