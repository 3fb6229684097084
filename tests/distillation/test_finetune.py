"""Tests for lit_tf.distillation.finetune.KDDistiller."""

import keras
import numpy as np
import pytest

from lit_tf import KDDistiller
from lit_tf.distillation import losses
from lit_tf.models import CifarResNet
from tests import test_case


def test_loss_is_the_reference_kd_plus_coupled_weight_decay():
    x, y = test_case.tiny_data(8)
    teacher = test_case.tiny_classifier(2)
    student = test_case.tiny_classifier(1)
    distiller = KDDistiller(teacher, student, temperature=4.0, alpha=0.7, weight_decay=1e-3)
    distiller.compile("sgd")
    s, t = student(x, training=True), teacher(x)
    expected = losses.KDLoss(4.0, 0.7)(y, t, s) + losses.l2_penalty(student.trainable_weights, 1e-3)
    actual = distiller.compute_loss(x, y, s, training=True)
    assert float(actual) == pytest.approx(float(expected), rel=1e-5)


def test_trains_every_student_weight_and_no_teacher_weight():
    x, y = test_case.tiny_data(16)
    teacher = test_case.tiny_classifier(2)
    student = test_case.tiny_classifier(1)
    teacher_before = [np.array(w) for w in teacher.weights]
    kernels = [w for w in student.trainable_weights if w.path.endswith("kernel")]
    kernels_before = [np.array(w) for w in kernels]
    distiller = KDDistiller(teacher, student)
    distiller.compile(keras.optimizers.SGD(0.1), metrics=["accuracy"])
    distiller.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert all(not np.allclose(a, b) for a, b in zip(kernels_before, kernels))  # stem and head too
    for a, b in zip(teacher_before, teacher.weights):
        np.testing.assert_array_equal(a, b)


def test_a_teacher_reloaded_from_a_frozen_save_stays_frozen(tmp_path):
    # Keras 3.15 reloads a frozen model class with trainable layers; see lit_tf.structure.trainability.freeze.
    x, y = test_case.tiny_data(16)
    tiny = dict(image_shape=(16, 16, 3), filters=(8, 8, 8), num_classes=4)
    teacher = CifarResNet(depth=8, **tiny)
    teacher.trainable = False
    teacher.save(tmp_path / "teacher.keras")
    teacher = keras.saving.load_model(tmp_path / "teacher.keras")
    teacher_before = [np.array(w) for w in teacher.weights]
    distiller = KDDistiller(teacher, CifarResNet(depth=8, **tiny), weight_decay=1e-2)
    distiller.compile(keras.optimizers.SGD(0.1))
    distiller.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for a, b in zip(teacher_before, teacher.weights):
        np.testing.assert_array_equal(a, b)


def test_kd_distiller_round_trips_its_config_and_a_keras_file(tmp_path):
    from tests import test_case

    x, y = test_case.tiny_data(16)
    distiller = KDDistiller(test_case.tiny_classifier(2), test_case.tiny_classifier(1), temperature=3.0, alpha=0.7,
                            weight_decay=1e-3)
    distiller.compile(keras.optimizers.SGD(0.1), metrics=["accuracy"])
    distiller.fit(x, y, epochs=1, batch_size=8, verbose=0)
    clone = test_case.assert_config_round_trip(distiller)
    assert (clone.temperature, clone.alpha, clone.weight_decay) == (3.0, 0.7, 1e-3)
    test_case.assert_saved_model_round_trip(distiller, x, y, str(tmp_path / "kd.keras"))


def test_both_stages_log_kd_loss_with_one_meaning():
    from lit_tf import LITDistiller
    from tests import test_case

    x, y = test_case.tiny_data(16)
    teacher, student = test_case.tiny_classifier(2), test_case.tiny_classifier(1)
    kd_logs = KDDistiller(teacher, student, temperature=4.0, alpha=0.5)
    kd_logs.compile(keras.optimizers.SGD(0.1))
    kd_logs = kd_logs.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    lit = LITDistiller(teacher, student, test_case.BOUNDARIES, temperature=4.0, alpha=0.5)
    lit.compile(keras.optimizers.SGD(0.1))
    lit_logs = lit.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    expected = float(losses.KDLoss(4.0, 0.5)(y, teacher(x, training=False), student(x, training=False)))
    assert sorted(kd_logs) == ["kd_loss", "loss"]
    assert kd_logs["kd_loss"] == pytest.approx(expected, rel=1e-5) == lit_logs["kd_loss"]


def test_a_reloaded_kd_distiller_keeps_its_loss_dtype_and_trainable(tmp_path):
    from tests import test_case

    distiller = KDDistiller(test_case.tiny_classifier(2), test_case.tiny_classifier(1), dtype="float64",
                            trainable=False)
    distiller.compile(keras.optimizers.SGD(0.1), loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=3))
    path = str(tmp_path / "kd.keras")
    distiller.save(path)
    clone = keras.saving.load_model(path)
    assert (clone.dtype_policy.name, clone.trainable) == ("float64", False)
    assert clone._student_loss_for_serialization.ignore_class == 3  # Distiller keeps no public name for it


def test_the_distillers_weight_decay_goes_to_the_optimizer_and_only_the_logged_loss_sees_its_l2_term():
    x, y = test_case.tiny_data(8)
    distiller = KDDistiller(test_case.tiny_classifier(2), test_case.tiny_classifier(1), weight_decay=1e-3)
    distiller.compile(keras.optimizers.SGD(0.1, momentum=0.9))
    assert (type(distiller.optimizer).__name__, distiller.optimizer.coupled_weight_decay) == ("CoupledSGD", 1e-3)
    import tensorflow as tf

    with tf.GradientTape() as tape:
        logits = distiller.student(x, training=True)
        logged = distiller.compute_loss(x, y, logits, training=True)
        undecayed = distiller.compute_loss(x, y, logits, training=False)
    assert float(logged - undecayed) == pytest.approx(
        float(losses.l2_penalty(distiller.trainable_weights, 1e-3)), rel=1e-4)
    assert float(logged - undecayed) > 0
    gradients = tape.gradient(logged - undecayed, distiller.trainable_weights)  # the optimizer's alone
    assert all(g is None or float(tf.reduce_max(tf.abs(g))) < 1e-7 for g in gradients)
    with pytest.raises(ValueError, match="KDDistiller has weight_decay=0.001.*Adam cannot apply"):
        KDDistiller(test_case.tiny_classifier(2), test_case.tiny_classifier(1), weight_decay=1e-3).compile(
            keras.optimizers.Adam())
