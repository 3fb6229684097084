"""Layers that compute what their PyTorch counterparts do, for models that load PyTorch weights.

- `conv2d`: a convolution padded as PyTorch's `padding=k // 2`, on every side. Keras
  `padding="same"` with stride 2 on an even grid pads only the bottom and right, so its
  windows sit one pixel off PyTorch's: identical weights give another function.
- `TorchBatchNormalization`: `BatchNorm2d`'s defaults (momentum 0.1, i.e. Keras 0.9; eps
  1e-5) and its moving variance, which PyTorch updates with the *unbiased* batch variance
  (times n / (n - 1)) while normalising with the biased one. Its training pass computes
  Keras' (and PyTorch's) `x·a + b`, its gradient from TensorFlow's fused BatchNorm gradient
  kernel in place of differentiating the moments op by op (see `normalize_with_batch_moments`).

Example:

>>> import keras, numpy as np
>>> from lit_tf.models import torch_layers
>>> inputs = keras.Input((8, 8, 3))
>>> outputs = torch_layers.conv2d(inputs, 4, 3, strides=2, name="down")
>>> tuple(outputs.shape)
(None, 4, 4, 4)
>>> bn = torch_layers.TorchBatchNormalization()
>>> x = np.random.default_rng(0).normal(size=(2, 3, 3, 1)).astype("float32")
>>> _ = bn(x, training=True)
>>> expected = 0.9 + 0.1 * x.var(ddof=1)  # unbiased, as PyTorch
>>> bool(np.isclose(float(bn.moving_variance[0]), expected, rtol=1e-5))
True
"""

import keras
from keras import layers


def conv2d(x, filters, kernel_size, strides=1, name=None, groups=1, use_bias=False):
    """`Conv2D` on `x` padded `kernel_size // 2` on every side, as PyTorch's `padding=k // 2`.

    Stride 1 keeps Keras' `"same"` (the same arithmetic for odd kernels); a larger stride
    pads explicitly with a `ZeroPadding2D` named `<name>_pad`, then convolves `"valid"`.
    """
    padding = "same"
    if strides != 1 and kernel_size > 1:
        x = layers.ZeroPadding2D(kernel_size // 2, name=name and f"{name}_pad")(x)
        padding = "valid"
    return layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, groups=groups, use_bias=use_bias,
        kernel_initializer="he_normal", name=name,
    )(x)


@keras.saving.register_keras_serializable(package="lit_tf")
class TorchBatchNormalization(layers.BatchNormalization):
    """`BatchNormalization` with PyTorch `BatchNorm2d`'s defaults and unbiased moving variance.

    In training, the output is normalised with the batch's biased variance (as both
    frameworks do) and `moving_variance` moves towards the unbiased one, `n / (n - 1)`
    times larger, n being the values per channel in the batch (per replica under a
    synchronized strategy). Inference is unchanged. Other options as `BatchNormalization`.
    """

    def __init__(self, momentum=0.9, epsilon=1e-5, **kwargs):
        super().__init__(momentum=momentum, epsilon=epsilon, **kwargs)

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable) or mask is not None or self.renorm:
            return super().call(inputs, training=training, mask=mask)
        inputs = keras.ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        offset = keras.ops.cast(self.beta, inputs.dtype) if self.center else None
        scale = keras.ops.cast(self.gamma, inputs.dtype) if self.scale else None
        if self.synchronized:  # the moments span the replicas: let autodiff differentiate them
            mean, variance = self._moments(inputs, None)
            outputs = keras.ops.batch_normalization(inputs, mean, variance, self.axis, offset, scale, self.epsilon)
        else:
            outputs, mean, variance = normalize_with_batch_moments(
                inputs, self._reduction_axes, self.axis, offset, scale, self.epsilon)
        count = keras.ops.cast(keras.ops.size(inputs), inputs.dtype) / inputs.shape[self.axis]
        unbiased = variance * count / keras.ops.maximum(count - 1.0, 1.0)
        momentum = self.momentum
        self.moving_mean.assign(
            keras.ops.cast(self.moving_mean, inputs.dtype) * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(
            keras.ops.cast(self.moving_variance, inputs.dtype) * momentum + unbiased * (1.0 - momentum))
        return keras.ops.cast(outputs, self.compute_dtype)


def normalize_with_batch_moments(x, reduction_axes, axis, offset, scale, epsilon):
    """`(batch normalization of x, its mean, its biased variance)`, with a fused gradient.

    The forward pass is Keras' `ops.moments` and `ops.batch_normalization` (`x·a + b` per
    channel, as PyTorch's `BatchNorm2d` computes it, so the same values to the last bit). The
    gradient, `dx = a·(dy − mean(dy) − x̂·mean(dy·x̂))` and those of the scale and offset, comes
    from TensorFlow's `FusedBatchNormGradV3` in one op, where differentiating the moments takes a
    dozen element-wise ones; the moments get no gradient (they are statistics for the moving
    averages). Elsewhere (another backend, a batch that is not float32 NHWC, `offset` or `scale`
    of `None`) autodiff differentiates the pass.

    >>> import numpy as np, keras
    >>> x = keras.ops.convert_to_tensor(np.random.default_rng(0).normal(size=(4, 3, 3, 2)), "float32")
    >>> y, mean, variance = normalize_with_batch_moments(x, [0, 1, 2], -1, keras.ops.zeros(2), keras.ops.ones(2), 1e-5)
    >>> bool(np.allclose(keras.ops.mean(y, axis=(0, 1, 2)), 0.0, atol=1e-6))
    True
    """
    def forward(x, offset, scale):
        mean, variance = keras.ops.moments(x, reduction_axes)
        return keras.ops.batch_normalization(x, mean, variance, axis, offset, scale, epsilon), mean, variance

    if (keras.backend.backend() != "tensorflow" or offset is None or scale is None or len(x.shape) != 4
            or axis not in (-1, 3) or keras.backend.standardize_dtype(x.dtype) != "float32"):
        return forward(x, offset, scale)
    import tensorflow as tf

    @tf.custom_gradient
    def normalize(x, offset, scale):
        outputs, mean, variance = forward(x, offset, scale)

        def gradient(d_outputs, d_mean, d_variance):
            del d_mean, d_variance  # statistics only
            d_x, d_scale, d_offset, *_ = tf.raw_ops.FusedBatchNormGradV3(
                y_backprop=d_outputs, x=x, scale=scale, reserve_space_1=mean, reserve_space_2=variance,
                reserve_space_3=tf.zeros((0,), x.dtype), epsilon=epsilon, data_format="NHWC", is_training=True)
            return d_x, d_offset, d_scale

        return (outputs, mean, variance), gradient

    return normalize(x, offset, scale)
