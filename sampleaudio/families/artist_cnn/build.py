"""Builder and embedding accessor of Park 2018's artist model."""

from __future__ import annotations

import keras

from sampleaudio.errors import ParameterError

__all__ = ["artist_cnn", "before_global_pool"]


def artist_cnn(params, task, segment: int, sample_rate: int) -> keras.Model:
    """Any crop of at least 65,024 samples (128 frames); sigmoid over tags on a multi-label store (the tag
    model)."""
    from sampleaudio.families.artist_cnn.model import ArtistBasicModel

    return ArtistBasicModel(task.num_classes, frames=None, waveform_input=True, activation=task.activation)


def before_global_pool(model: keras.Model) -> str:
    """The last conv block's ReLU: the layer feeding the model's global pooling (Park 2018's song feature)."""
    for i, layer in enumerate(model.layers):
        if isinstance(layer, (keras.layers.GlobalAveragePooling1D, keras.layers.GlobalMaxPooling1D)):
            return model.layers[i - 1].name
    raise ParameterError(f"model '{model.name}' has no global pooling layer to take an embedding before")
