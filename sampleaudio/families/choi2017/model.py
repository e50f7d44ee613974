"""The source convnet of Choi, Fazekas, Sandler, Cho, "Transfer learning for music classification and regression
tasks", ISMIR 2017 (``keunwoochoi/transfer_learning_music``: ``models_transfer.py``, ``easy_feature_extraction.py``;
Keras 1.2.2 on Theano, kapre at commit a3bde3e), in Keras 3.

- Front end (:class:`Choi2017Melgram`; kapre ``Melspectrogram(n_dft=512, n_hop=256, power_melgram=2.0,
  return_decibel_melgram=True, sr=12000, n_mels=96, fmin=0, fmax=6000)``): the power spectrum of frames of 512
  samples every 256 with a periodic Hann window (kapre's DFT kernels, convolved with Theano's ``'same'``
  padding: frames centred on ``k * 256`` with zeros beyond the ends, ``ceil(samples / 256)`` of them: 1,360 for 29
  s), librosa's Slaney mel matrix (area-normalised), then kapre's ``amplitude_to_decibel``: ``10 log10(max(x,
  1e-10))`` minus its maximum, floored at -80 dB. No further normalisation (``normalize='no'``).
- Convnet (``get_convBNeluMPdrop``): 5 x [Conv2D(32, 3 x 3, 'same', he_normal) -> BatchNormalization -> ELU(1) ->
  MaxPooling2D], the pools (frequency, time) (2, 4), (3, 4), (2, 5), (2, 4), (4, 4): 96 x 1,360 -> 48 x 340 -> 16 x
  85 -> 8 x 17 -> 4 x 4 -> 1 x 1; no dropout. The tagging head: the 1 x 1 x 32 map flattened -> Dense(50, sigmoid)
  (here a global average pool, the same at the paper's input, so that other lengths work).
- Features (:data:`FEATURE_LAYERS`, :func:`convnet_feature`): ``load_model(mid_idx)`` stops after block
  ``mid_idx``'s max-pool, then ``GlobalAveragePooling2D`` (``Flatten`` of the 1 x 1 map for block 5): five 32-d
  features, concatenated 160-d.

Layout: the Theano code's ``[channels, freq, time]`` is Keras' ``[time, freq, channels]`` here, so a pool
``(f, t)`` there is ``(t, f)`` here.

Two departures from the original, both because it made a feature depend on the other clips of its batch: kapre's
decibel subtracts the maximum over the whole batch tensor (here each clip's own, which is what the authors'
``easy_feature_extraction.py`` computes, predicting one clip at a time), and Keras 1's ``BatchNormalization(mode=2)``
normalised with the batch's statistics at inference too (here the moving statistics, as every BN in sampleaudio).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from sampleaudio.layers.spectral import MelFrontEnd

__all__ = ["POOLS", "FEATURE_LAYERS", "Choi2017Melgram", "choi2017_convnet", "convnet_feature"]

#: (frequency, time) max-pool of each block for 96 mel bands (``models_transfer.py``, ``n_mels >= 96``)
POOLS = ((2, 4), (3, 4), (2, 5), (2, 4), (4, 4))
#: the layers whose output, averaged, is a feature (the authors' layers 0-4)
FEATURE_LAYERS = tuple(f"block{k}_pool" for k in range(1, 6))


@keras.saving.register_keras_serializable(package="sampleaudio")
class Choi2017Melgram(keras.layers.Layer):
    """Waveform ``[B, samples, 1]`` -> ``[B, ceil(samples / hop), n_mels]`` kapre decibels (see the module
    docstring).

    Args:
        sample_rate: Hz (12,000 in the paper).
        n_fft, hop, n_mels, fmin, fmax: kapre's ``n_dft``, ``n_hop``, ``n_mels``, ``fmin``, ``fmax``.
        dynamic_range: the floor below each clip's maximum, in dB.
    """

    def __init__(self, sample_rate: int = 12000, n_fft: int = 512, hop: int = 256, n_mels: int = 96,
                 fmin: float = 0.0, fmax: float = 6000.0, dynamic_range: float = 80.0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.sample_rate, self.n_fft, self.hop, self.n_mels = int(sample_rate), int(n_fft), int(hop), int(n_mels)
        self.fmin, self.fmax, self.dynamic_range = float(fmin), float(fmax), float(dynamic_range)
        self._mel = MelFrontEnd(self.sample_rate, self.n_fft, self.hop, self.n_mels, self.fmin, self.fmax,
                                htk=False, slaney_norm=True, pad_mode="constant", frames="centred",
                                compression="none", name=f"{self.name}_mel")

    def call(self, inputs):
        mel = self._mel(inputs)  # 1 + samples // hop centred frames
        frames = (tf.shape(inputs)[1] + self.hop - 1) // self.hop  # Theano's 'same' keeps ceil(samples / hop)
        db = 10.0 * tf.math.log(tf.maximum(mel[:, :frames], 1e-10)) / tf.math.log(10.0)
        db = db - tf.reduce_max(db, axis=[1, 2], keepdims=True)
        return tf.maximum(db, -self.dynamic_range)

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        return (input_shape[0], None if t is None else -(-t // self.hop), self.n_mels)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"sample_rate": self.sample_rate, "n_fft": self.n_fft, "hop": self.hop, "n_mels": self.n_mels,
                       "fmin": self.fmin, "fmax": self.fmax, "dynamic_range": self.dynamic_range})
        return config


def choi2017_convnet(num_classes: int = 50, segment: int | None = 348000, *, sample_rate: int = 12000,
                     activation: str = "sigmoid", name: str = "choi2017_convnet") -> keras.Model:
    """The convnet over waveforms ``[B, segment, 1]`` (29 s at 12 kHz in the paper; at least 327,425 samples)."""
    waveform = keras.Input((segment, 1), name="waveform")
    x = Choi2017Melgram(sample_rate, name="melgram")(waveform)
    x = layers.Reshape((-1, 96, 1), name="melgram_image")(x)
    for k, (pool_f, pool_t) in enumerate(POOLS, start=1):
        x = layers.Conv2D(32, 3, padding="same", kernel_initializer="he_normal", name=f"block{k}_conv")(x)
        x = layers.BatchNormalization(epsilon=1e-3, momentum=0.99, name=f"block{k}_bn")(x)  # Keras 1's defaults
        x = layers.ELU(1.0, name=f"block{k}_elu")(x)
        x = layers.MaxPooling2D((pool_t, pool_f), name=f"block{k}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="penultimate")(x)  # Flatten of the paper input's 1 x 1 map
    out = layers.Dense(num_classes, activation=activation, dtype="float32", name="logit")(x)
    return keras.Model(waveform, out, name=name)


def convnet_feature(model: keras.Model) -> keras.Model:
    """``model``'s inputs -> ``[layer0, ..., layer4, convnet_feature]``: each block's max-pool output averaged over
    time and frequency (32-d each), and the five concatenated (160-d), as ``easy_feature_extraction.py``."""
    pooled = [layers.GlobalAveragePooling2D(name=f"layer{k}")(model.get_layer(name).output)
              for k, name in enumerate(FEATURE_LAYERS)]
    return keras.Model(model.inputs, [*pooled, layers.Concatenate(name="convnet_feature")(pooled)],
                       name=f"{model.name}_features")
