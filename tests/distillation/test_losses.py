"""Tests for lit_tf.distillation.losses, against the LIT reference formulas written in numpy."""

import numpy as np
import tensorflow as tf
from absl.testing import parameterized
from scipy.special import log_softmax
from scipy.special import softmax

from lit_tf.distillation import losses


def reference_kd(labels, teacher_logits, student_logits, temperature, alpha):
    """The reference's AlphaDistillationLoss: soft term as a cross-entropy."""
    hard = -log_softmax(student_logits, axis=1)[np.arange(len(labels)), labels]
    soft_targets = softmax(teacher_logits / temperature, axis=1)
    soft = -(soft_targets * log_softmax(student_logits / temperature, axis=1)).sum(1)
    return np.mean(alpha * hard + (1 - alpha) * temperature**2 * soft)


def teacher_entropy(teacher_logits, temperature):
    p = softmax(teacher_logits / temperature, axis=1)
    return np.mean(-(p * np.log(p)).sum(1))


class KDLossTest(parameterized.TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        self.labels = rng.integers(0, 5, 6)
        self.teacher = rng.normal(0, 3, (6, 5)).astype("float32")
        self.student = rng.normal(0, 3, (6, 5)).astype("float32")

    @parameterized.parameters((6.0, 0.95), (4.0, 0.5), (1.0, 0.0))
    def test_value_is_the_reference_less_the_teacher_entropy(self, temperature, alpha):
        ours = float(losses.KDLoss(temperature, alpha)(self.labels, self.teacher, self.student))
        ref = reference_kd(self.labels, self.teacher, self.student, temperature, alpha)
        constant = (1 - alpha) * temperature**2 * teacher_entropy(self.teacher, temperature)
        np.testing.assert_allclose(ours, ref - constant, rtol=1e-5, atol=1e-5)

    @parameterized.parameters((6.0, 0.95), (4.0, 0.5))
    def test_gradient_equals_the_reference_gradient(self, temperature, alpha):
        student = tf.Variable(self.student)
        with tf.GradientTape() as tape:
            loss = losses.KDLoss(temperature, alpha)(self.labels, self.teacher, student)
        ours = tape.gradient(loss, student).numpy()

        # d/ds of the reference: alpha (softmax(s) - onehot) + (1-alpha) T (softmax(s/T) - softmax(t/T)), / N
        onehot = np.eye(5)[self.labels]
        ref = alpha * (softmax(self.student, 1) - onehot) + (1 - alpha) * temperature * (
            softmax(self.student / temperature, 1) - softmax(self.teacher / temperature, 1)
        )
        np.testing.assert_allclose(ours, ref / len(self.labels), rtol=1e-4, atol=1e-6)

    def test_alpha_outside_unit_interval_is_refused(self):
        with self.assertRaisesRegex(ValueError, "alpha must be in"):
            losses.KDLoss(alpha=1.5)


def test_ir_loss_is_the_mean_squared_error_over_all_elements():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 4, 4, 3)), rng.normal(size=(2, 4, 4, 3))
    np.testing.assert_allclose(float(losses.ir_loss(a, b)), np.mean((a - b) ** 2), rtol=1e-5)


def test_l2_penalty_gradient_is_coupled_weight_decay():
    w = tf.Variable([[1.0, -2.0], [3.0, 0.5]])
    with tf.GradientTape() as tape:
        penalty = losses.l2_penalty([w], 1e-2)
    np.testing.assert_allclose(tape.gradient(penalty, w), 1e-2 * w.numpy(), rtol=1e-6)
    assert losses.l2_penalty([w], 0.0) == 0.0
