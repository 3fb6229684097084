"""Tests for lit_tf.export.flops against hand-counted layers and the published ResNet-20 figure."""

import keras
import pytest

from lit_tf import models
from lit_tf.export.flops import count_flops


def test_a_convolution_counts_two_flops_a_multiply_add():
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, padding="same", use_bias=False)])
    assert count_flops(model) == 2 * (8 * 8 * 4) * (3 * 3 * 3)
    assert count_flops(model, batch_size=3) == 3 * count_flops(model)


def test_resnet20_is_about_41_million_multiply_adds():
    # He et al. 2016 / common counts: ResNet-20 on CIFAR is ~41 M multiply-adds.
    assert count_flops(models.get("resnet20")) / 2 == pytest.approx(41e6, rel=0.02)


def test_a_two_input_model_is_counted_whole():
    image, label = keras.Input((4,)), keras.Input((2,))
    joined = keras.layers.Concatenate()([image, label])
    model = keras.Model([image, label], keras.layers.Dense(3, use_bias=False)(joined))
    assert count_flops(model) == 2 * 6 * 3  # one 6x3 matmul, a multiply-add as two
