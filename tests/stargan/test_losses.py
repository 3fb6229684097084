"""lit_tf.stargan.losses against hand-computed values on tiny cases."""

import numpy as np
import pytest
import tensorflow as tf

from lit_tf.stargan import losses


def test_gradient_penalty_equals_the_hand_computed_value_for_a_quadratic_critic():
    rng = np.random.default_rng(0)
    real, fake = (rng.normal(size=(3, 2, 2, 1)).astype("float32") for _ in range(2))
    w = rng.uniform(0.1, 1.0, (1, 2, 2, 1)).astype("float32")
    critic = lambda x: (tf.reduce_sum(w * tf.square(x), axis=[1, 2, 3]), None)  # noqa: E731
    penalty = float(losses.gradient_penalty(critic, real, fake, seed=7))
    alpha = tf.random.stateless_uniform((3, 1, 1, 1), seed=[7, 0]).numpy()
    mixed = alpha * real + (1 - alpha) * fake
    norms = np.sqrt(np.sum((2 * w * mixed) ** 2, axis=(1, 2, 3)))  # d/dx sum(w x^2) = 2 w x
    assert penalty == pytest.approx(np.mean((norms - 1) ** 2), rel=1e-5)


def test_classification_loss_sums_attributes_and_averages_the_batch():
    labels = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    logits = np.array([[2.0, -1.0], [0.5, 0.0]], "float32")
    sigmoid = 1 / (1 + np.exp(-logits))
    expected = np.mean(np.sum(-(labels * np.log(sigmoid) + (1 - labels) * np.log(1 - sigmoid)), axis=1))
    assert float(losses.classification_loss(labels, logits)) == pytest.approx(expected, rel=1e-5)


def test_losses_combine_with_the_papers_weights():
    labels = np.array([[1.0, 0.0]], "float32")
    logits = np.array([[0.3, -0.2]], "float32")
    cls = float(losses.classification_loss(labels, logits))
    total, parts = losses.discriminator_loss(np.float32([2.0]), np.float32([0.5]), logits, labels, penalty=0.1)
    assert float(parts["d_adversarial"]) == pytest.approx(-1.5)
    assert float(total) == pytest.approx(-1.5 + 1.0 * cls + 10.0 * 0.1, rel=1e-5)
    images = np.zeros((1, 2, 2, 3), "float32")
    total, parts = losses.generator_loss(np.float32([1.0]), logits, labels, images, images + 0.5)
    assert float(parts["g_reconstruction"]) == pytest.approx(0.5)
    assert float(total) == pytest.approx(-1.0 + cls + 10.0 * 0.5, rel=1e-5)
