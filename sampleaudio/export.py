"""Export a trained run as a TF Serving SavedModel (``sampleaudio export RUN_DIR --out DIR/1``).

Signatures (all take a batch of variable-length mono float32 waveforms at 22,050 Hz, zero-padded to the longest,
with their true lengths):

- ``serving_default(waveform [B, T] float32, length [B] int64)`` -> ``probabilities [B, C]`` (clip-level: the
  model's outputs averaged over every non-overlapping segment, as in evaluation), ``labels [C]`` (the tag
  vocabulary, read from the ``labels.txt`` asset), ``num_segments [B]``.
- ``embed(waveform, length)`` -> ``embedding [B, D]`` (the penultimate layer averaged over segments) and
  ``num_segments``.
- ``labels()`` -> the vocabulary.

Segmentation happens inside the graph: a clip shorter than one segment is tiled (as in training), a remainder
shorter than a segment is dropped, and every segment is standardised with the training mean/std before the
network. Bad input fails with a clear message: lengths outside ``[min_samples, T]``, NaN/Inf samples; dtype and
rank are enforced by the signature.
"""

from __future__ import annotations

import json
import os
import shutil

import keras
import tensorflow as tf

from sampleaudio.errors import ParameterError

__all__ = ["ClipModel", "export_run", "embedding_layer_name", "MIN_SECONDS"]

#: Shortest clip accepted, in seconds: tiling anything shorter into a segment would be meaningless.
MIN_SECONDS = 0.1


def embedding_layer_name(model: keras.Model) -> str:
    """The layer whose output is the clip embedding: the last hidden layer before the classifier."""
    names = [layer.name for layer in model.layers]
    for candidate in ("final_relu", "final_pool", "multi", "penultimate"):
        if candidate in names:
            return candidate
    return model.layers[-3].name


class ClipModel(tf.Module):
    """A Keras model wrapped with in-graph segmentation, standardisation and clip averaging."""

    def __init__(self, model: keras.Model, labels: list[str], *, segment: int, mean: float, std: float,
                 sample_rate: int = 22050, labels_file: str | None = None):
        super().__init__(name="sampleaudio_clip_model")
        layer = embedding_layer_name(model)
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
        self.min_samples = int(MIN_SECONDS * sample_rate)
        self.num_labels = len(labels)
        if labels_file is not None:
            self.labels_asset = tf.saved_model.Asset(labels_file)
        self._labels_list = list(labels)

    def _segments(self, waveform, length):
        """All segments of all clips, ``[S, segment, 1]``, and the clip of each, ``[S]``."""
        waveform = tf.convert_to_tensor(waveform, tf.float32)
        length = tf.cast(length, tf.int64)
        width = tf.shape(waveform, out_type=tf.int64)[1]
        checks = [
            tf.debugging.assert_equal(tf.shape(length, out_type=tf.int64)[0], tf.shape(waveform, out_type=tf.int64)[0],
                                      message="waveform and length must have the same batch size"),
            tf.debugging.assert_greater_equal(length, tf.constant(self.min_samples, tf.int64),
                                              message=f"every clip needs at least {self.min_samples} samples "
                                                      f"({MIN_SECONDS} s at {self.sample_rate} Hz)"),
            tf.debugging.assert_less_equal(length, width, message="a length exceeds the waveform's width"),
            tf.debugging.assert_all_finite(waveform, message="waveform contains NaN or Inf"),
        ]
        with tf.control_dependencies(checks):
            seg = tf.constant(self.segment, tf.int64)
            padded = tf.maximum(length, seg)
            count = padded // seg
            starts = tf.ragged.range(count, dtype=tf.int64) * seg
            rows = starts.value_rowids()
            offsets = starts.flat_values[:, None] + tf.range(seg, dtype=tf.int64)[None, :]
            offsets = tf.math.floormod(offsets, tf.gather(length, rows)[:, None])  # tiles short clips
            index = tf.stack([tf.broadcast_to(rows[:, None], tf.shape(offsets)), offsets], axis=-1)
            x = (tf.gather_nd(waveform, index) - self.mean) / self.std
        return x[..., None], rows, count

    def _average(self, values, rows, count):
        return tf.math.unsorted_segment_mean(tf.cast(values, tf.float32), rows, tf.shape(count)[0])

    def labels_tensor(self):
        if hasattr(self, "labels_asset"):
            text = tf.strings.strip(tf.io.read_file(self.labels_asset))
            return tf.strings.split(text, "\n")
        return tf.constant(self._labels_list)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="waveform"),
                                  tf.TensorSpec([None], tf.int64, name="length")])
    def serve(self, waveform, length):
        x, rows, count = self._segments(waveform, length)
        probabilities = self._average(self.model(x, training=False), rows, count)
        return {"probabilities": probabilities, "labels": self.labels_tensor(), "num_segments": count}

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="waveform"),
                                  tf.TensorSpec([None], tf.int64, name="length")])
    def embed(self, waveform, length):
        x, rows, count = self._segments(waveform, length)
        features, _ = self.embedder(x, training=False)
        return {"embedding": self._average(features, rows, count), "num_segments": count}

    @tf.function(input_signature=[])
    def labels(self):
        return {"labels": self.labels_tensor()}


def export_run(run_dir: str, out_dir: str, *, overwrite: bool = False, weights: str | None = None) -> str:
    """Export a finished training run's best model, or a registered pretrained model (``weights``: its file where
    the user supplies one), as a SavedModel at ``out_dir`` (e.g. ``models/tagger/1``)."""
    from sampleaudio.pretrained import is_pretrained, load_pretrained
    from sampleaudio.train import load_run

    if is_pretrained(run_dir):
        model, card = load_pretrained(run_dir, weights)
        return export_model(model, card, out_dir, overwrite=overwrite)

    model, _, _ = load_run(run_dir)
    with open(os.path.join(run_dir, "model_card.json")) as f:
        card = json.load(f)
    return export_model(model, card, out_dir, overwrite=overwrite)


def export_model(model: keras.Model, card: dict, out_dir: str, *, overwrite: bool = False) -> str:
    """Export ``model`` with the facts of its model card (labels, segment, mean, std)."""
    if os.path.exists(out_dir):
        if not overwrite:
            raise ParameterError(f"'{out_dir}' exists; choose a new version folder (TF Serving: .../<name>/<n>)")
        shutil.rmtree(out_dir)
    staging = out_dir.rstrip("/") + ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    labels_file = os.path.join(staging, "labels.txt")
    with open(labels_file, "w") as f:
        f.write("\n".join(card["labels"]) + "\n")
    module = ClipModel(model, card["labels"], segment=card["segment"], mean=card["mean"], std=card["std"],
                       sample_rate=card.get("sample_rate", 22050),
                       labels_file=labels_file)
    export_dir = os.path.join(staging, "model")
    tf.saved_model.save(module, export_dir, signatures={"serving_default": module.serve, "embed": module.embed,
                                                        "labels": module.labels})
    with open(os.path.join(export_dir, "sampleaudio.json"), "w") as f:
        json.dump({k: v for k, v in card.items() if k != "labels"}, f, indent=2)
    os.replace(export_dir, out_dir)  # complete SavedModels only appear under the version folder
    shutil.rmtree(staging, ignore_errors=True)
    return out_dir
