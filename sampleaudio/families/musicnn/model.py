"""musicnn and its VGG baseline (Pons and Serra), in Keras 3, with the released MTAT and MSD weights.

Reference: J. Pons and X. Serra, "musicnn: pre-trained convolutional neural networks for music audio
tagging", ISMIR 2019 late-breaking demo; code and weights ``jordipons/musicnn`` (PyPI ``musicnn`` 0.1.0,
``models.py`` and ``extractor.py``).

Each model takes a 16 kHz waveform ``[B, 47872, 1]`` (187 hops of 256 samples: one of musicnn's 187-frame
patches) and computes musicnn's input inside the model with :class:`~sampleaudio.layers.spectral.MelFrontEnd`
(n_fft 512, hop 256, 96 Slaney mel bands, power, ``log10(10000 x + 1)`` with musicnn's float16 roundings but
without its float16 overflow). Layers are conv -> ReLU -> BN (TF1 BN, epsilon 1e-3), as in the original.

``musicnn``: timbral front end (time-pad 3, convs 7x38 and 7x67 of 204 filters, max over frequency), temporal
front end (convs 128x1, 64x1, 32x1 of 51 filters, 'same', max over frequency) -> 561 channels; mid end of three
conv1d(64, 7) layers, the 2nd and 3rd residual, densely concatenated -> 753; back end max and mean over time,
interleaved ``[max_0, mean_0, max_1, ...]`` (TF1 flattens the stacked pair) -> BN -> Dense 200 ReLU -> BN
(``penultimate``) -> Dense 50 -> sigmoid. Named features as in the extractor: ``timbral``, ``temporal``,
``cnn1``, ``cnn2``, ``cnn3``, ``max_pool``, ``mean_pool``, ``penultimate``.

``vgg``: 5 x (conv 3x3 128 'same' -> ReLU -> BN -> max pool) with pools (4,1)/stride 2, then 2x2 x3, then
4x4 -> flatten (``penultimate``, 256) -> Dense 50 -> sigmoid; features ``pool1`` ... ``pool5``.

The weights are read from the TF1 checkpoints inside the installed ``musicnn`` wheel with
TensorFlow's checkpoint reader (no TF1 graph, no tf-keras), mapped by variable name onto the Keras layers,
and kept as a ``.weights.h5`` file in the package cache after the first use, with a record of the variant, the
checkpoint it came from and the converter, and its checksum (:func:`sampleaudio.fileio.derived_file`): a cache
file that does not verify is rebuilt, with one warning naming it.

A user's ``--weights`` (a ``.weights.h5`` of the variant's architecture, or a musicnn checkpoint folder) is checked
before anything is read: its structure, every variable's shape and dtype against the model's, and that the
checkpoint's data files hold what its index declares; each problem is one
:class:`~sampleaudio.errors.ParameterError` naming the file.
"""

from __future__ import annotations

import importlib.util
import os

import keras
import numpy as np
from keras import layers

from sampleaudio.errors import ParameterError
from sampleaudio.fileio import derived_file, sha256_file
from sampleaudio.layers.spectral import MelFrontEnd
from sampleaudio.weights import load_keras3_weights

__all__ = ["MusicnnVariant", "VARIANTS", "PATCH_FRAMES", "SEGMENT", "SAMPLE_RATE", "MTT_LABELS", "MSD_LABELS",
           "musicnn", "musicnn_vgg", "musicnn_front_end", "checkpoint_dir", "load_checkpoint_weights",
           "load_variant", "load_mtt_musicnn", "load_msd_musicnn", "load_mtt_vgg", "load_msd_vgg"]

SAMPLE_RATE = 16000
HOP = 256
PATCH_FRAMES = 187  # librosa.time_to_frames(3 s) + 1, the extractor's patch length
SEGMENT = PATCH_FRAMES * HOP  # 47,872 samples: the patch grid of the extractor, 2.992 s

#: The 50 MagnaTagATune tags, in the models' output order (musicnn ``configuration.MTT_LABELS``).
MTT_LABELS = [
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast", "piano",
    "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male", "singing", "vocals",
    "no vocals", "harpsichord", "loud", "quiet", "flute", "woman", "male vocal", "no vocal", "pop", "soft",
    "sitar", "solo", "man", "classic", "choir", "voice", "new age", "dance", "male voice", "female vocal",
    "beats", "harp", "cello", "no voice", "weird", "country", "metal", "female voice", "choral",
]
#: The 50 Million Song Dataset (Last.fm) tags, in the models' output order (``configuration.MSD_LABELS``).
MSD_LABELS = [
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock",
    "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "Mellow",
    "electronica", "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies", "blues", "hard rock",
    "ambient", "acoustic", "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country",
    "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb",
    "indie pop", "sad", "House", "happy",
]

_EPS = 1e-3  # tf.compat.v1.layers.batch_normalization


def musicnn_front_end() -> MelFrontEnd:
    """musicnn's input representation as a layer (``extractor.batch_data``): ``segment // 256`` frames."""
    return MelFrontEnd(sample_rate=SAMPLE_RATE, n_fft=512, hop=HOP, n_mels=96, htk=False, slaney_norm=True,
                       pad_mode="constant", frames="patch", compression="musicnn", name="log_mel")


def _bn(name: str):
    return layers.BatchNormalization(epsilon=_EPS, name=name)


def _max_over_frequency(x, name: str):
    """[B, T, F, C] -> [B, T, C] (the original's max_pooling2d over the whole frequency axis, then squeeze)."""
    return layers.Reshape((x.shape[1], x.shape[3]), name=f"{name}_squeeze")(
        layers.MaxPooling2D((1, x.shape[2]), name=f"{name}_pool")(x))


def musicnn(num_classes: int = 50, segment: int = SEGMENT, *, midend_filters: int = 64, backend_units: int = 200,
            dropout: float = 0.5, name: str = "musicnn") -> keras.Model:
    """musicnn (``models.build_musicnn``) over waveforms ``[B, segment, 1]`` at 16 kHz.

    Args:
        num_classes: output tags (50 for both released models).
        segment: samples per input; ``segment // 256`` spectrogram frames (187 for the released models; the
            architecture itself accepts any length, as in the original).
        midend_filters, backend_units: 64 and 200 in ``MTT_musicnn`` and ``MSD_musicnn``.
        dropout: rate of both back-end dropouts (0.5).
    """
    if segment < 32 * HOP:
        raise ParameterError(f"segment must be at least {32 * HOP} samples (32 frames). Received: segment={segment}")
    waveform = keras.Input((segment, 1), name="waveform")
    spec = musicnn_front_end()(waveform)
    frames = spec.shape[1]
    x = layers.Reshape((frames, 96, 1), name="log_mel_image")(spec)
    x = _bn("input_bn")(x)

    padded = layers.ZeroPadding2D(((3, 3), (0, 0)), name="timbral_pad")(x)
    branches = []
    for tag, width in (("74", int(0.4 * 96)), ("77", int(0.7 * 96))):
        y = layers.Conv2D(204, (7, width), activation="relu", name=f"timbral_{tag}_conv")(padded)
        branches.append(_max_over_frequency(_bn(f"timbral_{tag}_bn")(y), f"timbral_{tag}"))
    for k, length in enumerate((128, 64, 32), start=1):
        y = layers.Conv2D(51, (length, 1), padding="same", activation="relu", name=f"temporal_{k}_conv")(x)
        branches.append(_max_over_frequency(_bn(f"temporal_{k}_bn")(y), f"temporal_{k}"))
    timbral = layers.Concatenate(name="timbral")(branches[:2])
    temporal = layers.Concatenate(name="temporal")(branches[2:])
    front = layers.Concatenate(name="front_end")([timbral, temporal])

    mid = [front]
    for k in (1, 2, 3):
        y = layers.ZeroPadding1D(3, name=f"cnn{k}_pad")(mid[-1])
        y = layers.Conv1D(midend_filters, 7, activation="relu", name=f"cnn{k}_conv")(y)
        y = _bn(f"cnn{k}_bn" if k > 1 else "cnn1")(y)
        if k > 1:
            y = layers.Add(name=f"cnn{k}")([y, mid[-1]])
        mid.append(y)
    features = layers.Concatenate(name="midend")(mid)
    channels = features.shape[-1]

    max_pool = layers.GlobalMaxPooling1D(name="max_pool")(features)
    mean_pool = layers.GlobalAveragePooling1D(name="mean_pool")(features)
    pair = layers.Concatenate(name="pooled_pair")([layers.Reshape((channels, 1), name="max_pool_column")(max_pool),
                                                   layers.Reshape((channels, 1), name="mean_pool_column")(mean_pool)])
    x = layers.Flatten(name="pooled")(pair)  # interleaved [max_0, mean_0, max_1, mean_1, ...]
    x = _bn("pooled_bn")(x)
    x = layers.Dropout(dropout, name="pooled_dropout")(x)
    x = layers.Dense(backend_units, activation="relu", name="dense")(x)
    x = _bn("penultimate")(x)
    x = layers.Dropout(dropout, name="penultimate_dropout")(x)
    x = layers.Dense(num_classes, name="logits")(x)
    out = layers.Activation("sigmoid", dtype="float32", name="tags")(x)  # float32 under mixed precision
    return keras.Model(waveform, out, name=name)


def musicnn_vgg(num_classes: int = 50, *, filters: int = 128, name: str = "musicnn_vgg") -> keras.Model:
    """musicnn's VGG baseline (``models.vgg``) over waveforms ``[B, 47872, 1]`` (fixed: its dense layer sees
    the flattened 2 x 1 x 128 map of a 187-frame patch)."""
    waveform = keras.Input((SEGMENT, 1), name="waveform")
    spec = musicnn_front_end()(waveform)
    x = layers.Reshape((PATCH_FRAMES, 96, 1), name="log_mel_image")(spec)
    x = _bn("input_bn")(x)
    pools = (((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4)))
    for k, (pool, stride) in enumerate(pools, start=1):
        if k > 1:
            x = layers.Dropout(0.25, name=f"pool{k - 1}_dropout")(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{k}")(x)
        x = _bn(f"conv{k}_bn")(x)
        x = layers.MaxPooling2D(pool, strides=stride, name=f"pool{k}")(x)
    x = layers.Flatten(name="penultimate")(x)
    x = layers.Dropout(0.5, name="penultimate_dropout")(x)
    x = layers.Dense(num_classes, name="logits")(x)
    out = layers.Activation("sigmoid", dtype="float32", name="tags")(x)  # float32 under mixed precision
    return keras.Model(waveform, out, name=name)


# ----------------------------------------------------------------------------------------------------------
# Released weights


def _musicnn_names() -> dict[str, str]:
    """Keras layer -> TF1 variable scope. TF1 numbers layers in creation order (``models.py``)."""
    convs = ["timbral_74_conv", "timbral_77_conv", "temporal_1_conv", "temporal_2_conv", "temporal_3_conv",
             "cnn1_conv", "cnn2_conv", "cnn3_conv"]
    bns = ["input_bn", "timbral_74_bn", "timbral_77_bn", "temporal_1_bn", "temporal_2_bn", "temporal_3_bn",
           "cnn1", "cnn2_bn", "cnn3_bn", "pooled_bn", "penultimate"]
    names = {c: "conv2d" + (f"_{k}" if k else "") for k, c in enumerate(convs)}
    names.update({b: "batch_normalization" + (f"_{k}" if k else "") for k, b in enumerate(bns)})
    names.update({"dense": "dense", "logits": "dense_1"})
    return names


def _vgg_names() -> dict[str, str]:
    names = {f"conv{k}": f"{k}CNN" for k in range(1, 6)}
    names.update({b: "batch_normalization" + (f"_{k}" if k else "")
                  for k, b in enumerate(["input_bn"] + [f"conv{k}_bn" for k in range(1, 6)])})
    names["logits"] = "dense"
    return names


class MusicnnVariant:
    """One released model: its checkpoint folder in the wheel, labels and builder."""

    def __init__(self, checkpoint: str, labels: list[str], kind: str):
        self.checkpoint, self.labels, self.kind = checkpoint, labels, kind

    def build(self) -> keras.Model:
        if self.kind == "vgg":
            return musicnn_vgg(len(self.labels), name=self.checkpoint)
        return musicnn(len(self.labels), name=self.checkpoint)

    def names(self) -> dict[str, str]:
        return _vgg_names() if self.kind == "vgg" else _musicnn_names()


#: registered name -> released model.
VARIANTS = {
    "musicnn-mtt": MusicnnVariant("MTT_musicnn", MTT_LABELS, "musicnn"),
    "musicnn-msd": MusicnnVariant("MSD_musicnn", MSD_LABELS, "musicnn"),
    "musicnn-mtt-vgg": MusicnnVariant("MTT_vgg", MTT_LABELS, "vgg"),
    "musicnn-msd-vgg": MusicnnVariant("MSD_vgg", MSD_LABELS, "vgg"),
}

_INSTALL = "pip install --no-deps musicnn"


def checkpoint_dir(checkpoint: str) -> str:
    """The folder of a released checkpoint inside the installed ``musicnn`` wheel (nothing is imported from
    it: importing ``musicnn.extractor`` would switch TensorFlow to graph mode)."""
    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise ParameterError(f"the musicnn weights come from the musicnn wheel, which is not installed: run "
                             f"`{_INSTALL}` (--no-deps: its metadata pins numpy<1.17 and TF1, which are not needed)")
    folder = os.path.join(list(spec.submodule_search_locations)[0], checkpoint)
    if not os.path.exists(os.path.join(folder, ".index")):
        raise ParameterError(f"'{folder}' holds no checkpoint (.index); reinstall with `{_INSTALL}`")
    return folder


def _checkpoint_prefix(path: str) -> str:
    """The variable prefix of a checkpoint given as its folder (musicnn's layout: ``folder/.index``) or as its
    prefix (``model.ckpt`` beside ``model.ckpt.index``)."""
    prefix = os.path.join(path, "") if os.path.isdir(path) else path.removesuffix(".index")
    if not os.path.isfile(prefix + ".index"):
        where = f"'{path}' holds no" if os.path.isdir(path) else f"'{path}' is not a"
        raise ParameterError(f"{where} TensorFlow checkpoint (no '{os.path.basename(prefix)}.index' beside its "
                             ".data files)")
    return prefix


def _data_files(prefix: str) -> list[str]:
    folder, stem = os.path.split(prefix)
    folder = folder or "."
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.startswith(f"{stem}.data-"))


def load_checkpoint_weights(model: keras.Model, folder: str, names: dict[str, str]) -> None:
    """Copy a musicnn TF1 checkpoint into ``model`` by variable name.

    The checkpoint's ``checkpoint`` file points to the author's machine, so ``tf.train.load_checkpoint(folder)``
    (which follows it) fails; the reader is opened on the variable prefix instead (``folder/``, whose files are
    ``.index`` and ``.data-00000-of-00001``; a ``prefix`` with ``prefix.index`` works too).
    Kernels are already in Keras layout; the mid end's conv2d kernels ``[7, C, 1, 64]`` become conv1d kernels
    ``[7, C, 64]``. Every variable's presence, dtype and shape, and the data files' size against what the index
    declares, are checked before any tensor is read.
    """
    import tensorflow as tf

    prefix = _checkpoint_prefix(folder)
    try:
        reader = tf.compat.v1.train.NewCheckpointReader(prefix)
        available = reader.get_variable_to_shape_map()
        dtypes = reader.get_variable_to_dtype_map()
    except (tf.errors.OpError, ValueError, RuntimeError) as exc:
        raise ParameterError(f"checkpoint '{folder}' cannot be read ({' '.join(str(exc).split())})") from exc
    declared = sum(int(np.prod(shape)) * dtypes[name].size for name, shape in available.items())
    held = sum(os.path.getsize(p) for p in _data_files(prefix))
    if held < declared:
        raise ParameterError(f"checkpoint '{folder}' is truncated: its index declares {declared} bytes of tensors, "
                             f"its data files hold {held}")
    plan = []
    for layer_name, scope in names.items():
        layer = model.get_layer(layer_name)
        if isinstance(layer, layers.BatchNormalization):
            keys = ("gamma", "beta", "moving_mean", "moving_variance")
        else:
            keys = ("kernel", "bias")
        for key, variable in zip(keys, layer.weights):
            full = f"{scope}/{key}"
            if full not in available:
                raise ParameterError(f"checkpoint '{folder}' lacks variable '{full}' (for layer '{layer_name}'): "
                                     f"is it {model.name}'s?")
            shape = tuple(available[full])
            if dtypes[full] != tf.float32 or [d for d in shape if d != 1] != [d for d in variable.shape if d != 1]:
                raise ParameterError(f"checkpoint '{folder}': variable '{full}' is {dtypes[full].name} {shape}, layer "
                                     f"'{layer_name}' needs float32 {tuple(variable.shape)}: another architecture's "
                                     "checkpoint?")
        plan.append((layer, [f"{scope}/{key}" for key in keys[:len(layer.weights)]]))
    for layer, keys in plan:
        try:
            values = [reader.get_tensor(k) for k in keys]
        except (tf.errors.OpError, IndexError, ValueError) as exc:
            raise ParameterError(f"checkpoint '{folder}': variable '{keys[0]}' cannot be read "
                                 f"({' '.join(str(exc).split())})") from exc
        layer.set_weights([np.reshape(v, w.shape) for v, w in zip(values, layer.weights)])


#: Version of the conversion into the cached ``.weights.h5``; a change rebuilds every cache file.
_CONVERTER_VERSION = 2


def _cache_file(checkpoint: str) -> str:
    root = os.environ.get("SAMPLEAUDIO_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "sampleaudio")
    return os.path.join(root, "pretrained", "musicnn-0.1.0", f"{checkpoint}.weights.h5")


def _load_user_weights(model: keras.Model, name: str, weights: str) -> None:
    """``--weights`` of a musicnn variant: a ``.weights.h5`` of its architecture or a musicnn checkpoint."""
    weights = os.fspath(weights)
    variant = VARIANTS[name]
    if weights.endswith(".weights.h5"):
        load_keras3_weights(model, weights)
    elif weights.endswith((".keras", ".h5", ".hdf5")):
        raise ParameterError(f"--weights '{weights}': {name} takes a .weights.h5 file of its architecture "
                             "(model.save_weights) or a musicnn checkpoint folder, not a whole saved model or a "
                             "Keras 2 file")
    elif not os.path.exists(weights) and not os.path.exists(weights + ".index"):
        raise ParameterError(f"--weights '{weights}': no such file or folder")
    else:
        load_checkpoint_weights(model, weights, variant.names())


def _load_released(model: keras.Model, name: str) -> None:
    """The wheel's checkpoint of variant ``name``, through the verified cache file."""
    variant = VARIANTS[name]
    folder = checkpoint_dir(variant.checkpoint)
    prefix = _checkpoint_prefix(folder)
    index_sha256, _ = sha256_file(prefix + ".index")  # the index holds every tensor's offset and checksum
    made_from = {"converter": __name__, "converter_version": _CONVERTER_VERSION, "variant": name,
                 "checkpoint": variant.checkpoint, "index_sha256": index_sha256,
                 "data_bytes": [os.path.getsize(p) for p in _data_files(prefix)]}

    def build(tmp: str) -> None:
        load_checkpoint_weights(model, folder, variant.names())
        model.save_weights(tmp)

    derived_file(_cache_file(variant.checkpoint), made_from=made_from, build=build,
                 load=lambda path: load_keras3_weights(model, path), what="musicnn weights cache")


def load_variant(name: str, weights: str | None = None) -> tuple[keras.Model, dict]:
    """The Keras model and model card of a released musicnn model (``musicnn-mtt`` ...).

    ``weights``: a ``.weights.h5`` file of this architecture, or a musicnn checkpoint folder (or prefix), instead
    of the installed wheel's.
    """
    variant = VARIANTS[name]
    model = variant.build()
    if weights is not None:
        _load_user_weights(model, name, weights)
    else:
        _load_released(model, name)
    card = {"labels": list(variant.labels), "segment": SEGMENT, "mean": 0.0, "std": 1.0,
            "sample_rate": SAMPLE_RATE, "embedding_layer": "penultimate",
            "source": f"musicnn 0.1.0 {variant.checkpoint} (Pons and Serra; jordipons/musicnn)"}
    return model, card


def load_mtt_musicnn(weights: str | None = None):
    """``musicnn-mtt``: MTT_musicnn, 50 MagnaTagATune tags."""
    return load_variant("musicnn-mtt", weights)


def load_msd_musicnn(weights: str | None = None):
    """``musicnn-msd``: MSD_musicnn, 50 Million Song Dataset tags."""
    return load_variant("musicnn-msd", weights)


def load_mtt_vgg(weights: str | None = None):
    """``musicnn-mtt-vgg``: MTT_vgg, the VGG baseline on MagnaTagATune."""
    return load_variant("musicnn-mtt-vgg", weights)


def load_msd_vgg(weights: str | None = None):
    """``musicnn-msd-vgg``: MSD_vgg, the VGG baseline on the Million Song Dataset."""
    return load_variant("musicnn-msd-vgg", weights)
