"""CIFAR ResNets of depth 6n+2 (He et al. 2016), cut into LIT sections.

The layout follows the LIT reference code: a 3x3 stem (conv, BN, ReLU), three
stages of n basic blocks with 16/32/64 filters and parameter-free shortcuts
(subsample, then zero-pad the channels: "option A"), global average pooling
and a dense head giving logits. The stem's last layer is named `stem` and
stage k's last layer `section_k`, so any two depths are LIT-compatible.

Every layer computes what the PyTorch CIFAR ResNets compute (the reference's and
the common public ones): stride-2 convolutions pad 1 on every side, BatchNorm
keeps PyTorch's unbiased moving variance (`lit_tf.models.torch_layers`), so
`lit_tf.models.load_torch_weights` gives the same network.

Example:

>>> from lit_tf.models import CifarResNet
>>> model = CifarResNet(depth=20)
>>> model.boundaries
['stem', 'section_1', 'section_2', 'section_3']
>>> model.count_params()  # 0.27 M, as published
271098
"""

import keras
import numpy as np
from keras import layers

from lit_tf.models.torch_layers import TorchBatchNormalization
from lit_tf.models.torch_layers import conv2d


@keras.saving.register_keras_serializable(package="lit_tf")
class ZeroPadShortcut(layers.Layer):
    """The identity shortcut of a block that halves the grid and widens the channels."""

    def __init__(self, filters, strides=2, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.strides = strides

    def call(self, inputs, training=None):
        channels = inputs.shape[-1]
        extra = self.filters - channels
        if not training:  # inference (and FLOPs counting): the strided slice and the pad
            x = inputs[:, :: self.strides, :: self.strides, :]
            return keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [extra // 2, extra - extra // 2]])
        # Training: the same values as one 1x1 convolution of stride s whose kernel copies channel c
        # to channel c + extra // 2: exact (each output is one input times 1 plus zeros) and, with its
        # gradient, 2.5x faster on CPU than the slice and pad (whose gradient, StridedSliceGrad, is slow).
        kernel = np.zeros((1, 1, channels, self.filters), keras.backend.standardize_dtype(inputs.dtype))
        kernel[0, 0, np.arange(channels), np.arange(channels) + extra // 2] = 1
        return keras.ops.conv(inputs, kernel, strides=self.strides, padding="valid")

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        size = lambda n: None if n is None else -(-n // self.strides)  # noqa: E731
        return (batch, size(height), size(width), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides}


def batch_norm(name, synchronized):
    # PyTorch's BatchNorm2d, which the reference trains with.
    return TorchBatchNormalization(synchronized=synchronized, name=name)


def basic_block(x, filters, strides, name, synchronized_bn, output_name=None):
    """Two 3x3 convolutions with a residual shortcut; returns the block output."""
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = ZeroPadShortcut(filters, strides, name=f"{name}_shortcut")(x)
    y = conv2d(x, filters, 3, strides, f"{name}_conv1")
    y = layers.ReLU(name=f"{name}_relu1")(batch_norm(f"{name}_bn1", synchronized_bn)(y))
    y = conv2d(y, filters, 3, 1, f"{name}_conv2")
    y = batch_norm(f"{name}_bn2", synchronized_bn)(y)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=output_name or f"{name}_out")(y)


def blocks_per_stage(depth, layers_per_block=2):
    """n for a CIFAR ResNet of depth `3 * layers_per_block * n + 2`."""
    blocks, rest = divmod(depth - 2, 3 * layers_per_block)
    if depth < 2 + 3 * layers_per_block or rest:
        valid = [3 * layers_per_block * n + 2 for n in (1, 2, 3, 9, 18)]
        raise ValueError(
            f"depth must be {3 * layers_per_block}n+2 (e.g. {valid}). Received: depth={depth}"
        )
    return blocks


def stem_and_head(stages, image_shape, num_classes, stem_filters, synchronized_bn):
    """Builds stem -> `stages` (each `x -> x`, named section_k) -> pooled dense logits."""
    inputs = keras.Input(image_shape, name="image")
    x = conv2d(inputs, stem_filters, 3, 1, "stem_conv")
    x = layers.ReLU(name="stem")(batch_norm("stem_bn", synchronized_bn)(x))
    for k, stage in enumerate(stages, start=1):
        x = stage(x, f"section_{k}")
    x = layers.GlobalAveragePooling2D(name="head_pool")(x)
    return inputs, layers.Dense(num_classes, name="head")(x)


@keras.saving.register_keras_serializable(package="lit_tf")
class CifarResNet(keras.Model):
    """A CIFAR ResNet of depth 6n+2 with LIT section boundaries.

    Args:
        depth: int, 6n+2 (20, 32, 44, 56, 110, ...; 8 and 14 for tests).
        num_classes: int, the number of logits.
        image_shape: tuple of int, `(height, width, channels)`.
        filters: tuple of 3 ints, the widths of the three stages.
        synchronized_bn: bool, BatchNormalization synchronized across replicas.
    """

    def __init__(
        self,
        depth=20,
        num_classes=10,
        image_shape=(32, 32, 3),
        filters=(16, 32, 64),
        synchronized_bn=False,
        name=None,
        **kwargs,
    ):
        # === Layers ===
        blocks = blocks_per_stage(depth)

        def stage(index):
            def build(x, section_name):
                for b in range(blocks):
                    x = basic_block(
                        x, filters[index], 2 if (b == 0 and index > 0) else 1,
                        f"{section_name}_block{b + 1}", synchronized_bn,
                        output_name=section_name if b == blocks - 1 else None,
                    )
                return x
            return build

        # === Functional model ===
        inputs, logits = stem_and_head(
            [stage(i) for i in range(3)], image_shape, num_classes,
            filters[0], synchronized_bn,
        )
        super().__init__(inputs, logits, name=name or f"resnet{depth}", **kwargs)

        # === Config ===
        self.depth = depth
        self.num_classes = num_classes
        self.image_shape = tuple(image_shape)
        self.filters = tuple(filters)
        self.synchronized_bn = synchronized_bn
        self.boundaries = ["stem", "section_1", "section_2", "section_3"]

    def get_config(self):
        return {
            "depth": self.depth,
            "num_classes": self.num_classes,
            "image_shape": self.image_shape,
            "filters": self.filters,
            "synchronized_bn": self.synchronized_bn,
            "name": self.name,
            "trainable": self.trainable,
        }
