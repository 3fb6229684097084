"""FLOPs of a Keras model's inference, counted from its TensorFlow graph.

A multiply-add counts as two FLOPs (the TF profiler's convention), so the
CIFAR ResNet-20 is about 81 M FLOPs (41 M multiply-adds) for one 32x32 image.

Example:

>>> import keras
>>> from lit_tf.export.flops import count_flops
>>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, use_bias=False)])
>>> count_flops(model)
64
"""

import tensorflow as tf

from lit_tf import _compat
from lit_tf import quiet


def count_flops(model, batch_size=1):
    """Returns the floating-point operations of `model(x, training=False)` on one batch.

    Args:
        model: `keras.Model` with known input shapes (one input or several).
        batch_size: int, images per call.
    """
    with quiet.filtered_stderr():  # grappler's session lines while the variables are frozen
        return _count_flops(model, batch_size)


def _count_flops(model, batch_size):
    specs = [tf.TensorSpec((batch_size, *tensor.shape[1:]), tf.float32) for tensor in model.inputs]
    if len(specs) == 1:
        function = tf.function(lambda x: model(x, training=False)).get_concrete_function(specs[0])
    else:
        function = tf.function(lambda *xs: model(list(xs), training=False)).get_concrete_function(*specs)
    return _compat.frozen_graph_float_operations(function)
