"""The 1D-CNN artist models of Park, Lee, Park, Ha, Nam, "Representation learning of music using artist labels",
ISMIR 2018 (Sec. 3, Fig. 1), as Keras 3 functional models.

- :func:`ArtistEncoder`: Conv1D over mel frames (mel bins as channels), five conv blocks
  (128 k4 MP4, 128 k4 MP4, 128 k4 MP4, 128 k2 MP2, 256 k1), each conv ``same``-padded with bias, L2 1e-5 and
  ``he_uniform``, then batch norm (eps 1e-3, momentum 0.99) and ReLU; global average pooling -> 256-d.
  129 frames -> 32 -> 8 -> 2 -> 1 frame before the pooling.
- :func:`ArtistBasicModel`: the encoder and ``Dense(num_artists, softmax)`` (Sec. 3.1, "basic model").
- :func:`ArtistSiameseModel`: anchor, positive and ``num_negatives`` negatives through the *same* encoder
  layers, the cosine of the anchor with each (``Dot(normalize=True)``), concatenated -> ``[B, 1 + N]``
  (Sec. 3.2). Train it with :func:`sampleaudio.losses.multi_negative_max_margin`.
- :func:`ArtistSongEmbedder`: the song feature of the authors' ``encoding_cnn.py``: 10 non-overlapping
  129-frame segments of the first 1,291 mel frames, the last conv block's ReLU (``activation_5``), max over
  time, mean over segments -> 256-d; computed from the waveform in the graph.

Layer names are those of the authors' released ``model_siamese_10000.h5`` (Keras 2.1.1 auto-names:
``conv1d_1..5``, ``batch_normalization_1..5``, ``activation_1..5``, ``max_pooling1d_1..4``,
``global_average_pooling1d_1``, ``dot_1..``, ``concatenate_1``), so the file loads by name into the encoder and
the Siamese model with :func:`sampleaudio.weights.load_keras2_weights`.

With ``waveform_input=True`` every input is a waveform crop ``[B, samples, 1]`` and the Park 2018 mel front end
(:class:`sampleaudio.layers.filterbanks.SlaneyMelSpectrogram`, the authors' mean/std) runs inside the model;
``65,536`` samples give the paper's 129 frames.
"""

from __future__ import annotations

import keras
from keras import layers

from sampleaudio.errors import ParameterError
from sampleaudio.layers.filterbanks import (  # noqa: F401  (re-exported: Park 2018's front end, shared with Choi 2019)
    PARK2018_FRAMES,
    PARK2018_HOP,
    PARK2018_MEAN,
    PARK2018_STD,
    crop_samples,
    park2018_front_end,
)
from sampleaudio.layers.normalization import BatchNormalization

__all__ = [
    "PARK2018_MEAN", "PARK2018_STD", "PARK2018_FRAMES", "PARK2018_HOP", "ENCODER_BLOCKS",
    "ArtistEncoder", "ArtistBasicModel", "ArtistSiameseModel", "ArtistSongEmbedder", "park2018_front_end",
    "crop_samples", "song_embedder_from", "load_park2018_artist",
]

#: (filters, kernel, pool) of the five conv blocks; pool 1 = none.
ENCODER_BLOCKS = ((128, 4, 4), (128, 4, 4), (128, 4, 4), (128, 2, 2), (256, 1, 1))


def _encoder_layers(weight_decay: float, bn_momentum: float) -> list[keras.layers.Layer]:
    out = []
    for i, (filters, kernel, pool) in enumerate(ENCODER_BLOCKS, start=1):
        out += [layers.Conv1D(filters, kernel, padding="same", kernel_initializer="he_uniform",
                              kernel_regularizer=keras.regularizers.L2(weight_decay) if weight_decay else None,
                              name=f"conv1d_{i}"),
                BatchNormalization(epsilon=1e-3, momentum=bn_momentum, name=f"batch_normalization_{i}"),
                layers.Activation("relu", name=f"activation_{i}")]
        if pool > 1:
            out.append(layers.MaxPooling1D(pool, name=f"max_pooling1d_{i}"))
    out.append(layers.GlobalAveragePooling1D(name="global_average_pooling1d_1"))
    return out


def _input(frames: int | None, n_mels: int, waveform_input: bool, name: str):
    if waveform_input:
        return keras.Input((None if frames is None else crop_samples(frames), 1), name=name)
    return keras.Input((frames, n_mels), name=name)


def ArtistEncoder(frames: int | None = PARK2018_FRAMES, *, n_mels: int = 128, waveform_input: bool = False,
                  pad_mode: str = "reflect", weight_decay: float = 1e-5, bn_momentum: float = 0.99,
                  name: str = "artist_encoder") -> keras.Model:
    """Park 2018's shared encoder: ``[B, frames, n_mels]`` (or a waveform crop) -> ``[B, 256]``.

    Args:
        frames: mel frames per example (129 in the paper; ``None``: any length >= 128).
        n_mels: mel bands (input channels).
        waveform_input: take ``[B, (frames - 1) * 512, 1]`` waveforms and compute the mel front end in the graph.
        pad_mode: the front end's STFT padding (``reflect`` as the 2018 run).
        weight_decay: L2 on every conv kernel (1e-5).
        bn_momentum: batch norm moving-average momentum (Keras' 0.99 as the original).
    """
    inp = _input(frames, n_mels, waveform_input, "audio" if waveform_input else "mel")
    x = park2018_front_end(pad_mode)(inp) if waveform_input else inp
    for layer in _encoder_layers(weight_decay, bn_momentum):
        x = layer(x)
    return keras.Model(inp, x, name=name)


def ArtistBasicModel(num_artists: int, frames: int | None = PARK2018_FRAMES, *, n_mels: int = 128,
                     waveform_input: bool = False, pad_mode: str = "reflect", weight_decay: float = 1e-5,
                     bn_momentum: float = 0.99, activation: str = "softmax",
                     name: str = "artist_basic") -> keras.Model:
    """Park 2018's basic model: the encoder and a softmax over ``num_artists`` (categorical cross-entropy).

    The authors define a Dropout(0.5) but never apply it; so neither does this model. With
    ``activation="sigmoid"`` over tags it is the paper's *tag model* (Tables 1-3: the same encoder trained on
    Last.fm tags with binary cross-entropy); its output layer is then named ``tag_sigmoid``.
    """
    if num_artists < 2:
        raise ParameterError(f"num_artists must be >= 2. Received: num_artists={num_artists}")
    if activation not in ("softmax", "sigmoid"):
        raise ParameterError(f"activation must be 'softmax' or 'sigmoid'. Received: activation={activation!r}")
    encoder = ArtistEncoder(frames, n_mels=n_mels, waveform_input=waveform_input, pad_mode=pad_mode,
                            weight_decay=weight_decay, bn_momentum=bn_momentum)
    x = encoder.output
    head = "artist_softmax" if activation == "softmax" else "tag_sigmoid"
    out = layers.Dense(num_artists, activation=activation, dtype="float32", name=head)(x)  # float32 under mixed precision
    return keras.Model(encoder.input, out, name=name)


def _sequential_layers(encoder: keras.Model) -> list[keras.layers.Layer] | None:
    """The encoder's layers in order when it is a plain chain (one input, each layer feeding the next)."""
    chain = [layer for layer in encoder.layers if not isinstance(layer, keras.layers.InputLayer)]
    x = encoder.inputs[0] if len(encoder.inputs) == 1 else None
    if x is None:
        return None
    try:
        probe = keras.Input(tuple(x.shape[1:]))
        for layer in chain:
            probe = layer(probe)
    except Exception:
        return None
    return chain if tuple(probe.shape[1:]) == tuple(encoder.output.shape[1:]) else None


def ArtistSiameseModel(encoder: keras.Model | None = None, *, num_negatives: int = 4,
                       name: str = "artist_siamese", **encoder_kwargs) -> keras.Model:
    """Park 2018's Siamese model: ``[anchor, positive, negative_1..N]`` -> cosine scores ``[B, 1 + N]``.

    Column 0 is the anchor-positive cosine, columns 1..N the anchor-negative ones. Every input goes through
    the same encoder (weights shared). A chain encoder (as :func:`ArtistEncoder`) is unrolled so that its layers
    sit in this model under their own names, as in the authors' file; any other encoder is called as a whole.

    Args:
        encoder: the shared encoder (default: a new :func:`ArtistEncoder` built with ``encoder_kwargs``).
        num_negatives: negatives per anchor (4 in the paper).
    """
    if num_negatives < 1:
        raise ParameterError(f"num_negatives must be >= 1. Received: num_negatives={num_negatives}")
    encoder = encoder if encoder is not None else ArtistEncoder(**encoder_kwargs)
    shape = tuple(encoder.inputs[0].shape[1:])
    names = ["anchor", "positive"] + [f"negative_{k}" for k in range(1, num_negatives + 1)]
    inputs = [keras.Input(shape, name=n) for n in names]
    chain = _sequential_layers(encoder)

    def encode(x):
        if chain is None:
            return encoder(x)
        for layer in chain:
            x = layer(x)
        return x

    features = [encode(x) for x in inputs]
    # the cosines and the loss in float32 under mixed precision
    scores = [layers.Dot(axes=1, normalize=True, dtype="float32", name=f"dot_{k}")([features[0], f])
              for k, f in enumerate(features[1:], start=1)]
    out = layers.Concatenate(dtype="float32", name="concatenate_1")(scores)
    return keras.Model(inputs, out, name=name)


def ArtistSongEmbedder(encoder: keras.Model | None = None, *, segments: int = 10,
                       frames: int = PARK2018_FRAMES, pad_mode: str = "reflect", feature_layer: str = "activation_5",
                       name: str = "park2018_song_features") -> keras.Model:
    """The authors' song feature (``encoding_cnn.py``) from a waveform: ``[B, segments * (frames) * 512, 1]``
    -> ``[B, 256]``.

    The mel front end (``pad_mode`` padding, the authors' mean/std) gives ``1 + segments * frames`` frames for
    ``segments * frames * 512`` samples (1,291 for the paper's 10 x 129); the first ``segments * frames`` are cut
    into ``segments`` non-overlapping ``frames``-frame segments; each goes through ``encoder`` (a mel-input
    :func:`ArtistEncoder`) up to ``feature_layer`` (the last conv block's ReLU), is max-pooled over time, and the
    segment features are averaged. The output layer is named ``song_embedding``.
    """
    encoder = encoder if encoder is not None else ArtistEncoder(frames)
    if feature_layer not in [layer.name for layer in encoder.layers]:
        raise ParameterError(f"feature_layer '{feature_layer}' is not a layer of the encoder")
    per_segment = keras.Model(encoder.inputs, layers.GlobalMaxPooling1D(name="max_over_time")(
        encoder.get_layer(feature_layer).output), name="segment_features")
    n_mels = encoder.inputs[0].shape[-1]
    inp = keras.Input((segments * frames * PARK2018_HOP, 1), name="audio")
    mel = park2018_front_end(pad_mode)(inp)  # 1 + segments * frames frames
    mel = layers.Cropping1D((0, 1), name="first_frames")(mel)
    x = layers.Reshape((segments, frames, n_mels), name="segments")(mel)
    x = layers.TimeDistributed(per_segment, name="per_segment")(x)
    out = layers.GlobalAveragePooling1D(name="song_embedding")(x)
    return keras.Model(inp, out, name=name)


def load_park2018_artist(weights: str | None) -> tuple[keras.Model, dict]:
    """Loader of the registered pretrained model ``park2018-artist`` (:mod:`sampleaudio.pretrained`).

    ``weights`` is the authors' released ``model_siamese_10000.h5`` (MIT, ``jongpillee/ismir2018-artist``),
    which the user supplies. The model maps a 660,480-sample waveform (1,291 mel frames, ~30 s at 22,050 Hz)
    to the 256-d song feature of :func:`ArtistSongEmbedder`; the card asks for the *first* such window of each
    file only (``clip_pooling: first``), as the authors encoded the first 1,291 frames of each song.
    """
    import os

    from sampleaudio.errors import ParameterError
    from sampleaudio.weights import load_keras2_weights

    if not weights:
        raise ParameterError("park2018-artist needs its weights file: --weights model_siamese_10000.h5 (the "
                             "authors' release, jongpillee/ismir2018-artist)")
    if not os.path.isfile(weights):
        raise ParameterError(f"--weights '{weights}': no such file")
    encoder = ArtistEncoder(PARK2018_FRAMES)
    load_keras2_weights(encoder, weights, strict=True)
    model = ArtistSongEmbedder(encoder)
    segment = 10 * PARK2018_FRAMES * PARK2018_HOP
    card = {"labels": [], "segment": segment, "mean": 0.0, "std": 1.0, "sample_rate": 22050,
            "embedding_layer": "song_embedding", "clip_pooling": "first",
            "source": "Park et al., ISMIR 2018; weights: jongpillee/ismir2018-artist model_siamese_10000.h5 (MIT)"}
    return model, card


def song_embedder_from(trained: keras.Model, *, segments: int = 10, frames: int = PARK2018_FRAMES,
                       pad_mode: str = "reflect") -> keras.Model:
    """:func:`ArtistSongEmbedder` carrying the encoder weights of a trained artist model (basic, Siamese or
    encoder, waveform or mel input), copied by layer name (``conv1d_1`` ... ``batch_normalization_5``)."""
    from sampleaudio.errors import ParameterError

    encoder = ArtistEncoder(frames)
    names = {layer.name for layer in trained.layers}
    missing = [layer.name for layer in encoder.layers if layer.weights and layer.name not in names]
    if missing:
        raise ParameterError(f"the trained model lacks the encoder layers {missing[:3]}: not a Park 2018 artist model")
    for layer in encoder.layers:
        if layer.weights:
            layer.set_weights(trained.get_layer(layer.name).get_weights())
    return ArtistSongEmbedder(encoder, segments=segments, frames=frames, pad_mode=pad_mode)
