"""Tests for lit_tf.distillation.baselines: the scratch, KD and FitNets rows of the comparison."""

import keras
import numpy as np
import pytest

from lit_tf import settings
from lit_tf.distillation import baselines
from tests import test_case

STAGE = settings.Schedule(epochs=4, learning_rate=0.05)
ONE_EPOCH = settings.Schedule(epochs=1, learning_rate=0.01)


class _Snapshots(keras.callbacks.Callback):
    """The student's weights at the end of each `fit` (one per stage)."""

    def __init__(self, student):
        super().__init__()
        self.student, self.after_fit = student, []

    def on_train_end(self, logs=None):
        self.after_fit.append({w.path: np.array(w) for w in self.student.weights})


def _hint_error(teacher, student, x):
    hint = keras.Model(teacher.input, teacher.get_layer("section_1").output)(x, training=False)
    guided = keras.Model(student.input, student.get_layer("section_1").output)(x, training=False)
    return float(np.mean((np.asarray(hint) - np.asarray(guided)) ** 2))


def test_fitnets_stage_one_fits_the_hint_and_leaves_the_layers_after_it_alone():
    x, y = test_case.tiny_data(32)
    teacher = test_case.tiny_classifier(2, name="teacher")
    student = test_case.tiny_classifier(1, name="student")
    before = {w.path: np.array(w) for w in student.weights}
    error_before = _hint_error(teacher, student, x)
    snapshots = _Snapshots(student)
    hints, _ = baselines.fitnets(teacher, student, "section_1", (x, y), stage1=STAGE, stage2=ONE_EPOCH,
                                 batch_size=8, verbose=0, callbacks=[snapshots])
    after_hints = snapshots.after_fit[0]
    assert hints.history["loss"][-1] < hints.history["loss"][0]
    assert sorted(hints.history) == ["learning_rate", "loss"]  # the hint MSE; no student_loss 0, no accuracy
    after_hint_layer = [w.path for w in student.weights if w.path.split("/")[0].startswith(("s2_", "head"))]
    assert after_hint_layer
    for path in after_hint_layer:
        np.testing.assert_array_equal(after_hints[path], before[path], err_msg=path)
    assert not np.array_equal(after_hints["s1_b0_conv/kernel"], before["s1_b0_conv/kernel"])
    assert all(layer.trainable for layer in student.layers)  # stage 2 trains them all again
    assert _hint_error(teacher, student, x) < error_before


def test_fitnets_refuses_hint_layers_of_different_shapes():
    teacher, student = test_case.tiny_classifier(2), test_case.tiny_classifier(1)
    x, y = test_case.tiny_data(8)
    with pytest.raises(ValueError, match="gives shape \\(16, 16, 8\\) in the teacher but 'section_2' gives "
                                         "\\(8, 8, 8\\).*same shape"):
        baselines.fitnets(teacher, student, "section_1", (x, y), student_hint_layer="section_2",
                          stage1=ONE_EPOCH, stage2=ONE_EPOCH, verbose=0)


def test_kd_runs_both_schedules_and_lowers_the_loss():
    x, y = test_case.tiny_data(32)
    teacher, student = test_case.tiny_classifier(2), test_case.tiny_classifier(1)
    first, second = baselines.distill_kd(teacher, student, (x, y), (x, y), stage1=STAGE, stage2=ONE_EPOCH,
                                         batch_size=8, verbose=0)
    assert first.history["learning_rate"] == pytest.approx([0.05] * 4)
    assert second.history["learning_rate"] == pytest.approx([0.01])
    assert first.history["loss"][-1] < first.history["loss"][0]


def test_supervised_training_decays_the_weights_in_its_optimizer():
    x, y = test_case.tiny_data(8)
    model = test_case.tiny_classifier(1)
    initial = [np.array(w) for w in model.trainable_weights]
    baselines.train_supervised(model, (x, y), epochs=1, learning_rate=0.1, momentum=0.0, weight_decay=0.5,
                               batch_size=8, verbose=0)
    assert model.optimizer.coupled_weight_decay == 0.5

    undecayed = test_case.tiny_classifier(1)
    undecayed.set_weights([np.array(w) for w in model.weights])
    for variable, value in zip(undecayed.trainable_weights, initial):
        variable.assign(value)
    undecayed.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    undecayed.train_on_batch(x, y)
    # One plain SGD step without momentum: the decayed step is the plain one less lr * wd * w.
    for decayed, plain, before in zip(model.trainable_weights, undecayed.trainable_weights, initial):
        np.testing.assert_allclose(np.array(decayed), np.array(plain) - 0.1 * 0.5 * before, rtol=1e-5, atol=1e-6)
