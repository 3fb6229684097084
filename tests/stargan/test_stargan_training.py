"""lit_tf.stargan.stargan: the discriminator trains every step, the generator every n_critic-th."""

import keras
import numpy as np
import pytest

from lit_tf.models import stargan
from lit_tf.stargan.stargan_training import StarGAN
from tests import test_case


def _batch(n=4, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.uniform(-1, 1, (n, 16, 16, 3)).astype("float32")
    label = rng.integers(0, 2, (n, 3)).astype("float32")
    return image, label, label[::-1].copy()


def _gan(n_critic):
    generator = stargan.Generator(16, 3, 8, residual_blocks=2, sections=1)
    discriminator = stargan.Discriminator(16, 3, 8, strided_layers=2)
    gan = StarGAN(generator, discriminator, n_critic=n_critic)
    gan.compile(keras.optimizers.Adam(1e-3, 0.5, 0.999), keras.optimizers.Adam(1e-3, 0.5, 0.999))
    return gan


def test_generator_moves_only_on_every_n_critic_th_step():
    gan = _gan(n_critic=2)
    batch = _batch()
    g0 = test_case.weights_by_name(gan.generator.layers)
    d0 = test_case.weights_by_name(gan.discriminator.layers)
    logs = gan.train_on_batch(batch, return_dict=True)  # D step 1: no G step
    g1 = test_case.weights_by_name(gan.generator.layers)
    assert all(np.array_equal(g0[k], g1[k]) for k in g0)
    assert any(not np.array_equal(d0[k], v) for k, v in test_case.weights_by_name(gan.discriminator.layers).items())
    assert logs["g_loss"] == 0.0 and np.isfinite(logs["d_loss"]) and logs["d_gradient_penalty"] >= 0
    logs = gan.train_on_batch(batch, return_dict=True)  # D step 2: G step too
    g2 = test_case.weights_by_name(gan.generator.layers)
    assert any(not np.array_equal(g1[k], g2[k]) for k in g1)
    assert np.isfinite(logs["g_loss"]) and logs["g_reconstruction"] > 0


def test_fit_lowers_the_reconstruction_loss_and_bad_n_critic_is_refused():
    gan = _gan(n_critic=1)
    image, label, target = _batch(8)
    history = gan.fit((image, label, target), batch_size=4, epochs=6, verbose=0).history
    assert history["g_reconstruction"][-1] < history["g_reconstruction"][0]
    with pytest.raises(ValueError, match="n_critic must be >= 1"):
        StarGAN(gan.generator, gan.discriminator, n_critic=0)
