"""Builder and embedding accessor of Choi 2017's convnet."""

from __future__ import annotations

import keras

__all__ = ["choi2017_convnet"]


def choi2017_convnet(params, task, segment: int, sample_rate: int) -> keras.Model:
    """The convnet over waveforms of any length of at least 327,425 samples (1,280 frames), the front end at the
    store's rate, a sigmoid (or softmax) over the store's labels."""
    from sampleaudio.families.choi2017.model import choi2017_convnet as build

    return build(task.num_classes, segment=None, sample_rate=sample_rate, activation=task.activation)

