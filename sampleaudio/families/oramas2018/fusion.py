"""The multimodal classifiers of Oramas et al.'s tables: genre classifiers on precomputed album features
(``tartarus`` ``src/models.py``: ``get_model_3`` for one vector, ``get_model_32`` / ``_33`` / ``_34`` for two, three
and four).

- One vector: dropout on the input, then one dense genre layer (the authors' configs set no hidden layer); the
  input is *not* L2-normalised (``get_model_3``).
- Several vectors: each L2-normalised, concatenated, dropout, one dense genre layer (``get_model_32..34``).
- Sigmoid and binary cross-entropy for multi-label genres (MuMu's "LOGISTIC" configs: dropout 0), softmax and
  categorical cross-entropy for single-label (MSD-I's ``single-label-*`` configs: dropout 0.5).
- Adam (lr 0.001), batch 32, up to 100 epochs, early stopping after 4 epochs without a lower validation loss, the
  last epoch's weights kept (``train.py``: ``EarlyStopping(patience=4)``, no restore).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from sampleaudio.errors import ParameterError

__all__ = ["fused_classifier", "train_fused"]


def fused_classifier(dims: list[int], num_classes: int, *, multi_label: bool, dropout: float) -> keras.Model:
    """The classifier over ``len(dims)`` feature vectors of sizes ``dims``."""
    if not dims:
        raise ParameterError("a fused classifier needs at least one feature vector")
    inputs = [keras.Input((d,), name=f"features_{k}") for k, d in enumerate(dims)]
    if len(inputs) == 1:
        x = inputs[0]
    else:
        x = layers.Concatenate(name="fused")([layers.UnitNormalization(name=f"l2_{k}")(v)
                                              for k, v in enumerate(inputs)])
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    out = layers.Dense(num_classes, activation="sigmoid" if multi_label else "softmax", name="genres")(x)
    return keras.Model(inputs, out, name="fused_classifier")


def train_fused(train: list[np.ndarray], y_train: np.ndarray, valid: list[np.ndarray], y_valid: np.ndarray, *,
                multi_label: bool, dropout: float, seed: int = 0, epochs: int = 100, patience: int = 4,
                batch_size: int = 32, lr: float = 0.001) -> keras.Model:
    """Train :func:`fused_classifier` on the feature vectors ``train`` (one array per vector) as the authors'
    ``train.py`` (see the module docstring)."""
    keras.utils.set_random_seed(seed)
    model = fused_classifier([x.shape[1] for x in train], y_train.shape[1], multi_label=multi_label,
                             dropout=dropout)
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss="binary_crossentropy" if multi_label else "categorical_crossentropy")
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=False)
    model.fit([np.asarray(x, np.float32) for x in train], np.asarray(y_train, np.float32), batch_size=batch_size,
              epochs=epochs, validation_data=([np.asarray(x, np.float32) for x in valid],
                                              np.asarray(y_valid, np.float32)),
              callbacks=[stop], shuffle=True, verbose=0)
    return model
