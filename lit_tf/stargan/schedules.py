"""StarGAN's learning rates, counted in an optimizer's updates: today's linear tail and the reference's.

- `LinearDecayTail`: constant, then linearly to 0 over the last part of the run (StarGAN's paper).
- `ReferenceDecay`: what the code of StarGAN and of the LIT reference computes. Every 1,000
  iterations of the last `decay_iterations` it subtracts `learning_rate / decay_iterations`:
  at 1e-4 over 100,000 iterations, 1e-9 a time and 1e-7 in all, so the rate stays 1e-4 to three
  digits. An update made every `iterations_per_update`-th iteration (the generator's, one in
  `n_critic`) sees the rate of its iteration, `iterations_per_update * (update + 1) - 1`.

Example (the reference's LIT stage: 40,000 generator updates, one every 5 of 200,000 iterations):

>>> from lit_tf.stargan.schedules import ReferenceDecay
>>> rate = ReferenceDecay(1e-4, total_iterations=200_000, decay_iterations=100_000, iterations_per_update=5)
>>> [f"{float(rate(update)):.6g}" for update in (0, 20_200, 39_999)]  # iterations 4, 101,004, 199,999
['0.0001', '9.9999e-05', '9.9901e-05']
"""

import keras


class LinearDecayTail(keras.optimizers.schedules.LearningRateSchedule):
    """Constant, then linearly to 0 over the last `decay_steps` of `total_steps` updates."""

    def __init__(self, learning_rate, total_steps, decay_steps):
        self.learning_rate, self.total_steps, self.decay_steps = learning_rate, total_steps, max(decay_steps, 1)

    def __call__(self, step):
        left = keras.ops.cast(self.total_steps, "float32") - keras.ops.cast(step, "float32")
        return self.learning_rate * keras.ops.clip(left / self.decay_steps, 0.0, 1.0)

    def get_config(self):
        return {"learning_rate": self.learning_rate, "total_steps": self.total_steps,
                "decay_steps": self.decay_steps}


class ReferenceDecay(keras.optimizers.schedules.LearningRateSchedule):
    """The reference's rate: `learning_rate / decay_iterations` less after every `every` iterations of the tail.

    Args:
        learning_rate: float.
        total_iterations, decay_iterations: ints, the run's iterations and its decaying tail.
        iterations_per_update: int, iterations between two updates of this optimizer.
        every: int, iterations between two decrements (the reference's `lr_update_step`).
    """

    def __init__(self, learning_rate, total_iterations, decay_iterations, iterations_per_update=1, every=1000):
        self.learning_rate, self.total_iterations, self.decay_iterations = learning_rate, total_iterations, \
            max(decay_iterations, 1)
        self.iterations_per_update, self.every = iterations_per_update, every

    def __call__(self, step):
        ops = keras.ops
        iteration = ops.cast(step, "float32") * self.iterations_per_update + (self.iterations_per_update - 1)
        start = (self.total_iterations - self.decay_iterations) // self.every
        drops = ops.maximum(ops.floor(iteration / self.every) - start, 0.0)
        return self.learning_rate - drops * (self.learning_rate / self.decay_iterations)

    def get_config(self):
        return {"learning_rate": self.learning_rate, "total_iterations": self.total_iterations,
                "decay_iterations": self.decay_iterations, "iterations_per_update": self.iterations_per_update,
                "every": self.every}
