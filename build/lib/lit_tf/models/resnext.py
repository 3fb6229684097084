"""CIFAR ResNeXts of depth 9n+2 (Xie et al. 2017), cut into LIT sections.

Bottleneck blocks (1x1 reduce, grouped 3x3 with `cardinality` groups, 1x1
expand) with projection shortcuts where the shape changes; three stages whose
widths double; stride-2 convolutions pad as PyTorch's. The paper's pair is ResNeXt-110 (n=12) -> ResNeXt-20 (n=2).
Boundaries are named as in `CifarResNet` (`stem`, `section_1..3`).

Example:

>>> from lit_tf.models import CifarResNeXt
>>> teacher, student = CifarResNeXt(depth=110), CifarResNeXt(depth=20)
>>> round(teacher.count_params() / student.count_params(), 1)
5.5
"""

import keras
from keras import layers

from lit_tf.models.resnet import batch_norm
from lit_tf.models.resnet import blocks_per_stage
from lit_tf.models.resnet import stem_and_head
from lit_tf.models.torch_layers import conv2d


def bottleneck_block(x, filters, width, cardinality, strides, name, synchronized_bn, output_name=None):
    """A ResNeXt block: `filters` out, `width` channels in the grouped convolution."""
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(
            filters, 1, strides=strides, use_bias=False, name=f"{name}_shortcut_conv"
        )(x)
        shortcut = batch_norm(f"{name}_shortcut_bn", synchronized_bn)(shortcut)
    y = x
    for i, (size, out, stride, groups) in enumerate(
        [(1, width, 1, 1), (3, width, strides, cardinality), (1, filters, 1, 1)], start=1
    ):
        y = conv2d(y, out, size, stride, f"{name}_conv{i}", groups=groups)
        y = batch_norm(f"{name}_bn{i}", synchronized_bn)(y)
        if i < 3:
            y = layers.ReLU(name=f"{name}_relu{i}")(y)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=output_name or f"{name}_out")(y)


@keras.saving.register_keras_serializable(package="lit_tf")
class CifarResNeXt(keras.Model):
    """A CIFAR ResNeXt of depth 9n+2 with LIT section boundaries.

    Args:
        depth: int, 9n+2 (20, 29, 110; 11 for tests).
        num_classes: int, the number of logits.
        image_shape: tuple of int, `(height, width, channels)`.
        filters: tuple of 3 ints, each stage's output width.
        cardinality: int, the groups of the 3x3 convolution.
        group_width: int, channels per group in the first stage (doubles per stage).
        stem_filters: int, the stem's width.
        synchronized_bn: bool, BatchNormalization synchronized across replicas.
    """

    def __init__(
        self,
        depth=20,
        num_classes=10,
        image_shape=(32, 32, 3),
        filters=(64, 128, 256),
        cardinality=8,
        group_width=4,
        stem_filters=64,
        synchronized_bn=False,
        name=None,
        **kwargs,
    ):
        # === Layers ===
        blocks = blocks_per_stage(depth, layers_per_block=3)

        def stage(index):
            width = cardinality * group_width * 2**index

            def build(x, section_name):
                for b in range(blocks):
                    x = bottleneck_block(
                        x, filters[index], width, cardinality,
                        2 if (b == 0 and index > 0) else 1,
                        f"{section_name}_block{b + 1}", synchronized_bn,
                        output_name=section_name if b == blocks - 1 else None,
                    )
                return x
            return build

        # === Functional model ===
        inputs, logits = stem_and_head(
            [stage(i) for i in range(3)], image_shape, num_classes, stem_filters, synchronized_bn
        )
        super().__init__(inputs, logits, name=name or f"resnext{depth}", **kwargs)

        # === Config ===
        self.depth = depth
        self.num_classes = num_classes
        self.image_shape = tuple(image_shape)
        self.filters = tuple(filters)
        self.cardinality = cardinality
        self.group_width = group_width
        self.stem_filters = stem_filters
        self.synchronized_bn = synchronized_bn
        self.boundaries = ["stem", "section_1", "section_2", "section_3"]

    def get_config(self):
        return {
            "depth": self.depth,
            "num_classes": self.num_classes,
            "image_shape": self.image_shape,
            "filters": self.filters,
            "cardinality": self.cardinality,
            "group_width": self.group_width,
            "stem_filters": self.stem_filters,
            "synchronized_bn": self.synchronized_bn,
            "name": self.name,
            "trainable": self.trainable,
        }
