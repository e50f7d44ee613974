"""Cross-entropy as the original SampleCNN code computed it: from clipped probabilities.

The authors trained with Keras 1.1 on Theano (SMC 2017, ``jongpillee/sampleCNN``), Keras 2.0.5 (ICASSP 2018,
``tae-jun/resemul``) and TF 1.10 ``tf.keras`` (IEEE JSTSP 2019, ``tae-jun/sampleaudio``). All three computed
the loss from the sigmoid/softmax *output*, with probabilities clipped to ``[eps, 1 - eps]``, ``eps = 1e-7``, so
no element's loss exceeds about 16.1. Keras 3 computes it from the logits it keeps beside the output, without
clipping: on an extreme prediction the two differ a lot (a wrong sigmoid output at logit -40 costs 40 instead of
16.1), and the validation loss decides when a stage of the papers' schedule ends and which weights are kept.

TF 1.10 semantics, reproduced here step by step (``tensorflow/python/keras/backend.py`` of that release):

- binary: ``p = clip(output, eps, 1 - eps)``; ``z = log(p / (1 - p))``;
  ``sigmoid_cross_entropy_with_logits(labels=y, logits=z)``, then the mean over the last axis;
- categorical: ``p = output / sum(output)``; ``p = clip(p, eps, 1 - eps)``; ``-sum(y * log(p))`` over the last
  axis (no renormalisation after the clip).

Both reduce over the batch by the mean, as Keras does.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from sampleaudio.errors import ParameterError

__all__ = ["EPSILON", "LOSSES", "clipped_binary_crossentropy", "clipped_categorical_crossentropy", "task_loss"]

#: Keras' ``K.epsilon()`` in every release the authors used (``_EPSILON = 1e-7``).
EPSILON = 1e-7

#: ``TrainConfig.loss`` values: Keras 3's cross-entropy (from logits, unclipped) or the original's.
LOSSES = ("keras", "clipped")


@keras.saving.register_keras_serializable(package="sampleaudio")
def clipped_binary_crossentropy(y_true, y_pred):
    """Per-example binary cross-entropy of TF 1.10 Keras: probabilities clipped to ``[1e-7, 1 - 1e-7]``."""
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = tf.cast(y_true, y_pred.dtype)
    eps = tf.constant(EPSILON, y_pred.dtype)
    p = tf.clip_by_value(y_pred, eps, 1 - eps)
    logits = tf.math.log(p / (1 - p))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=logits), axis=-1)


@keras.saving.register_keras_serializable(package="sampleaudio")
def clipped_categorical_crossentropy(y_true, y_pred):
    """Per-example categorical cross-entropy of TF 1.10 Keras: normalise, clip to ``[1e-7, 1 - 1e-7]``, log."""
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = tf.cast(y_true, y_pred.dtype)
    eps = tf.constant(EPSILON, y_pred.dtype)
    p = y_pred / tf.reduce_sum(y_pred, axis=-1, keepdims=True)
    p = tf.clip_by_value(p, eps, 1 - eps)
    return -tf.reduce_sum(y_true * tf.math.log(p), axis=-1)


def task_loss(kind: str, multi_label: bool):
    """The loss to compile for a task: ``keras`` gives Keras' name for it, ``clipped`` the original's function."""
    if kind == "keras":
        return "binary_crossentropy" if multi_label else "categorical_crossentropy"
    if kind == "clipped":
        return clipped_binary_crossentropy if multi_label else clipped_categorical_crossentropy
    raise ParameterError(f"loss must be one of {LOSSES}. Received: loss={kind!r}")
