"""Builder of HarmonicCNN: any input length, the filterbank at the store's rate."""

from __future__ import annotations

import keras

__all__ = ["harmonic_cnn"]


def harmonic_cnn(params, task, segment, sample_rate) -> keras.Model:
    from sampleaudio.families.harmonic_cnn.model import harmonic_cnn as build

    return build(task.num_classes, segment=None, sample_rate=sample_rate, activation=task.activation,
                 dropout=params.dropout, n_channels=params.init_features)
