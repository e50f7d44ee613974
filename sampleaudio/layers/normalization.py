"""Batch normalisation with TensorFlow's fused kernel for the training pass.

Keras 3's ``BatchNormalization`` builds the training pass from generic ops (moments, then a scale and shift),
about ten passes over every activation forward and backward. Keras 2 used TensorFlow's single
``FusedBatchNormV3`` kernel instead; on the 2-core CPUs this project trains on, getting it back makes a
SampleCNN training step measurably faster (``benchmarks/throughput.py``, docs/performance.md). The layer below
is Keras' own layer with the same weights, names, config and inference pass; only the training pass of a
``[batch, time, channels]`` input on the TensorFlow backend runs the fused kernel, with the same arithmetic as
Keras':

- the batch statistics are the biased mean and variance over batch and time (the kernel returns the unbiased
  variance for the moving average; it is rescaled by ``(n - 1) / n``, so the moving statistics match Keras');
- ``moving = moving * momentum + batch * (1 - momentum)``, as Keras updates them.

Under ``tf.distribute`` the moving statistics are mean-aggregated variables (as tf.keras 2 made them), so an
update inside a replica averages the replicas' updates and every worker keeps the same statistics; Keras 3
leaves them unaggregated, and two workers then drift apart in everything the moving statistics decide
(validation loss, hence early stopping).

The fused kernel also takes float16 and bfloat16 input (statistics, scale and offset stay float32, as in Keras'
mixed-precision path): under ``mixed_bfloat16`` on an AVX-512 BF16 CPU it is 4x faster than Keras' generic
pass, which is what makes bfloat16 the CPU winner (``sampleaudio.cpu``). Anything else (other backends, other
ranks or axes, masks, renorm, synchronised BN) falls back to the parent's implementation.
"""

from __future__ import annotations

import keras

__all__ = ["BatchNormalization"]


@keras.saving.register_keras_serializable(package="sampleaudio")
class BatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` whose training pass on 3-D channels-last input is TF's fused kernel."""

    def add_weight(self, *args, **kwargs):
        if kwargs.get("name") in ("moving_mean", "moving_variance", "moving_stddev"):
            kwargs.setdefault("aggregation", "mean")
        return super().add_weight(*args, **kwargs)

    def _fusable(self, inputs, training, mask) -> bool:
        return (bool(training) and self.trainable and mask is None and keras.backend.backend() == "tensorflow"
                and len(inputs.shape) == 3 and self.axis in (-1, 2) and not self.renorm
                and not getattr(self, "synchronized", False)
                and keras.backend.standardize_dtype(inputs.dtype) in ("float32", "float16", "bfloat16"))

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        channels = inputs.shape[-1]
        gamma = tf.cast(self.gamma, tf.float32) if self.scale else tf.ones([channels], tf.float32)
        beta = tf.cast(self.beta, tf.float32) if self.center else tf.zeros([channels], tf.float32)
        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            tf.expand_dims(inputs, 1), gamma, beta, epsilon=self.epsilon, data_format="NHWC", is_training=True)
        n = tf.cast(tf.shape(inputs)[0] * tf.shape(inputs)[1], tf.float32)
        variance = variance * tf.maximum(n - 1.0, 0.0) / n  # the kernel's is unbiased; Keras' is biased
        momentum = self.momentum
        self.moving_mean.assign(tf.cast(self.moving_mean, tf.float32) * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(tf.cast(self.moving_variance, tf.float32) * momentum
                                    + variance * (1.0 - momentum))
        return tf.cast(tf.squeeze(outputs, 1), self.compute_dtype)
