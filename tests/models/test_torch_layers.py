"""Tests for lit_tf.models.torch_layers: PyTorch's padding and BatchNorm arithmetic."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lit_tf.models import torch_layers


def _x(shape=(2, 8, 8, 3), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


@pytest.mark.parametrize("strides, groups", [(1, 1), (2, 1), (2, 3)])
def test_conv2d_pads_one_on_every_side_as_pytorch(strides, groups):
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, torch_layers.conv2d(inputs, 6, 3, strides, name="c", groups=groups))
    kernel = model.get_layer("c").kernel.numpy()
    x = _x()
    # PyTorch's padding=1: one zero row/column on every side, then a valid convolution.
    padded = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    expected = tf.nn.conv2d(padded, kernel, strides, "VALID") if groups == 1 else tf.concat(
        [tf.nn.conv2d(padded[..., g:g + 1], kernel[..., 2 * g:2 * g + 2], strides, "VALID") for g in range(3)], -1)
    np.testing.assert_allclose(model(x), expected, atol=1e-5)


def test_keras_same_padding_with_stride_two_is_not_pytorchs():
    conv = keras.layers.Conv2D(4, 3, strides=2, padding="same", use_bias=False)
    x = _x()
    y = conv(x)
    expected = tf.nn.conv2d(np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)]), conv.kernel.numpy(), 2, "VALID")
    assert np.max(np.abs(y - expected)) > 0.1  # why conv2d exists


def test_batch_norm_updates_with_the_unbiased_variance_and_normalises_with_the_biased():
    layer = torch_layers.TorchBatchNormalization()
    x = _x((4, 3, 3, 2)) * 2 + 1
    y = layer(x, training=True)
    n = 4 * 3 * 3
    mean, variance = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(layer.moving_mean, 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance, 0.9 + 0.1 * variance * n / (n - 1), rtol=1e-5)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(variance + 1e-5), atol=1e-4)
    np.testing.assert_allclose(layer(x, training=False),
                               (x - layer.moving_mean.numpy()) / np.sqrt(layer.moving_variance.numpy() + 1e-5),
                               atol=1e-4)


def test_batch_norm_saves_and_loads_with_pytorchs_defaults(tmp_path):
    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, torch_layers.TorchBatchNormalization(name="bn")(inputs))
    path = str(tmp_path / "bn.keras")
    model.save(path)
    layer = keras.saving.load_model(path).get_layer("bn")
    assert isinstance(layer, torch_layers.TorchBatchNormalization)
    assert (layer.momentum, layer.epsilon) == (0.9, 1e-5)


def test_batch_norm_gradient_in_training_is_the_one_autodiff_gives_and_its_output_the_same_to_the_bit():
    x = tf.constant(_x((8, 6, 6, 4)) * 3.0 + 1.0)
    upstream = tf.constant(_x((8, 6, 6, 4), seed=1))
    offset, scale = tf.constant([0.1, -0.2, 0.3, 0.0]), tf.constant([1.5, 0.5, 2.0, 1.0])

    def autodiff(x, offset, scale, epsilon):
        mean, variance = keras.ops.moments(x, [0, 1, 2])
        return keras.ops.batch_normalization(x, mean, variance, 3, offset, scale, epsilon), mean, variance

    results = []
    for normalize in (torch_layers.normalize_with_batch_moments, lambda x, axes, axis, *rest: autodiff(x, *rest)):
        with tf.GradientTape() as tape:
            tape.watch([x, offset, scale])
            outputs, mean, variance = normalize(x, [0, 1, 2], 3, offset, scale, 1e-5)
        results.append((outputs, mean, variance, *tape.gradient(outputs, [x, offset, scale], upstream)))
    closed_form, differentiated = results
    for value, expected in zip(closed_form[:3], differentiated[:3]):
        np.testing.assert_array_equal(value, expected)  # the forward pass is Keras' own
    for gradient, expected in zip(closed_form[3:], differentiated[3:]):
        np.testing.assert_allclose(gradient, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape, dtype", [((6, 5), "float32"), ((2, 4, 4, 3), "float64")])
def test_batch_norm_trains_on_what_the_fused_gradient_does_not_take(shape, dtype):
    bn = torch_layers.TorchBatchNormalization(dtype=dtype)
    x = tf.constant(_x(shape).astype(dtype))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(bn(x, training=True) - 1.0))
    gradients = tape.gradient(loss, bn.trainable_weights)
    assert all(g is not None and np.isfinite(np.asarray(g)).all() for g in gradients)
    np.testing.assert_allclose(bn.moving_mean, 0.1 * _x(shape).reshape(-1, shape[-1]).mean(0), rtol=1e-4, atol=1e-6)
