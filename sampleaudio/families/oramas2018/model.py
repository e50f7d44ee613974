"""The networks of Oramas, Barbieri, Nieto, Serra, "Multimodal Deep Learning for Music Genre Classification" (TISMIR
2018), as Keras 3 functional models.

- :func:`audio_tower`: the authors' audio CNN (``sergiooramas/tartarus`` ``src/models.py`` ``get_model_1``) on the
  in-graph CQT (:class:`~sampleaudio.families.oramas2018.cqt.ConstantQ`): blocks of Conv2D (valid, uniform
  initialisation in [-0.05, 0.05], zero bias) -> ReLU -> max pool -> dropout, then flattened. Two configurations of
  ``src/run_experiments.py``: ``"mumu"`` ("Audio 4x70-low-LOGISTIC", ``logistic_audio_multilabel``: 64 (4,70),
  128 (4,6), 128 (4,1), 64 (1,1); pools (4,4), (4,1), (4,1), (1,1); no dropout) and ``"msdi"``
  (``single-label-audio``: 64 (4,96), 128 (4,1), 256 (4,1); pools (4,1), (4,1), (2,1); dropout 0.5). Kernels are
  (time, frequency). The authors standardised each (frame, bin) cell with a scikit-learn ``StandardScaler`` fitted
  on training patches; a builder sees no data, so here a batch norm without scale or offset over the CQT bins
  stands in for it (this package's choice).
- :func:`image_tower`: a ``keras.applications`` ResNet (50 or 101 layers, ``weights=None``; ImageNet weights from
  a user's file, :func:`load_image_weights`) or, for CPU demos, a small ResNet of the same kind
  (``"small_resnet"``: a 3x3 stem and three residual blocks, widths w, 2w, 4w), then global average pooling
  (``image_features``). The image is RGB in 0..255; :class:`ImagePreprocess` scales it inside the model
  (``keras.applications``' ``caffe`` convention for ResNet50: BGR, ImageNet mean subtracted).
- :func:`genre_classifier`: a tower and a dense genre layer (sigmoid multi-label, softmax single-label): the two
  subnetworks trained on genres first.
- :func:`multimodal_model`: both towers, each followed by a linear projection to the shared space and a unit
  normalisation (``audio_embedding``, ``image_embedding``): the co-embedding's model, inputs ``waveform`` and
  ``image``; :func:`triplet_model` wraps it for the triplet loss (:mod:`sampleaudio.families.oramas2018.coembedding`).
"""

from __future__ import annotations

import os

import keras
from keras import layers, ops

from sampleaudio.errors import ParameterError
from sampleaudio.families.oramas2018.cqt import ConstantQ, cqt_frames

__all__ = ["AUDIO_VARIANTS", "IMAGE_NETWORKS", "HOP", "PAPER_FRAMES", "PAPER_SEGMENT", "ImagePreprocess",
           "CandidateScores", "audio_tower", "image_tower", "genre_classifier", "multimodal_model",
           "embedders_of", "triplet_model", "load_image_weights", "min_frames"]

#: The CQT hop of the authors' ``common.py`` (22,050 Hz: 21.5 frames a second).
HOP = 1024
#: The authors' patch: ``int(15 * 22050 / 1024) = 322`` CQT frames (``create_patches.py``).
PAPER_FRAMES = 322
#: The waveform that gives 322 centred frames.
PAPER_SEGMENT = (PAPER_FRAMES - 1) * HOP

#: variant -> ((filters, (time, freq) kernel, (time, freq) pool) per block, dropout)
AUDIO_VARIANTS = {
    "mumu": (((64, (4, 70), (4, 4)), (128, (4, 6), (4, 1)), (128, (4, 1), (4, 1)), (64, (1, 1), (1, 1))), 0.0),
    "msdi": (((64, (4, 96), (4, 1)), (128, (4, 1), (4, 1)), (256, (4, 1), (2, 1))), 0.5),
}
#: the image networks: keras.applications' ResNets and a small one of the same kind for CPU demos
IMAGE_NETWORKS = ("resnet50", "resnet101", "small_resnet")

_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR
_TORCH_MEAN, _TORCH_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@keras.saving.register_keras_serializable(package="sampleaudio")
class ImagePreprocess(keras.layers.Layer):
    """RGB in 0..255 -> a ``keras.applications`` network's input: ``caffe`` (BGR, ImageNet mean subtracted:
    ResNet50/101), ``torch`` (RGB in [0, 1], ImageNet mean and std) or ``tf`` (RGB in [-1, 1])."""

    def __init__(self, mode: str = "caffe", **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if mode not in ("caffe", "torch", "tf"):
            raise ParameterError(f"mode must be 'caffe', 'torch' or 'tf'. Received: {mode!r}")
        self.mode = mode

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        if self.mode == "tf":
            return x / 127.5 - 1.0
        if self.mode == "torch":
            return (x / 255.0 - ops.convert_to_tensor(_TORCH_MEAN)) / ops.convert_to_tensor(_TORCH_STD)
        return ops.flip(x, axis=-1) - ops.convert_to_tensor(_CAFFE_MEAN)

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="sampleaudio")
class CandidateScores(keras.layers.Layer):
    """Dot products of one unit vector with each of ``K`` unit vectors: ``([B, E], [B, K, E]) -> [B, K]`` (cosine
    similarities, the embeddings being normalised)."""

    def call(self, inputs):
        anchor, candidates = inputs
        return ops.sum(candidates * anchor[:, None, :], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[1][0], input_shape[1][1])


def min_frames(variant: str) -> int:
    """The fewest CQT frames the variant's valid convolutions and pools take."""
    blocks, _ = AUDIO_VARIANTS[variant]
    need = 1
    for _, (kt, _), (pt, _) in reversed(blocks):
        need = need * pt + kt - 1
    return need


def audio_tower(waveform, *, variant: str = "mumu", width: float = 1.0, convention: str = "librosa0.6",
                sample_rate: int = 22050):
    """The audio CNN's features (``audio_features``, flattened) of ``waveform`` ``[B, T, 1]``."""
    if variant not in AUDIO_VARIANTS:
        raise ParameterError(f"audio variant must be one of {sorted(AUDIO_VARIANTS)}. Received: {variant!r}")
    frames = cqt_frames(waveform.shape[1], HOP)
    if frames is not None and frames < min_frames(variant):
        raise ParameterError(f"the '{variant}' audio CNN needs at least {min_frames(variant)} CQT frames "
                             f"({(min_frames(variant) - 1) * HOP} samples); got {frames}")
    blocks, dropout = AUDIO_VARIANTS[variant]
    cqt = ConstantQ(sample_rate=sample_rate, hop=HOP, n_bins=96, convention=convention,
                    pad_mode="reflect" if convention == "librosa0.6" else "constant", name="audio_cqt")
    x = cqt(waveform)
    x = layers.Reshape((frames if frames is not None else -1, 96, 1), name="audio_cqt_image")(x)
    x = layers.BatchNormalization(axis=2, center=False, scale=False, name="audio_input_norm")(x)
    init = keras.initializers.RandomUniform(-0.05, 0.05)
    for i, (filters, kernel, pool) in enumerate(blocks, 1):
        x = layers.Conv2D(max(4, int(round(filters * width))), kernel, padding="valid", kernel_initializer=init,
                          name=f"audio_conv{i}")(x)
        x = layers.ReLU(name=f"audio_relu{i}")(x)
        x = layers.MaxPooling2D(pool, name=f"audio_pool{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"audio_dropout{i}")(x)
    return layers.Flatten(name="audio_features")(x)


def _residual(x, filters: int, stride: int, name: str):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_shortcut")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_shortcut_bn")(shortcut)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


def image_tower(image, *, network: str = "resnet50", width: int = 16, preprocessing: str = "caffe"):
    """The image CNN's features (``image_features``, global average pooling) of ``image`` ``[B, H, W, 3]`` (RGB
    in 0..255), and the backbone model (``None`` for the small ResNet) whose layers a weight file fills."""
    if network not in IMAGE_NETWORKS:
        raise ParameterError(f"image network must be one of {IMAGE_NETWORKS}. Received: {network!r}")
    x = ImagePreprocess(preprocessing, name="image_preprocess")(image)
    backbone = None
    if network == "small_resnet":
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name="image_stem_conv")(x)
        x = layers.BatchNormalization(name="image_stem_bn")(x)
        x = layers.ReLU(name="image_stem_relu")(x)
        for k, (filters, stride) in enumerate(((width, 1), (2 * width, 2), (4 * width, 2)), 1):
            x = _residual(x, filters, stride, f"image_block{k}")
    else:
        build = keras.applications.ResNet50 if network == "resnet50" else keras.applications.ResNet101
        backbone = build(include_top=False, weights=None, input_tensor=x)
        x = backbone.output
    return layers.GlobalAveragePooling2D(name="image_features")(x), backbone


def _head(x, task, name: str):
    return layers.Dense(task.num_classes, activation=task.activation, dtype="float32", name=name)(x)


def genre_classifier(params, *, modality: str, task, segment: int, sample_rate: int) -> keras.Model:
    """A tower and its genre layer: ``audio_genres`` on ``waveform`` or ``image_genres`` on ``image``."""
    if modality == "audio":
        waveform = keras.Input((segment, 1), name="waveform")
        x = audio_tower(waveform, variant=params.variant, width=params.audio_width, convention=params.cqt,
                        sample_rate=sample_rate)
        return keras.Model(waveform, _head(x, task, "audio_genres"), name="oramas2018_audio")
    image = keras.Input((params.image_size, params.image_size, 3), name="image")
    x, backbone = image_tower(image, network=params.image_network, width=params.image_width)
    if backbone is not None and params.image_weights:
        load_image_weights(backbone, params.image_weights, params.image_network)
    x = layers.Dropout(0.5, name="image_dropout")(x)
    return keras.Model(image, _head(x, task, "image_genres"), name="oramas2018_image")


def multimodal_model(params, *, segment: int, sample_rate: int) -> keras.Model:
    """Both towers and their projections to the shared space: inputs ``waveform`` ``[N, segment, 1]`` and
    ``image`` ``[N, size, size, 3]``; outputs the unit ``audio_embedding`` and ``image_embedding``."""
    waveform = keras.Input((segment, 1), name="waveform")
    image = keras.Input((params.image_size, params.image_size, 3), name="image")
    a = audio_tower(waveform, variant=params.variant, width=params.audio_width, convention=params.cqt,
                    sample_rate=sample_rate)
    v, backbone = image_tower(image, network=params.image_network, width=params.image_width)
    if backbone is not None and params.image_weights:
        load_image_weights(backbone, params.image_weights, params.image_network)
    za = layers.Dense(params.embedding_dim, name="audio_projection")(a)
    zv = layers.Dense(params.embedding_dim, name="image_projection")(v)
    za = layers.UnitNormalization(name="audio_embedding", dtype="float32")(za)
    zv = layers.UnitNormalization(name="image_embedding", dtype="float32")(zv)
    return keras.Model([waveform, image], [za, zv], name="oramas2018")


def embedders_of(model: keras.Model) -> tuple[keras.Model, keras.Model]:
    """``(waveform -> audio_embedding, image -> image_embedding)``: each computable from its input alone."""
    audio = keras.Model(model.get_layer("waveform").output, model.get_layer("audio_embedding").output,
                        name="audio_embedder")
    image = keras.Model(model.get_layer("image").output, model.get_layer("image_embedding").output,
                        name="image_embedder")
    return audio, image


def triplet_model(model: keras.Model, *, num_negatives: int) -> keras.Model:
    """The co-embedding model arranged for the triplet loss: inputs ``anchor_audio`` ``[B, T, 1]``,
    ``negative_audio`` ``[B, N, T, 1]``, ``cover`` ``[B, H, W, 3]``, ``negative_covers`` ``[B, N, H, W, 3]``;
    output ``[B, 2 (1 + N)]``: the track's similarity to its album's cover then to N other albums' covers, and the
    cover's similarity to the track then to N tracks of other albums (the two directions of the triplets)."""
    audio, image = embedders_of(model)
    segment, size = audio.input.shape[1], image.input.shape[1:]
    anchor = keras.Input((segment, 1), name="anchor_audio")
    negative_audio = keras.Input((num_negatives, segment, 1), name="negative_audio")
    cover = keras.Input(tuple(size), name="cover")
    negative_covers = keras.Input((num_negatives, *size), name="negative_covers")
    ea, ec = audio(anchor), image(cover)
    ena = layers.TimeDistributed(audio, name="negative_audio_embeddings")(negative_audio)
    enc = layers.TimeDistributed(image, name="negative_cover_embeddings")(negative_covers)
    dim = ea.shape[-1]
    covers = layers.Concatenate(axis=1, name="candidate_covers")([layers.Reshape((1, dim))(ec), enc])
    tracks = layers.Concatenate(axis=1, name="candidate_tracks")([layers.Reshape((1, dim))(ea), ena])
    scores = layers.Concatenate(name="triplet_scores")([CandidateScores(name="track_to_covers")([ea, covers]),
                                                        CandidateScores(name="cover_to_tracks")([ec, tracks])])
    return keras.Model([anchor, negative_audio, cover, negative_covers], scores, name="oramas2018_triplets")


def load_image_weights(backbone: keras.Model, path: str, network: str) -> None:
    """Fill ``backbone`` from a ``keras.applications`` ImageNet weight file (the Keras HDF5 layout: one group per
    layer, ``layer_names`` / ``weight_names`` attributes), by layer name; a file that does not fit is one line."""
    from sampleaudio.weights import load_keras2_weights

    name = "ResNet50" if network == "resnet50" else "ResNet101"
    try:
        report = load_keras2_weights(backbone, os.fspath(path), strict=True)
    except ParameterError as exc:
        raise ParameterError(f"--image-weights '{path}' does not fit keras.applications.{name} (include_top=False): "
                             f"{exc}") from None
    if not report.loaded:
        raise ParameterError(f"--image-weights '{path}' holds no layer of keras.applications.{name}")
