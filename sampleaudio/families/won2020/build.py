"""Builders of the Won 2020 benchmark's models: any input length, the front end at the store's rate."""

from __future__ import annotations

import keras

__all__ = ["fcn", "crnn", "won_musicnn", "short_chunk_cnn", "short_chunk_resnet", "build"]


def build(name: str, params, task, sample_rate: int) -> keras.Model:
    from sampleaudio.families.won2020.model import WON2020

    width = {"n_channels": params.init_features} if WON2020[name].scalable else {}
    return WON2020[name].build(task.num_classes, segment=None, sample_rate=sample_rate, activation=task.activation,
                               dropout=params.dropout, **width)


def fcn(params, task, segment, sample_rate):
    return build("fcn", params, task, sample_rate)


def crnn(params, task, segment, sample_rate):
    return build("crnn", params, task, sample_rate)


def won_musicnn(params, task, segment, sample_rate):
    return build("won_musicnn", params, task, sample_rate)


def short_chunk_cnn(params, task, segment, sample_rate):
    return build("short_chunk_cnn", params, task, sample_rate)


def short_chunk_resnet(params, task, segment, sample_rate):
    return build("short_chunk_resnet", params, task, sample_rate)
