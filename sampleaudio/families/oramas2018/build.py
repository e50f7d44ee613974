"""Builders of the Oramas 2018 architectures (``(params, task, segment, sample_rate) -> keras.Model``)."""

from __future__ import annotations

import keras

__all__ = ["audio_cnn", "image_cnn", "multimodal"]


def audio_cnn(params, task, segment: int, sample_rate: int) -> keras.Model:
    """The audio CNN on the CQT of ``segment`` samples, with its genre layer."""
    from sampleaudio.families.oramas2018.model import genre_classifier

    return genre_classifier(params, modality="audio", task=task, segment=segment, sample_rate=sample_rate)


def image_cnn(params, task, segment: int, sample_rate: int) -> keras.Model:
    """The cover CNN on ``image_size``-pixel covers, with its genre layer (it takes no audio)."""
    from sampleaudio.families.oramas2018.model import genre_classifier

    return genre_classifier(params, modality="image", task=task, segment=segment, sample_rate=sample_rate)


def multimodal(params, task, segment: int, sample_rate: int) -> keras.Model:
    """Both towers projected to the shared space (inputs ``waveform`` and ``image``)."""
    from sampleaudio.families.oramas2018.model import multimodal_model

    return multimodal_model(params, segment=segment, sample_rate=sample_rate)
