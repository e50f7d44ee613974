"""The audio-word co-embedding of Choi, Lee, Park, Nam, "Zero-shot learning for audio-based music classification
and tagging", ISMIR 2019 (Sec. 3, Fig. 2), as Keras 3 functional models; facts from the authors' ``model.py``
(``model_siamese_a2w_1fc``).

- :func:`ZeroShotAudioBranch`: Park 2018's conv stack *without* batch norm: Conv1D 128 k4 -> ReLU -> MP4,
  128 k4 MP4, 128 k4 MP4, 128 k2 MP2, then 100 filters k1 *linear*; every conv ``same``, bias, L2 1e-5,
  ``he_uniform``; global average pooling -> 100-d. Layer names ``am_conv_1..5`` as the original. Input 130 mel
  frames (Park's front end and standardisation) or, with ``waveform_input``, ``129 * 512`` samples.
- :func:`WordBranch`: one linear ``Dense(100)`` (with bias) on a word vector (300-d GloVe in the paper).
- :func:`CoEmbeddingModel`: audio, a positive word vector ``[B, D]`` and ``N`` negative word vectors
  ``[B, N, D]`` (the same word branch for all) -> cosine scores ``[B, 1 + N]`` (column 0 the positive), trained
  with :func:`sampleaudio.losses.multi_negative_max_margin` (margin 0.4, summed). One negative by default.

A track's embedding is the mean of its non-overlapping segments' audio embeddings (not renormalised), a tag's is
``WordBranch(vector)``, and their cosine scores the pair (:mod:`sampleaudio.zeroshot`).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from sampleaudio.errors import ParameterError
from sampleaudio.layers.filterbanks import crop_samples, park2018_front_end

__all__ = ["CHOI2019_FRAMES", "EMBED_DIM", "AUDIO_BLOCKS", "CosineScores", "ZeroShotAudioBranch", "WordBranch",
           "CoEmbeddingModel", "audio_branch_of", "word_branch_of"]

#: Mel frames per training crop in the authors' code (the paper's text says ~3 s).
CHOI2019_FRAMES = 130
#: The joint space's dimension.
EMBED_DIM = 100
#: (filters, kernel, pool) of the audio branch's convs; the last is linear.
AUDIO_BLOCKS = ((128, 4, 4), (128, 4, 4), (128, 4, 4), (128, 2, 2), (EMBED_DIM, 1, 1))


@keras.saving.register_keras_serializable(package="sampleaudio")
class CosineScores(keras.layers.Layer):
    """Cosine of one vector with each of ``K`` others: ``([B, E], [B, K, E]) -> [B, K]``.

    Reference: Choi et al., ISMIR 2019 (``Dot(axes=1, normalize=True)`` per word in the original).
    """

    def call(self, inputs):
        audio, words = inputs
        audio = audio / ops.maximum(ops.norm(audio, axis=-1, keepdims=True), 1e-12)
        words = words / ops.maximum(ops.norm(words, axis=-1, keepdims=True), 1e-12)
        return ops.sum(words * audio[:, None, :], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[1][0], input_shape[1][1])


def ZeroShotAudioBranch(frames: int | None = CHOI2019_FRAMES, *, n_mels: int = 128, waveform_input: bool = True,
                        pad_mode: str = "reflect", weight_decay: float = 1e-5, embed_dim: int = EMBED_DIM,
                        name: str = "audio_branch") -> keras.Model:
    """The audio branch: ``[B, frames, n_mels]`` (or a waveform crop ``[B, (frames - 1) * 512, 1]``) -> ``[B, 100]``.

    Args:
        frames: mel frames per example (130 in the authors' code; ``None``: any length of at least 128 frames).
        n_mels: mel bands (input channels).
        waveform_input: take waveforms and compute Park 2018's mel front end in the graph (what runs use).
        pad_mode: the front end's STFT padding.
        weight_decay: L2 on every conv kernel (1e-5).
        embed_dim: filters of the last (linear) conv, the joint space's size (100).

    Example:
        >>> ZeroShotAudioBranch(130, waveform_input=False).output.shape
        (None, 100)
    """
    if embed_dim < 1:
        raise ParameterError(f"embed_dim must be >= 1. Received: embed_dim={embed_dim}")
    if waveform_input:
        inp = keras.Input((None if frames is None else crop_samples(frames), 1), name="audio")
        x = park2018_front_end(pad_mode)(inp)
    else:
        inp = x = keras.Input((frames, n_mels), name="am_input")
    reg = keras.regularizers.L2(weight_decay) if weight_decay else None
    blocks = AUDIO_BLOCKS[:-1] + ((embed_dim, 1, 1),)
    for i, (filters, kernel, pool) in enumerate(blocks, start=1):
        last = i == len(blocks)
        x = layers.Conv1D(filters, kernel, padding="same", kernel_initializer="he_uniform", kernel_regularizer=reg,
                          activation=None if last else "relu", name=f"am_conv_{i}")(x)
        if pool > 1:
            x = layers.MaxPooling1D(pool, name=f"am_pool_{i}")(x)
    x = layers.GlobalAveragePooling1D(name="audio_embedding")(x)
    return keras.Model(inp, x, name=name)


def WordBranch(word_dim: int, *, embed_dim: int = EMBED_DIM, name: str = "word_branch") -> keras.layers.Dense:
    """The word branch: ``[..., word_dim]`` word vectors -> ``[..., 100]``, one linear ``Dense`` with bias (a layer,
    so that one call maps a positive ``[B, D]`` or all negatives ``[B, N, D]``)."""
    if word_dim < 1:
        raise ParameterError(f"word_dim must be >= 1. Received: word_dim={word_dim}")
    layer = layers.Dense(embed_dim, name=name)
    layer.build((None, word_dim))
    return layer


def CoEmbeddingModel(audio_branch: keras.Model | None = None, *, word_dim: int = 300, num_negatives: int = 1,
                     embed_dim: int = EMBED_DIM, name: str = "coembedding") -> keras.Model:
    """``[audio, positive_word [B, D], negative_words [B, N, D]]`` -> cosine scores ``[B, 1 + N]``.

    Args:
        audio_branch: the audio branch (default: a new waveform-input :func:`ZeroShotAudioBranch`).
        word_dim: the word vectors' dimension (300 in the paper, 50 with the offline GloVe 6B 50-d).
        num_negatives: negative tags per positive (1 in the authors' code).
        embed_dim: the joint space's size (the audio branch's output).

    Example:
        >>> m = CoEmbeddingModel(ZeroShotAudioBranch(130, waveform_input=False), word_dim=50, num_negatives=2)
        >>> m.output.shape
        (None, 3)
    """
    if num_negatives < 1:
        raise ParameterError(f"num_negatives must be >= 1. Received: num_negatives={num_negatives}")
    audio_branch = audio_branch if audio_branch is not None else ZeroShotAudioBranch(embed_dim=embed_dim)
    if audio_branch.output.shape[-1] != embed_dim:
        raise ParameterError(f"the audio branch gives {audio_branch.output.shape[-1]}-d embeddings, not {embed_dim}")
    audio = keras.Input(tuple(audio_branch.inputs[0].shape[1:]), name="audio")
    positive = keras.Input((word_dim,), name="positive_word")
    negatives = keras.Input((num_negatives, word_dim), name="negative_words")
    words = layers.Concatenate(axis=1, name="words")([layers.Reshape((1, word_dim), name="positive_row")(positive),
                                                      negatives])
    word_branch = WordBranch(word_dim, embed_dim=embed_dim)
    scores = CosineScores(dtype="float32", name="scores")([audio_branch(audio), word_branch(words)])  # mixed precision
    return keras.Model([audio, positive, negatives], scores, name=name)


def audio_branch_of(model: keras.Model) -> keras.Model:
    """The audio branch inside a :func:`CoEmbeddingModel`."""
    return model.get_layer("audio_branch")


def word_branch_of(model: keras.Model) -> keras.layers.Dense:
    """The word branch (a ``Dense`` layer) inside a :func:`CoEmbeddingModel`."""
    return model.get_layer("word_branch")
