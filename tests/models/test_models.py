"""Tests for lit_tf.models: published sizes, LIT compatibility, config, save/load."""

import os
import tempfile

import keras
import numpy as np
import pytest
from absl.testing import parameterized

from lit_tf import LITDistiller
from lit_tf import models
from lit_tf.structure import sections
from tests import test_case


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize("arch, params", [("resnet20", 269_722), ("resnet32", 464_154), ("resnet110", 1_727_962)])
def test_resnet_parameter_counts_match_the_published_ones(arch, params):
    assert _trainable(models.get(arch)) == params  # 0.27 M, 0.46 M, 1.7 M (He et al. 2016)


def test_resnext_pair_compresses_as_in_the_paper():
    ratio = models.get("resnext110").count_params() / models.get("resnext20").count_params()
    assert ratio == pytest.approx(5.5, abs=0.1)


class ModelFamilyTest(parameterized.TestCase):
    def setUp(self):
        self.init_kwargs = {"image_shape": (16, 16, 3), "num_classes": 4}

    @parameterized.named_parameters(
        ("resnet", models.CifarResNet, 14, 8, {"filters": (8, 16, 16)}),
        ("resnext", models.CifarResNeXt, 20, 11,
         {"filters": (16, 16, 32), "cardinality": 2, "group_width": 4, "stem_filters": 8}),
    )
    def test_family(self, cls, teacher_depth, student_depth, extra):
        kwargs = {**self.init_kwargs, **extra}
        teacher, student = cls(depth=teacher_depth, **kwargs), cls(depth=student_depth, **kwargs)
        sections.check_compatible(teacher, student, teacher.boundaries, student.boundaries)
        shapes = [tuple(t.shape[1:]) for t in sections.boundary_tensors(student, student.boundaries)]
        self.assertEqual(shapes, [(16, 16, 8 if cls is models.CifarResNet else 8), (16, 16, extra["filters"][0]),
                                  (8, 8, extra["filters"][1]), (4, 4, extra["filters"][2])])
        test_case.assert_config_round_trip(student)

        x, y = test_case.tiny_data(8)
        distiller = LITDistiller(teacher, student, teacher.boundaries)
        distiller.compile("sgd")
        logs = distiller.fit(x, y, batch_size=4, epochs=1, verbose=0).history
        self.assertTrue(np.isfinite(logs["loss"][0]))

    def test_save_and_load_keeps_outputs(self):
        model = models.CifarResNet(depth=8, filters=(8, 8, 8), **self.init_kwargs)
        path = os.path.join(tempfile.mkdtemp(), "resnet8.keras")
        model.save(path)
        x, _ = test_case.tiny_data(2)
        np.testing.assert_allclose(keras.models.load_model(path)(x), model(x), atol=1e-6)


@pytest.mark.parametrize("arch, message", [
    ("resnet21", "depth must be 6n\\+2"),
    ("vgg16", "Unknown architecture 'vgg16'"),
])
def test_bad_architectures_say_what_is_valid(arch, message):
    with pytest.raises(ValueError, match=message):
        models.get(arch)


@pytest.mark.parametrize("shape, filters", [((2, 8, 8, 4), 8), ((2, 7, 7, 3), 8)])
def test_the_zero_pad_shortcut_is_a_strided_slice_and_a_channel_pad_to_the_bit_with_its_gradient(shape, filters):
    import tensorflow as tf

    from lit_tf.models.resnet import ZeroPadShortcut

    x = tf.constant(np.random.default_rng(0).normal(size=shape).astype("float32"))
    extra = filters - shape[-1]
    upstream = tf.constant(np.random.default_rng(1).normal(size=(shape[0], 4, 4, filters)).astype("float32"))

    # In a tf.function, as training runs it: there the constant kernel's gradient is pruned. Eagerly, TF 2.21's
    # oneDNN Conv2DBackpropFilter corrupts the heap for a 4 -> 8 channel 1x1 stride-2 kernel on one thread
    # (AVX2; reproduced with tf.nn.conv2d alone), which this test does not need to compute.
    @tf.function
    def values_and_gradients(x):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            ours = ZeroPadShortcut(filters)(x, training=True)
            inference = ZeroPadShortcut(filters)(x)
            expected = tf.pad(x[:, ::2, ::2, :], [[0, 0], [0, 0], [0, 0], [extra // 2, extra - extra // 2]])
        return ours, inference, expected, tape.gradient(ours, x, upstream), tape.gradient(expected, x, upstream)

    ours, inference, expected, gradient, expected_gradient = values_and_gradients(x)
    np.testing.assert_array_equal(ours, expected)
    np.testing.assert_array_equal(inference, expected)
    np.testing.assert_array_equal(gradient, expected_gradient)
