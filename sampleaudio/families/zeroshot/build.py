"""Builder and embedding accessor of Choi 2019's audio branch."""

from __future__ import annotations

import keras

__all__ = ["choi2019_audio", "last_layer"]


def choi2019_audio(params, task, segment: int, sample_rate: int) -> keras.Model:
    """Any crop of at least 128 mel frames; trained with the co-embedding objective."""
    from sampleaudio.families.zeroshot.model import ZeroShotAudioBranch

    return ZeroShotAudioBranch(None, waveform_input=True)


def last_layer(model: keras.Model) -> str:
    """An encoder whose output is the embedding."""
    return model.layers[-1].name
