"""Park et al. (ISMIR 2018) Table 3: a linear softmax classifier on song features, as the authors'
``run_gtzan_dnn.py`` trains it (Keras 2.0.8).

- Features standardised by one scalar mean and std of the whole training matrix, applied to all splits.
- ``Dense(C, softmax)``: Glorot-uniform kernel, zero bias, no regulariser (the script's ``dense_num_max = 1``
  runs only ``build_model0``).
- Categorical cross-entropy (Keras 2: probabilities clipped to ``[1e-7, 1 - 1e-7]``), batch 16 of a fresh
  permutation of **all** training songs every epoch (``fit(shuffle=True)``), at most 1,000 epochs.
- ``SGD(lr=0.01, momentum=0.9, nesterov=True, decay=1e-6)``: Keras 2's update ``v = 0.9 v - lr_t g``,
  ``w += 0.9 v - lr_t g`` with ``lr_t = lr / (1 + decay * iterations)``.
- ``EarlyStopping(monitor='val_loss', patience=8)`` on the given validation split (the fault-filtered GTZAN
  valid list, 197 songs), with Keras 2.0.8's check before count: training stops at the 9th epoch in a row
  without a new best; ``ModelCheckpoint(save_best_only=True)`` keeps the best validation-loss weights, which
  are reloaded before the test.
- Top-1 test accuracy, the mean of 10 trials (seeded here; unseeded there).

The gradient of the clipped loss is taken as the softmax's ``p - y`` (the clip moves it only where a probability
is within 1e-7 of 0 or 1). Written in numpy, so the numbers need no Keras 2.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sampleaudio.errors import ParameterError

__all__ = ["LinearSoftmax", "train_linear_softmax", "linear_softmax_accuracy", "KERAS2_EPSILON"]

#: Keras 2's ``K.epsilon()``: the clip of probabilities in its cross-entropy
KERAS2_EPSILON = 1e-7


@dataclasses.dataclass
class LinearSoftmax:
    """A trained classifier: ``kernel [D, C]``, ``bias [C]`` (the best validation-loss epoch's), the input's
    scalar ``mean``/``std``, the epochs run, the best epoch and each epoch's validation loss."""

    kernel: np.ndarray
    bias: np.ndarray
    mean: float
    std: float
    epochs: int
    best_epoch: int
    val_losses: list[float]

    def predict(self, x) -> np.ndarray:
        """Class probabilities of raw (unstandardised) features."""
        return _softmax(((np.asarray(x, np.float32) - self.mean) / self.std) @ self.kernel + self.bias)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _cross_entropy(p: np.ndarray, y: np.ndarray) -> float:
    """Keras 2's ``categorical_crossentropy`` of softmax outputs, averaged over the examples."""
    p = np.clip(p / p.sum(axis=1, keepdims=True), KERAS2_EPSILON, 1 - KERAS2_EPSILON)
    return float(np.mean(-np.sum(y * np.log(p), axis=1)))


def _one_hot(labels, classes: int) -> np.ndarray:
    labels = np.asarray(labels, np.int64)
    out = np.zeros((labels.size, classes), np.float32)
    out[np.arange(labels.size), labels] = 1.0
    return out


def train_linear_softmax(train, train_labels, valid, valid_labels, *, classes: int | None = None, seed: int = 0,
                         lr: float = 0.01, momentum: float = 0.9, decay: float = 1e-6, batch_size: int = 16,
                         max_epochs: int = 1000, patience: int = 8) -> LinearSoftmax:
    """One trial of ``run_gtzan_dnn.py`` (see the module docstring): fit on every training song, stop and keep the
    best weights by the validation loss."""
    train, valid = np.asarray(train, np.float32), np.asarray(valid, np.float32)
    if train.ndim != 2 or valid.ndim != 2 or train.shape[1] != valid.shape[1]:
        raise ParameterError(f"features must be [songs, D] with the same D. Received: train {train.shape}, "
                             f"valid {valid.shape}")
    if len(valid) == 0:
        raise ParameterError("the linear softmax stops on a validation split: it has no song")
    classes = classes or int(max(np.max(train_labels), np.max(valid_labels))) + 1
    mean, std = float(train.mean()), float(train.std()) or 1.0
    x, xv = (train - mean) / std, (valid - mean) / std
    y, yv = _one_hot(train_labels, classes), _one_hot(valid_labels, classes)
    rng = np.random.default_rng(seed)
    limit = np.sqrt(6.0 / (x.shape[1] + classes))  # glorot_uniform
    w = rng.uniform(-limit, limit, (x.shape[1], classes)).astype(np.float32)
    b = np.zeros(classes, np.float32)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    iterations, best, best_w, best_b, best_epoch, wait = 0, np.inf, w.copy(), b.copy(), -1, 0
    losses = []
    for epoch in range(max_epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            grad = (_softmax(x[idx] @ w + b) - y[idx]) / len(idx)
            gw, gb = x[idx].T @ grad, grad.sum(axis=0)
            lr_t = lr / (1.0 + decay * iterations)
            vw = momentum * vw - lr_t * gw
            vb = momentum * vb - lr_t * gb
            w = w + momentum * vw - lr_t * gw
            b = b + momentum * vb - lr_t * gb
            iterations += 1
        loss = _cross_entropy(_softmax(xv @ w + b), yv)
        losses.append(loss)
        if loss < best:  # ModelCheckpoint(save_best_only=True) and EarlyStopping both see a new best
            best, best_w, best_b, best_epoch, wait = loss, w.copy(), b.copy(), epoch, 0
        else:
            if wait >= patience:  # Keras 2.0.8 checked before counting
                break
            wait += 1
    return LinearSoftmax(best_w, best_b, mean, std, len(losses), best_epoch, losses)


def linear_softmax_accuracy(train, train_labels, valid, valid_labels, test, test_labels, *, trials: int = 10,
                            seed: int = 0, max_epochs: int = 1000) -> float:
    """Mean top-1 test accuracy of ``trials`` classifiers of :func:`train_linear_softmax` (seeds ``seed`` ...
    ``seed + trials - 1``), trained on all of ``train`` and stopped on ``valid``."""
    classes = int(max(np.max(train_labels), np.max(valid_labels), np.max(test_labels))) + 1
    scores = []
    for trial in range(trials):
        clf = train_linear_softmax(train, train_labels, valid, valid_labels, classes=classes, seed=seed + trial,
                                   max_epochs=max_epochs)
        scores.append(float(np.mean(clf.predict(test).argmax(axis=1) == np.asarray(test_labels))))
    return float(np.mean(scores))
