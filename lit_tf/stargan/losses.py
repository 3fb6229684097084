"""StarGAN's losses (Choi et al. 2018): WGAN-GP adversarial, domain classification, reconstruction.

The discriminator is any callable `images -> (source, domain_logits)`; the generator's
losses are combined with the paper's weights (lambda_cls 1, lambda_rec 10, lambda_gp 10).

Example: a discriminator whose source output is linear in the image has the same gradient
everywhere, so the penalty is `(||w|| - 1)^2`:

>>> import numpy as np, tensorflow as tf
>>> from lit_tf.stargan import losses
>>> w = tf.fill((1, 2, 2, 1), 0.25)  # ||w|| = 0.5
>>> critic = lambda x: (tf.reduce_sum(x * w, axis=[1, 2, 3]), None)
>>> x = tf.ones((3, 2, 2, 1))
>>> float(losses.gradient_penalty(critic, x, -x, seed=0))
0.25
"""

import keras
import tensorflow as tf

LAMBDA_CLS = 1.0
LAMBDA_REC = 10.0
LAMBDA_GP = 10.0


def gradient_penalty(discriminator, real, fake, seed=None):
    """mean((||grad_x D_src(x)||_2 - 1)^2) at random interpolates of real and fake images.

    `seed` (int, or an int scalar tensor such as the optimizer's step count) makes the
    interpolation weights a function of it; None draws them at random.
    """
    shape = (tf.shape(real)[0], 1, 1, 1)
    if seed is None:
        alpha = tf.random.uniform(shape)
    else:
        alpha = tf.random.stateless_uniform(shape, seed=tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)]))
    mixed = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        source, _ = discriminator(mixed)
        total = tf.reduce_sum(source)
    grad = tape.gradient(total, mixed)
    norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]) + 1e-12)
    return tf.reduce_mean(tf.square(norm - 1.0))


def classification_loss(labels, logits):
    """Sigmoid cross-entropy summed over attributes, averaged over the batch (as StarGAN)."""
    per_attribute = keras.ops.binary_crossentropy(labels, logits, from_logits=True)
    return keras.ops.mean(keras.ops.sum(per_attribute, axis=-1))


def reconstruction_loss(images, reconstructed):
    """Mean absolute error of the cycle x -> G(x, c_target) -> G(., c_original)."""
    return keras.ops.mean(keras.ops.abs(images - reconstructed))


def discriminator_loss(real_source, fake_source, real_domain_logits, labels, penalty):
    """`-E[D(real)] + E[D(fake)] + lambda_cls * cls(real) + lambda_gp * penalty`; returns (total, parts)."""
    adversarial = -keras.ops.mean(real_source) + keras.ops.mean(fake_source)
    classification = classification_loss(labels, real_domain_logits)
    total = adversarial + LAMBDA_CLS * classification + LAMBDA_GP * penalty
    return total, {"d_adversarial": adversarial, "d_classification": classification, "d_gradient_penalty": penalty}


def generator_loss(fake_source, fake_domain_logits, targets, images, reconstructed):
    """`-E[D(G(x, c))] + lambda_cls * cls(fake, c) + lambda_rec * rec`; returns (total, parts)."""
    adversarial = -keras.ops.mean(fake_source)
    classification = classification_loss(targets, fake_domain_logits)
    reconstruction = reconstruction_loss(images, reconstructed)
    total = adversarial + LAMBDA_CLS * classification + LAMBDA_REC * reconstruction
    return total, {"g_adversarial": adversarial, "g_classification": classification,
                   "g_reconstruction": reconstruction}
