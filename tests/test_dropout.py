"""sampleaudio.layers.dropout.Dropout: Keras' Dropout with 16 random bits per element on TensorFlow."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from sampleaudio.layers.dropout import Dropout

APPLIED = 13107 / 65536  # round(0.2 * 65536) / 65536


def _draw(layer, x):
    return keras.ops.convert_to_numpy(layer(x, training=True))


def test_inference_and_rate_zero_pass_the_input_through():
    x = np.random.default_rng(0).normal(size=(2, 9, 4)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(Dropout(0.2, seed=1)(x, training=False)), x)
    np.testing.assert_array_equal(_draw(Dropout(0.0, seed=1), x), x)


@pytest.mark.parametrize("shape", [(8, 3000, 16), (8, 3001, 7)])  # even last axis (pairs), odd (flattened)
def test_drops_the_rate_and_scales_the_rest_so_the_mean_is_kept(shape):
    x = np.ones(shape, "float32")
    y = _draw(Dropout(0.2, seed=3), x)
    dropped = (y == 0).mean()
    sigma = np.sqrt(APPLIED * (1 - APPLIED) / y.size)
    assert abs(dropped - APPLIED) < 5 * sigma, dropped
    np.testing.assert_allclose(np.unique(y[y != 0]), [65536 / (65536 - 13107)], rtol=1e-7)
    assert abs(y.mean() - 1.0) < 5 * sigma / (1 - APPLIED)
    # both 16-bit halves of every 32-bit draw are used, and independently
    flat = (y.reshape(-1)[: y.size // 2 * 2] == 0).reshape(-1, 2)
    assert abs(flat[:, 0].mean() - APPLIED) < 6 * sigma and abs(flat[:, 1].mean() - APPLIED) < 6 * sigma
    both = (flat[:, 0] & flat[:, 1]).mean()
    assert abs(both - APPLIED ** 2) < 6 * np.sqrt(APPLIED ** 2 / flat.shape[0]), both


def test_seeded_masks_repeat_and_successive_calls_differ():
    x = np.ones((4, 100, 8), "float32")
    a, b = Dropout(0.2, seed=7), Dropout(0.2, seed=7)
    first = _draw(a, x)
    np.testing.assert_array_equal(first, _draw(b, x))
    assert (first != _draw(a, x)).any()
    assert (first != _draw(Dropout(0.2, seed=8), x)).any()


def test_gradient_is_the_mask_and_bfloat16_stays_bfloat16():
    layer = Dropout(0.5, seed=2)
    x = tf.constant(np.random.default_rng(1).uniform(1, 2, size=(3, 50, 6)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        total = tf.reduce_sum(y)
    grad = tape.gradient(total, x).numpy()
    np.testing.assert_allclose(grad, y.numpy() / x.numpy(), rtol=1e-6)
    assert set(np.unique(grad)) <= {0.0, np.float32(65536 / 32768)}
    y16 = Dropout(0.5, seed=2, dtype="mixed_bfloat16")(tf.cast(x, tf.bfloat16), training=True)
    assert y16.dtype == tf.bfloat16


def test_unknown_last_axis_in_a_traced_function():
    layer = Dropout(0.2, seed=4)
    traced = tf.function(lambda t: layer(t, training=True),
                         input_signature=[tf.TensorSpec([None, None, None], tf.float32)])
    y = traced(tf.ones((5, 300, 3))).numpy()
    assert y.shape == (5, 300, 3) and 0.15 < (y == 0).mean() < 0.25


def test_rate_one_drops_everything_as_keras_does():
    y = _draw(Dropout(1.0, seed=1), np.ones((4, 100000, 2), "float32"))  # 16 bits would keep ~12 at 65536x
    assert not y.any()


def test_noise_shape_falls_back_to_keras():
    x = np.ones((4, 50, 6), "float32")
    y = _draw(Dropout(0.5, noise_shape=(None, 1, 6), seed=5), x)
    assert (y == y[:, :1, :]).all()  # one mask per example and channel, broadcast over time


def test_saves_and_loads_as_itself(tmp_path):
    inputs = keras.Input((10, 4))
    model = keras.Model(inputs, Dropout(0.2, seed=9, name="block2_drop0")(inputs))
    path = str(tmp_path / "m.keras")
    model.save(path)
    layer = keras.saving.load_model(path).get_layer("block2_drop0")
    assert type(layer) is Dropout and layer.get_config()["rate"] == 0.2


def test_a_restored_generator_state_draws_the_same_masks():
    """What a resumed training relies on (``train._restore_generators``): the masks follow the layer's
    ``seed_generator`` state, which the trainer records with each committed epoch."""
    x = np.ones((2, 40, 6), "float32")
    first = Dropout(0.3, seed=11)
    _draw(first, x)
    state = keras.ops.convert_to_numpy(first.seed_generator.state)
    expected = _draw(first, x)
    other = Dropout(0.3, seed=12)
    other.seed_generator.state.assign(state)
    np.testing.assert_array_equal(_draw(other, x), expected)
