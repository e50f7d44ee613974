"""The mel-spectrogram models of Won, Ferraro, Bogdanov, Serra, "Evaluation of CNN-based automatic music tagging
models", SMC 2020 (code ``minzwon/sota-music-tagging-models``, ``training/model.py`` and ``modules.py``), in
Keras 3.

Common front end (:func:`won_front_end`): 16 kHz, n_fft 512, hop 256, centred with reflection, power, HTK mel
without area normalisation, f_max 8 kHz, ``10 log10(max(x, 1e-10))``, then a BatchNorm over the single channel.
PyTorch defaults are kept: BN epsilon 1e-5 and momentum 0.1 (Keras momentum 0.9), conv padding ``k // 2``.

Layout: PyTorch's ``[B, C, freq, time]`` is Keras' ``[B, time, freq, C]`` here, so a PyTorch pool
``(f, t)`` is a Keras pool ``(t, f)``.

- :func:`fcn` (Choi 2016): 96 mel, 29 s; 5 x (conv3x3 -> BN -> ReLU -> maxpool) 64/128/128/128/64 with pools
  (freq, time) (2,4), (2,4), (2,4), (3,5), (4,4) -> 1 x 1 -> Dropout 0.5 -> Dense.
- :func:`crnn` (Choi 2017): 96 mel, 29 s; conv 64/128/128/128 with pools (2,2), (3,3), (4,4), (4,4) -> 2-layer
  GRU(32) -> last step -> Dropout 0.5 -> Dense.
- :func:`short_chunk_cnn`: 128 mel, 59,049 samples; 7 x (conv3x3 -> BN -> ReLU -> maxpool 2), channels
  128, 128, 256, 256, 256, 256, 512; global max over time -> Dense 512 -> BN -> ReLU -> Dropout -> Dense.
- :func:`short_chunk_resnet`: the same with residual blocks of stride 2 (conv(stride) -> BN -> ReLU -> conv ->
  BN, projection conv(stride) -> BN, add, ReLU).
- :func:`won_musicnn` (their port of Pons et al.): 96 mel, 3 s; vertical convs 204 x (67, 7) and (38, 7), max
  over frequency; horizontal convs 51 x (129, 65, 33) on the frequency-averaged input -> 561; mid end conv1d 64
  k7 (conv -> BN -> ReLU), the 2nd and 3rd residual, concatenated -> 753; max and mean over time concatenated
  (not interleaved, unlike musicnn's release) -> Dense 200 -> BN -> ReLU -> Dropout -> Dense.

Where the paper's input leaves a 1 x 1 map (FCN) or one frame (the short-chunk models) the final reduction is a
global max pool, which is the identity there and lets every model take other lengths (the demo's shorter
segments). Every model's last layers are ``penultimate`` (the clip embedding) -> ``dropout`` -> ``logit``.
"""

from __future__ import annotations

import dataclasses

import keras
from keras import layers

from sampleaudio.layers.spectral import MelFrontEnd
from sampleaudio.layers.won_blocks import BN_EPSILON, BN_MOMENTUM  # noqa: F401
from sampleaudio.layers.won_blocks import bn as _bn
from sampleaudio.layers.won_blocks import classifier_head as _head
from sampleaudio.layers.won_blocks import conv_block as _conv_block

__all__ = ["WonModel", "WON2020", "won_front_end", "fcn", "crnn", "short_chunk_cnn", "short_chunk_resnet",
           "won_musicnn", "evenly_spaced_chunks"]

def won_front_end(n_mels: int, *, sample_rate: int = 16000, name: str = "spec") -> MelFrontEnd:
    """torchaudio ``MelSpectrogram(sample_rate, n_fft=512, f_min=0, f_max=8000, n_mels)`` + ``AmplitudeToDB()``."""
    return MelFrontEnd(sample_rate=sample_rate, n_fft=512, hop=256, n_mels=n_mels, fmin=0.0, fmax=8000.0,
                       htk=True, slaney_norm=False, pad_mode="reflect", frames="centred", compression="db",
                       name=name)


def _input(segment: int | None, n_mels: int, sample_rate: int):
    waveform = keras.Input((segment, 1), name="waveform")
    x = won_front_end(n_mels, sample_rate=sample_rate)(waveform)
    x = layers.Reshape((-1, n_mels, 1), name="spec_image")(x)
    return waveform, _bn("spec_bn")(x)


def _torch_conv(x, filters: int, stride: int, name: str):
    """A 3x3 conv with PyTorch's symmetric padding 1 (Keras 'same' with stride 2 pads only at the end)."""
    x = layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
    return layers.Conv2D(filters, 3, strides=stride, name=name)(x)


def fcn(num_classes: int = 50, segment: int | None = 464000, *, sample_rate: int = 16000,
        activation: str = "sigmoid", dropout: float = 0.5, name: str = "fcn") -> keras.Model:
    """FCN (Choi, Fazekas, Sandler, ISMIR 2016) as benchmarked by Won 2020: 29 s, 96 mel."""
    waveform, x = _input(segment, 96, sample_rate)
    for k, (filters, pool) in enumerate(zip((64, 128, 128, 128, 64), ((2, 4), (2, 4), (2, 4), (3, 5), (4, 4))),
                                        start=1):
        x = _conv_block(x, filters, pool, f"layer{k}")
    x = layers.GlobalMaxPooling2D(name="global_pool")(x)  # the paper's input leaves 1 x 1
    return keras.Model(waveform, _head(x, num_classes, activation, None, dropout, name), name=name)


def crnn(num_classes: int = 50, segment: int | None = 464000, *, sample_rate: int = 16000,
         activation: str = "sigmoid", dropout: float = 0.5, name: str = "crnn") -> keras.Model:
    """CRNN (Choi, Fazekas, Sandler, Cho, ICASSP 2017) as benchmarked by Won 2020: 29 s, 96 mel, 2 x GRU(32)."""
    waveform, x = _input(segment, 96, sample_rate)
    for k, (filters, pool) in enumerate(zip((64, 128, 128, 128), ((2, 2), (3, 3), (4, 4), (4, 4))), start=1):
        x = _conv_block(x, filters, pool, f"layer{k}")
    x = layers.Reshape((-1, 128), name="squeeze_freq")(x)  # frequency is 1 after the pools
    # PyTorch's GRU: reset gate applied after the recurrent matmul, two bias vectors (reset_after=True)
    x = layers.GRU(32, return_sequences=True, name="gru1")(x)
    x = layers.GRU(32, name="gru2")(x)  # the last step
    return keras.Model(waveform, _head(x, num_classes, activation, None, dropout, name), name=name)


_SHORT_CHUNK_CHANNELS = (128, 128, 256, 256, 256, 256, 512)


def short_chunk_cnn(num_classes: int = 50, segment: int | None = 59049, *, sample_rate: int = 16000,
                    activation: str = "sigmoid", dropout: float = 0.5, n_channels: int = 128,
                    name: str = "short_chunk_cnn") -> keras.Model:
    """Short-chunk CNN (Won 2020): 3.69 s, 128 mel, a VGG-ish stack of 3x3 convs with 2x2 pools."""
    waveform, x = _input(segment, 128, sample_rate)
    for k, width in enumerate(_SHORT_CHUNK_CHANNELS, start=1):
        x = _conv_block(x, width * n_channels // 128, (2, 2), f"layer{k}")
    x = layers.GlobalMaxPooling2D(name="global_pool")(x)
    return keras.Model(waveform, _head(x, num_classes, activation, 4 * n_channels, dropout, name), name=name)


def _res_block(x, filters: int, name: str):
    """``Res_2d`` with stride 2 (and therefore always the projection shortcut)."""
    y = layers.ReLU(name=f"{name}_relu1")(_bn(f"{name}_bn1")(_torch_conv(x, filters, 2, f"{name}_conv1")))
    y = _bn(f"{name}_bn2")(_torch_conv(y, filters, 1, f"{name}_conv2"))
    shortcut = _bn(f"{name}_bn3")(_torch_conv(x, filters, 2, f"{name}_conv3"))
    return layers.ReLU(name=f"{name}_relu")(layers.Add(name=f"{name}_add")([shortcut, y]))


def short_chunk_resnet(num_classes: int = 50, segment: int | None = 59049, *, sample_rate: int = 16000,
                       activation: str = "sigmoid", dropout: float = 0.5, n_channels: int = 128,
                       name: str = "short_chunk_resnet") -> keras.Model:
    """Short-chunk ResNet (Won 2020, their best MTAT model): 7 residual blocks of stride 2."""
    waveform, x = _input(segment, 128, sample_rate)
    for k, width in enumerate(_SHORT_CHUNK_CHANNELS, start=1):
        x = _res_block(x, width * n_channels // 128, f"layer{k}")
    x = layers.GlobalMaxPooling2D(name="global_pool")(x)
    return keras.Model(waveform, _head(x, num_classes, activation, 4 * n_channels, dropout, name), name=name)


def won_musicnn(num_classes: int = 50, segment: int | None = 48000, *, sample_rate: int = 16000,
                activation: str = "sigmoid", dropout: float = 0.5, dataset: str = "mtat",
                name: str = "won_musicnn") -> keras.Model:
    """Won 2020's port of musicnn (3 s, 96 mel): mid end 64 and dense 200 (512 and 500 for ``dataset="msd"``)."""
    waveform, x = _input(segment, 96, sample_rate)
    branches = []
    for k, height in ((1, int(0.7 * 96)), (2, int(0.4 * 96))):  # Conv_V: (freq, time) kernels (67, 7), (38, 7)
        y = layers.ZeroPadding2D(((3, 3), (0, 0)), name=f"m{k}_pad")(x)
        y = layers.Conv2D(204, (7, height), name=f"m{k}_conv")(y)
        y = layers.ReLU(name=f"m{k}_relu")(_bn(f"m{k}_bn")(y))
        y = layers.MaxPooling2D((1, 96 - height + 1), name=f"m{k}_pool")(y)
        branches.append(layers.Reshape((-1, 204), name=f"m{k}")(y))
    averaged = layers.Reshape((-1, 1), name="freq_mean")(layers.AveragePooling2D((1, 96), name="freq_avg")(x))
    for k, length in ((3, 129), (4, 65), (5, 33)):  # Conv_H on the frequency-averaged input
        y = layers.Conv1D(51, length, padding="same", name=f"m{k}_conv")(averaged)
        branches.append(layers.ReLU(name=f"m{k}")(_bn(f"m{k}_bn")(y)))
    front = layers.Concatenate(name="front_end")(branches)
    channels, dense = (512, 500) if dataset == "msd" else (64, 200)
    mid = [front]
    for k in (1, 2, 3):
        y = layers.Conv1D(channels, 7, padding="same", name=f"layer{k}_conv")(mid[-1])
        y = layers.ReLU(name=f"layer{k}_relu")(_bn(f"layer{k}_bn")(y))
        mid.append(y if k == 1 else layers.Add(name=f"res{k}")([y, mid[-1]]))
    features = layers.Concatenate(name="midend")(mid)
    pooled = layers.Concatenate(name="pooled")([layers.GlobalMaxPooling1D(name="max_pool")(features),
                                                layers.GlobalAveragePooling1D(name="mean_pool")(features)])
    return keras.Model(waveform, _head(pooled, num_classes, activation, dense, dropout, name), name=name)


@dataclasses.dataclass(frozen=True)
class WonModel:
    """A model of the benchmark with its paper input: ``segment`` samples at ``sample_rate``, ``n_mels``;
    ``scalable``: its width is the ``n_channels`` argument (128 in the paper)."""

    builder: object
    segment: int
    n_mels: int
    sample_rate: int = 16000
    scalable: bool = False

    def build(self, num_classes: int = 50, **kwargs) -> keras.Model:
        kwargs.setdefault("segment", self.segment)
        kwargs.setdefault("sample_rate", self.sample_rate)
        return self.builder(num_classes, **kwargs)


#: architecture name -> the paper's model and input (HarmonicCNN is a family of its own,
#: :mod:`sampleaudio.families.harmonic_cnn`).
WON2020: dict[str, WonModel] = {
    "fcn": WonModel(fcn, 464000, 96),
    "crnn": WonModel(crnn, 464000, 96),
    "won_musicnn": WonModel(won_musicnn, 48000, 96),
    "short_chunk_cnn": WonModel(short_chunk_cnn, 59049, 128, scalable=True),
    "short_chunk_resnet": WonModel(short_chunk_resnet, 59049, 128, scalable=True),
}


def evenly_spaced_chunks(length: int, segment: int, count: int = 16) -> list[int]:
    """Start samples of Won 2020's evaluation chunks: ``hop = (length - segment) // count``, chunks
    ``[i * hop, i * hop + segment)`` for ``i < count`` (``training/eval.py``); a clip shorter than ``segment``
    gives ``count`` copies of start 0 (it is tiled, as everywhere in sampleaudio)."""
    hop = max(0, (length - segment) // count)
    return [i * hop for i in range(count)]
