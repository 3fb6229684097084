"""Tests for lit_tf.stargan.schedules: the reference's rate against its own loop, and where it is used."""

import numpy as np

from lit_tf.experiments import stargan as experiment
from lit_tf.experiments.stargan_config import StarGANConfig
from lit_tf.stargan.schedules import LinearDecayTail
from lit_tf.stargan.schedules import ReferenceDecay
from lit_tf.training.optimizers import TorchAdam


def _reference_rates(lr=1e-4, num_iters=200_000, num_iters_decay=100_000, lr_update_step=1000, n_critic=5):
    """The rate each generator update of StarGAN's (and lit-code's) solver loop uses, written out."""
    g_lr, rates = lr, []
    for i in range(num_iters):
        if (i + 1) % n_critic == 0:
            rates.append(g_lr)  # the update of iteration i
        if (i + 1) % lr_update_step == 0 and (i + 1) > (num_iters - num_iters_decay):
            g_lr -= lr / float(num_iters_decay)
    return np.array(rates)


def test_reference_decay_gives_the_rate_of_the_reference_loop_at_every_update():
    expected = _reference_rates()
    schedule = ReferenceDecay(1e-4, 200_000, 100_000, iterations_per_update=5)
    ours = np.asarray(schedule(np.arange(len(expected))))
    assert len(expected) == 40_000
    np.testing.assert_allclose(ours, expected, rtol=1e-6)
    assert expected.min() > 0.99 * 1e-4  # constant in effect


def test_the_flags_choose_the_schedule_and_pytorchs_adam_for_the_distiller():
    config = StarGANConfig(mode="lit", teacher_weights=__file__, epochs=40, steps_per_epoch=1000,
                                      lr_decay="reference", optimizer="torch_adam")
    adam = experiment._adam(config, config.total_steps, config.n_critic, config.total_steps * config.n_critic)
    assert isinstance(adam, TorchAdam) and isinstance(adam._learning_rate, ReferenceDecay)
    linear = experiment._adam(StarGANConfig(), 40_000, 5, 200_000)
    assert isinstance(linear._learning_rate, LinearDecayTail) and not isinstance(linear, TorchAdam)
