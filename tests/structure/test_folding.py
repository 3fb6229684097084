"""Tests for lit_tf.structure.folding: a frozen model's BatchNorms folded into its convolutions, and KD's use of it."""

import keras
import numpy as np

from lit_tf import KDDistiller
from lit_tf.models import CifarResNet
from lit_tf.structure import folding
from tests import test_case

TINY = dict(image_shape=(16, 16, 3), filters=(8, 8, 8), num_classes=4)


def _with_statistics(model, x):
    for _ in range(3):  # moving statistics away from their initial 0 and 1
        model(x, training=True)
    return model


def test_a_cifar_resnet_folds_every_batch_norm_and_gives_its_logits_to_float32_rounding():
    x = np.random.default_rng(0).normal(size=(8, 16, 16, 3)).astype("float32")
    model = _with_statistics(CifarResNet(depth=8, **TINY), x)
    folded = folding.fold_batch_norm(model)
    assert not [layer for layer in folded.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert folded.get_layer(model.layers[-1].name) is model.layers[-1]  # unfolded layers are the model's own
    expected = np.asarray(model(x, training=False))
    np.testing.assert_allclose(folded(x), expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_a_convolution_with_an_activation_or_a_second_consumer_is_left_alone():
    inputs = keras.Input((8, 8, 3))
    activated = keras.layers.Conv2D(4, 3, activation="relu", name="activated")(inputs)
    x = keras.layers.BatchNormalization(name="after_activation")(activated)
    shared = keras.layers.Conv2D(4, 3, padding="same", name="shared")(x)
    x = keras.layers.Add()([keras.layers.BatchNormalization(name="after_shared")(shared), shared])
    model = keras.Model(inputs, x)
    assert folding.fold_batch_norm(model) is model


def test_kd_takes_the_teachers_logits_from_its_folded_copy_and_leaves_the_teacher_as_it_was():
    x, y = test_case.tiny_data(8, image_size=8, num_classes=2)
    teacher = _with_statistics(CifarResNet(depth=8, image_shape=(8, 8, 3), filters=(8, 8, 8), num_classes=2), x)
    student = CifarResNet(depth=8, image_shape=(8, 8, 3), filters=(8, 8, 8), num_classes=2)
    distiller = KDDistiller(teacher, student)
    distiller.compile("sgd")
    folded = distiller.teacher_for_logits()
    assert distiller.teacher is teacher and folded is not teacher
    assert not [layer for layer in folded.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert not folded.trainable_weights and len(distiller.weights) == len(teacher.weights) + len(student.weights)
    features = distiller._extract_all_teacher_features(x)["final_output"]
    np.testing.assert_allclose(features, teacher(x, training=False), rtol=1e-5, atol=1e-5)


def test_a_teacher_without_a_layer_graph_runs_as_it_is():
    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(4)

        def call(self, inputs):
            return self.dense(keras.ops.reshape(inputs, (keras.ops.shape(inputs)[0], -1)))

    x, y = test_case.tiny_data(4)
    teacher = Subclassed()
    teacher(x)
    distiller = KDDistiller(teacher, test_case.tiny_classifier(1))
    distiller.compile("sgd")
    assert distiller.teacher_for_logits() is teacher


def test_the_folded_model_follows_the_models_weights_and_holds_none_of_its_own():
    x = np.random.default_rng(0).normal(size=(4, 16, 16, 3)).astype("float32")
    model = _with_statistics(CifarResNet(depth=8, **TINY), x)
    folded = folding.fold_batch_norm(model)
    assert {id(w) for w in folded.weights} <= {id(w) for w in model.weights}
    model.set_weights([w * 1.5 for w in model.get_weights()])  # as a loaded checkpoint would
    expected = np.asarray(model(x, training=False))
    np.testing.assert_allclose(folded(x), expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
