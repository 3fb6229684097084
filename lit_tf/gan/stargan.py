"""StarGAN training as a Keras model: one discriminator step a batch, a generator step every n_critic.

`StarGAN(generator, discriminator)` is compiled with two optimizers and fitted on batches of
`(image, label, target)` (see `lit_tf.data.celeba`). Each step trains the discriminator on
real images (adversarial + domain classification) and on `G(image, target)` with the
gradient penalty; every `n_critic`-th step also trains the generator (adversarial, domain
classification of the fake, and the cycle `G(G(image, target), label)` back to the image).
`call()` is the generator.

Example:

>>> import keras, numpy as np
>>> from lit_tf.gan.stargan import StarGAN
>>> from lit_tf.models import stargan
>>> gan = StarGAN(stargan.Generator(16, 3, 8, 2, 1), stargan.Discriminator(16, 3, 8, 2), n_critic=1)
>>> gan.compile(keras.optimizers.Adam(1e-4, 0.5, 0.999), keras.optimizers.Adam(1e-4, 0.5, 0.999))
>>> rng = np.random.default_rng(0)
>>> image = rng.uniform(-1, 1, (4, 16, 16, 3)).astype("float32")
>>> label = rng.integers(0, 2, (4, 3)).astype("float32")
>>> logs = gan.train_on_batch((image, label, label[::-1]), return_dict=True)
>>> sorted(logs)[:3]
['d_adversarial', 'd_classification', 'd_gradient_penalty']
"""

import keras
import tensorflow as tf

from lit_tf.gan import losses

LOGGED = ("d_loss", "d_adversarial", "d_classification", "d_gradient_penalty",
          "g_loss", "g_adversarial", "g_classification", "g_reconstruction")


class StarGAN(keras.Model):
    """Trains a StarGAN generator and discriminator (WGAN-GP, n_critic discriminator steps a generator step).

    Args:
        generator: `keras.Model`, `[image, target_label] -> image`.
        discriminator: `keras.Model`, `image -> [source map, domain logits]`.
        n_critic: int >= 1, discriminator steps per generator step (5 in StarGAN).
    """

    def __init__(self, generator, discriminator, n_critic=5, **kwargs):
        super().__init__(**kwargs)
        if n_critic < 1:
            raise ValueError(f"n_critic must be >= 1. Received: n_critic={n_critic}")
        self.generator = generator
        self.discriminator = discriminator
        self.n_critic = n_critic
        self.trackers = {name: keras.metrics.Mean(name=name) for name in LOGGED}

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        super().compile(**kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        # Built here, so the generator's conditional update creates no variables inside the step.
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=None):
        return self.generator(inputs, training=training)

    def _discriminator_step(self, image, label, target):
        fake = self.generator([image, target], training=True)
        with tf.GradientTape() as tape:
            real_source, real_domains = self.discriminator(image, training=True)
            fake_source, _ = self.discriminator(fake, training=True)
            penalty = losses.gradient_penalty(lambda x: self.discriminator(x, training=True), image, fake)
            total, parts = losses.discriminator_loss(real_source, fake_source, real_domains, label, penalty)
        weights = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(total, weights), weights)
        return {"d_loss": total, **parts}

    def _generator_step(self, image, label, target):
        with tf.GradientTape() as tape:
            fake = self.generator([image, target], training=True)
            fake_source, fake_domains = self.discriminator(fake, training=True)
            reconstructed = self.generator([fake, label], training=True)
            total, parts = losses.generator_loss(fake_source, fake_domains, target, image, reconstructed)
        weights = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(total, weights), weights)
        return {"g_loss": total, **parts}

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        image, label, target = x if y is None else (x, y, sample_weight)  # train_on_batch(x) or fit(x, y, w)
        logs = self._discriminator_step(image, label, target)
        generator_turn = tf.equal(self.d_optimizer.iterations % self.n_critic, 0)  # after this D step
        generator_logs = tf.cond(
            generator_turn,
            lambda: self._generator_step(image, label, target),
            lambda: {name: tf.constant(0.0) for name in LOGGED if name.startswith("g_")},  # weighted 0 below
        )
        for name, value in {**logs, **generator_logs}.items():
            if name.startswith("d_"):
                self.trackers[name].update_state(value)
            else:  # generator losses are averaged over the steps that trained it
                self.trackers[name].update_state(value, sample_weight=tf.cast(generator_turn, tf.float32))
        return {name: tracker.result() for name, tracker in self.trackers.items()}
