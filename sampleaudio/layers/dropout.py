"""Dropout whose TensorFlow mask draws 16 random bits per element instead of 32.

Keras 3's ``Dropout`` on the TensorFlow backend is ``tf.nn.experimental.stateless_dropout``: one uniform float
per element from the Philox generator (one 32-bit draw each, whatever the dtype), a compare, a select and a
multiply. On one CPU core Philox is most of it: a ``[46, 19683, 16]`` activation (the first block of the
Kim 2019 demo's two-conv models) takes about 93 ms to drop out, 61 ms of it drawing the bits, and the Res-2 / ReSE-2
blocks' ``Dropout(0.2)`` made up a third of their training step (docs/performance.md). The layer below is Keras'
own layer (same config, no weights, same inference pass) whose training pass on the TensorFlow backend splits
each 32-bit Philox draw into two 16-bit ones:

- an element is kept when its 16 bits are at least ``round(rate * 65536)``, so the rate really applied is that
  over 65536 (0.2 -> 0.19999695);
- kept elements are scaled by ``1 / (1 - applied rate)``, so the expected output equals the input (inverted
  dropout, as Keras');
- the draws come from the layer's ``SeedGenerator``, one seed per call, as Keras' do: the same seed gives the
  same mask. The mask is not Keras' (a different stream), so a model's numbers change with the layer, not its
  statistics.

Other backends, a ``noise_shape`` and a rate that rounds to 65536 / 65536 (all dropped) fall back to the parent's
implementation. The SampleCNN Res-2 / ReSE-2 blocks use it for their ``Dropout(0.2)`` between the two convolutions
(Kim, Lee, Nam, JSTSP 2019, Sec. III-B).
"""

from __future__ import annotations

import keras

__all__ = ["Dropout"]

_LEVELS = 1 << 16  # 16 random bits per element


@keras.saving.register_keras_serializable(package="sampleaudio")
class Dropout(keras.layers.Dropout):
    """``keras.layers.Dropout`` whose TensorFlow training pass draws 16 random bits per element."""

    def call(self, inputs, training=False):
        threshold = round(self.rate * _LEVELS)
        if (not (training and self.rate > 0) or threshold >= _LEVELS or self.noise_shape is not None
                or keras.backend.backend() != "tensorflow"):  # a rate that rounds to 1 drops all, as Keras' does
            return super().call(inputs, training=training)
        import tensorflow as tf

        seed = tf.cast(tf.math.floormod(self.seed_generator.next(), tf.int32.max - 1), tf.int32)
        shape = tf.shape(inputs)
        channels = inputs.shape[-1]
        if channels is not None and channels % 2 == 0:  # half the last axis of uint32, viewed as pairs of uint16
            draws = tf.random.stateless_uniform(tf.concat([shape[:-1], [channels // 2]], 0), seed, minval=None,
                                                maxval=None, dtype=tf.uint32)
            bits = tf.reshape(tf.bitcast(draws, tf.uint16), shape)
        else:  # an odd or unknown last axis: draw for the flattened tensor, drop the spare 16 bits
            size = tf.size(inputs)
            draws = tf.random.stateless_uniform([(size + 1) // 2], seed, minval=None, maxval=None, dtype=tf.uint32)
            bits = tf.reshape(tf.reshape(tf.bitcast(draws, tf.uint16), [-1])[:size], shape)
        keep = tf.cast(bits >= threshold, inputs.dtype)
        return inputs * (keep * tf.constant(_LEVELS / (_LEVELS - threshold), inputs.dtype))
