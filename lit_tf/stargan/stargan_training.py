"""StarGAN training as a Keras model: one discriminator step a batch, a generator step every n_critic.

`StarGAN(generator, discriminator)` is compiled with two optimizers and fitted on batches of
`(image, label, target)` (see `lit_tf.data.celeba`). Each step trains the discriminator on
real images (adversarial + domain classification) and on `G(image, target)` with the
gradient penalty; every `n_critic`-th step also trains the generator (adversarial, domain
classification of the fake, and the cycle `G(G(image, target), label)` back to the image).
`call()` is the generator.

Example:

>>> import keras, numpy as np
>>> from lit_tf.stargan.stargan_training import StarGAN
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

from lit_tf.stargan import losses

DISCRIMINATOR_LOGS = ("d_loss", "d_adversarial", "d_classification", "d_gradient_penalty")
GENERATOR_LOGS = ("g_loss", "g_adversarial", "g_classification", "g_reconstruction")


class StarGAN(keras.Model):
    """Trains a StarGAN generator and discriminator (WGAN-GP, n_critic discriminator steps a generator step).

    Args:
        generator: `keras.Model`, `[image, target_label] -> image`.
        discriminator: `keras.Model`, `image -> [source map, domain logits]`; `None`
            only in subclasses whose generator objective needs none (every step then
            trains the generator alone).
        n_critic: int >= 1, discriminator steps per generator step (5 in StarGAN).
    """

    generator_logs = GENERATOR_LOGS  # the names `generator_objective` returns

    def __init__(self, generator, discriminator, n_critic=5, **kwargs):
        super().__init__(**kwargs)
        if n_critic < 1:
            raise ValueError(f"n_critic must be >= 1. Received: n_critic={n_critic}")
        if discriminator is None and type(self) is StarGAN:
            raise ValueError("StarGAN trains a generator against a discriminator: pass one.")
        self.generator = generator
        self.discriminator = discriminator
        self.n_critic = n_critic
        names = (DISCRIMINATOR_LOGS if discriminator is not None else ()) + tuple(self.generator_logs)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    def compile(self, g_optimizer, d_optimizer=None, **kwargs):
        if self.discriminator is not None and d_optimizer is None:
            raise ValueError("StarGAN.compile needs a d_optimizer to train the discriminator.")
        # `optimizer` is the generator's, so Keras makes no unused default optimizer (with slots
        # for every weight) and callbacks that read `model.optimizer` see a real one.
        super().compile(optimizer=g_optimizer, **kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        # Built here, so the generator's conditional update creates no variables inside the step.
        self.g_optimizer.build(self.trained_generator_weights)
        if self.discriminator is not None:
            self.d_optimizer.build(self.discriminator.trainable_variables)

    def build(self, input_shape=None):
        # The networks are functional models, built when made; nothing is left to build here.
        self.built = True

    @property
    def trained_generator_weights(self):
        """The generator weights its step trains: all its trainable ones (a distiller trains fewer)."""
        return self.generator.trainable_variables

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
            # Interpolation weights keyed on the step: a resumed run draws what the uninterrupted one did.
            penalty = losses.gradient_penalty(lambda x: self.discriminator(x, training=True), image, fake,
                                              seed=self.d_optimizer.iterations)
            total, parts = losses.discriminator_loss(real_source, fake_source, real_domains, label, penalty)
        weights = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(total, weights), weights)
        return {"d_loss": total, **parts}

    def stargan_generator_loss(self, image, label, target, fake=None):
        """StarGAN's generator loss of `fake = G(image, target)` and its cycle back to `label`: (total, parts)."""
        fake = self.generator([image, target], training=True) if fake is None else fake
        fake_source, fake_domains = self.discriminator(fake, training=True)
        reconstructed = self.generator([fake, label], training=True)
        total, parts = losses.generator_loss(fake_source, fake_domains, target, image, reconstructed)
        return total, {"g_loss": total, **parts}

    def generator_objective(self, image, label, target):
        """What the generator step minimises, `(total, {name in generator_logs: value})`."""
        return self.stargan_generator_loss(image, label, target)

    def _generator_step(self, image, label, target):
        with tf.GradientTape() as tape:
            total, parts = self.generator_objective(image, label, target)
        weights = self.trained_generator_weights
        self.g_optimizer.apply(tape.gradient(total, weights), weights)
        return parts

    def train_step(self, data):
        # A dataset's batch comes as `(image, label, target)`; fit(batch) and train_on_batch(batch) wrap it.
        image, label, target = data if len(data) == 3 and data[1] is not None else data[0]
        if self.discriminator is None:
            logs, generator_turn = {}, tf.constant(True)
            generator_logs = self._generator_step(image, label, target)
        else:
            logs = self._discriminator_step(image, label, target)
            generator_turn = tf.equal(self.d_optimizer.iterations % self.n_critic, 0)  # after this D step
            generator_logs = tf.cond(
                generator_turn,
                lambda: self._generator_step(image, label, target),
                lambda: {name: tf.constant(0.0) for name in self.generator_logs},  # weighted 0 below
            )
        for name, value in logs.items():
            self.trackers[name].update_state(value)
        for name, value in generator_logs.items():  # averaged over the steps that trained the generator
            self.trackers[name].update_state(value, sample_weight=tf.cast(generator_turn, tf.float32))
        return {name: tracker.result() for name, tracker in self.trackers.items()}
