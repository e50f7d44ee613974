"""Metric-learning losses over Siamese scores, for any encoder.

A Siamese model (e.g. :func:`sampleaudio.families.artist_cnn.model.ArtistSiameseModel`) outputs, per anchor, the
cosine similarity with its positive (column 0) and with ``N`` negatives (columns 1..N): ``scores [B, 1 + N]``.
The layout carries the labels, so every loss here ignores ``y_true`` (Keras' signature is kept so that they
plug into ``model.compile``). Each returns one value per anchor; :class:`SiameseLoss` adds the reduction over
the batch (``sum`` for the paper's loss).

- :func:`multi_negative_max_margin`: Park et al., ISMIR 2018, Sec. 3.2, the authors' ``hinge_loss``:
  ``sum_k max(0, margin - s_pos + s_neg_k)``, margin 0.4, summed over negatives and over the batch.
- :func:`contrastive`: Hadsell, Chopra, LeCun, CVPR 2006, Eq. 4, on the Euclidean distance of the unit
  embeddings ``d = sqrt(2 - 2 s)``: ``1/2 d^2`` for the positive pair, ``1/2 max(0, m - d)^2`` for each negative
  pair; summed over the anchor's pairs.
- :func:`triplet_hinge`: Hoffer, Ailon, SIMBAD 2015 (the triplet network), in its hinge form (Schroff et al.
  2015): ``max(0, margin + d_pos - d_neg_k)`` on the same distances, averaged over the negatives.
- :func:`softmax_cosine`: cross-entropy of the positive under a softmax over the scaled cosines
  (``-log softmax(s / temperature)_0``), as in DSSM (Huang et al., CIKM 2013).
"""

from __future__ import annotations

import keras
from keras import ops

from sampleaudio.errors import ParameterError

__all__ = ["multi_negative_max_margin", "contrastive", "triplet_hinge", "softmax_cosine", "SiameseLoss", "LOSSES"]


def _split(y_pred):
    scores = ops.cast(y_pred, "float32")
    return scores[:, :1], scores[:, 1:]


def _distance(scores):
    return ops.sqrt(ops.maximum(2.0 - 2.0 * scores, 1e-12))


def multi_negative_max_margin(y_true, y_pred, margin: float = 0.4):
    """Park 2018's loss per anchor: ``sum_k max(0, margin - s_pos + s_neg_k)``."""
    pos, neg = _split(y_pred)
    return ops.sum(ops.relu(margin - pos + neg), axis=-1)


def contrastive(y_true, y_pred, margin: float = 1.0):
    """Hadsell 2006's contrastive loss per anchor, over its positive pair and its negative pairs."""
    pos, neg = _split(y_pred)
    d_pos, d_neg = _distance(pos), _distance(neg)
    return 0.5 * ops.square(d_pos[:, 0]) + 0.5 * ops.sum(ops.square(ops.relu(margin - d_neg)), axis=-1)


def triplet_hinge(y_true, y_pred, margin: float = 0.2):
    """Triplet hinge per anchor: ``mean_k max(0, margin + d(a, p) - d(a, n_k))``."""
    pos, neg = _split(y_pred)
    return ops.mean(ops.relu(margin + _distance(pos) - _distance(neg)), axis=-1)


def softmax_cosine(y_true, y_pred, temperature: float = 0.1):
    """Softmax over ``scores / temperature``; the loss is the positive's negative log-likelihood."""
    scores = ops.cast(y_pred, "float32") / temperature
    return -ops.log_softmax(scores, axis=-1)[:, 0]


LOSSES = {"max_margin": multi_negative_max_margin, "contrastive": contrastive, "triplet": triplet_hinge,
          "softmax": softmax_cosine}
_PARAM = {"max_margin": ("margin", 0.4), "contrastive": ("margin", 1.0), "triplet": ("margin", 0.2),
          "softmax": ("temperature", 0.1)}


@keras.saving.register_keras_serializable(package="sampleaudio")
class SiameseLoss(keras.losses.Loss):
    """One of :data:`LOSSES` as a Keras loss.

    Args:
        kind: ``max_margin`` (Park 2018), ``contrastive``, ``triplet`` or ``softmax``.
        param: the margin (or the softmax temperature); ``None``: 0.4 / 1.0 / 0.2 / 0.1.
        reduction: over the batch; ``sum`` (default) as Park 2018's loss, or any Keras reduction.
    """

    def __init__(self, kind: str = "max_margin", param: float | None = None, reduction: str = "sum",
                 name: str | None = None, **kwargs):
        if kind not in LOSSES:
            raise ParameterError(f"kind must be one of {sorted(LOSSES)}. Received: kind={kind!r}")
        super().__init__(name=name or f"siamese_{kind}", reduction=reduction, **kwargs)
        self.kind = kind
        self.param = float(_PARAM[kind][1] if param is None else param)

    def call(self, y_true, y_pred):
        return LOSSES[self.kind](y_true, y_pred, **{_PARAM[self.kind][0]: self.param})

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"kind": self.kind, "param": self.param})
        return config
