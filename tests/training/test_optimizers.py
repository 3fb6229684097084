"""Tests for lit_tf.training.optimizers: PyTorch's SGD momentum and both schedule conventions."""

import keras
import numpy as np
import pytest

from lit_tf.training import optimizers
from lit_tf.training.optimizers import TorchSGD


def _steps(optimizer, rates, gradient=1.0):
    w = keras.Variable([0.0])
    values = []
    for rate in rates:
        optimizer.learning_rate = rate
        optimizer.apply([keras.ops.full((1,), gradient)], [w])
        values.append(float(w[0]))
    return np.array(values)


def test_torch_sgd_follows_the_hand_computed_sequence_across_a_rate_drop():
    rates = [0.1, 0.1, 0.1, 0.01, 0.01]
    # buf = 0.9 buf + 1: 1, 1.9, 2.71, 3.439, 4.0951; w -= lr * buf.
    expected = -np.cumsum([0.1 * 1, 0.1 * 1.9, 0.1 * 2.71, 0.01 * 3.439, 0.01 * 4.0951])
    np.testing.assert_allclose(_steps(TorchSGD(0.1, momentum=0.9), rates), expected, rtol=1e-6)


def test_keras_sgd_agrees_at_a_constant_rate_and_not_after_a_drop():
    torch_steps = np.diff(_steps(TorchSGD(0.1, momentum=0.9), [0.1] * 30 + [0.01]), prepend=0.0)
    keras_steps = np.diff(_steps(keras.optimizers.SGD(0.1, momentum=0.9), [0.1] * 30 + [0.01]), prepend=0.0)
    np.testing.assert_allclose(torch_steps[:30], keras_steps[:30], rtol=1e-5)
    # After the drop PyTorch scales the whole buffer by the new rate; Keras keeps the old velocity.
    assert torch_steps[30] == pytest.approx(-0.01 * sum(0.9**k for k in range(31)), rel=1e-5)
    assert abs(keras_steps[30]) > 5 * abs(torch_steps[30])


def test_nesterov_and_no_momentum():
    np.testing.assert_allclose(_steps(TorchSGD(0.1), [0.1, 0.1]), [-0.1, -0.2], rtol=1e-6)
    # Nesterov: buf = 1, then 1.9; step = lr * (g + 0.9 buf) = 0.19, 0.271.
    np.testing.assert_allclose(_steps(TorchSGD(0.1, momentum=0.9, nesterov=True), [0.1, 0.1]),
                               [-0.19, -0.19 - 0.271], rtol=1e-6)


def test_torch_sgd_round_trips_its_config_and_rejects_bad_momentum():
    optimizer = TorchSGD(0.05, momentum=0.9, nesterov=True)
    clone = TorchSGD.from_config(optimizer.get_config())
    assert (clone.momentum, clone.nesterov, float(clone.learning_rate)) == (0.9, True, pytest.approx(0.05))
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)\. Received: momentum=1.5"):
        TorchSGD(0.1, momentum=1.5)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        optimizers.sgd(0.1, 0.9, kind="adam")


def test_milestone_schedule_drops_tenfold_at_each_milestone():
    schedule = optimizers.piecewise_schedule(0.1, [100, 150])
    assert [schedule(e) for e in (0, 99, 100, 149, 150)] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])


def test_reference_schedule_drops_one_epoch_early():
    schedule = optimizers.piecewise_schedule(0.1, [100, 150], convention="reference")
    assert [schedule(e) for e in (0, 98, 99, 148, 149)] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])
    with pytest.raises(ValueError, match="schedule must be one of"):
        optimizers.piecewise_schedule(0.1, [1], convention="pytorch")


def _torch_adam_by_hand(gradients, lr=1e-3, b1=0.5, b2=0.999, eps=1e-8):
    """PyTorch's torch.optim.Adam step, written out (torch/optim/adam.py, single-tensor path)."""
    p, m, v, values = 0.0, 0.0, 0.0, []
    for t, g in enumerate(gradients, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p -= lr / (1 - b1**t) * m / (np.sqrt(v) / np.sqrt(1 - b2**t) + eps)
        values.append(p)
    return np.array(values)


@pytest.mark.parametrize("gradients", [[1.0, -0.5, 2.0, 0.25], [3e-8, 1e-7, -2e-8, 5e-8]])
def test_torch_adam_follows_pytorchs_sequence_where_keras_adam_does_not(gradients):
    def run(optimizer):
        w, values = keras.Variable([0.0]), []
        for g in gradients:
            optimizer.apply([keras.ops.full((1,), g)], [w])
            values.append(float(w[0]))
        return np.array(values)

    expected = _torch_adam_by_hand(gradients)
    np.testing.assert_allclose(run(optimizers.TorchAdam(1e-3, 0.5, 0.999)), expected, rtol=1e-5)
    keras_adam = run(keras.optimizers.Adam(1e-3, 0.5, 0.999, epsilon=1e-8))
    if abs(gradients[0]) < 1e-6:  # eps before or after the correction: far apart for small gradients
        assert np.max(np.abs(keras_adam - expected)) > 0.1 * np.max(np.abs(expected))


def test_torch_adam_refuses_a_beta_outside_0_1():
    with pytest.raises(ValueError, match=r"beta_2 must be in \[0, 1\)\. Received: beta_2=1.0"):
        optimizers.TorchAdam(1e-3, 0.5, 1.0)


def _torch_sgd_with_decay_by_hand(w, gradients, lr, momentum, decay):
    """torch.optim.SGD's step with weight_decay (single-tensor path): g += wd·p; buf = m·buf + g; p -= lr·buf."""
    buffer, values = None, []
    for gradient in gradients:
        g = gradient + decay * w
        buffer = g if buffer is None else momentum * buffer + g
        w = w - lr * buffer
        values.append(w)
    return np.array(values)


def test_coupled_weight_decay_is_pytorchs_in_torch_sgd_and_keras_sgd():
    gradients = [1.0, -0.5, 0.25]

    def run(optimizer):
        w = keras.Variable([2.0])
        values = []
        for gradient in gradients:
            optimizer.apply([keras.ops.full((1,), gradient)], [w])
            values.append(float(w[0]))
        return np.array(values)

    expected = _torch_sgd_with_decay_by_hand(2.0, gradients, 0.1, 0.9, 0.05)
    np.testing.assert_allclose(run(TorchSGD(0.1, momentum=0.9, coupled_weight_decay=0.05)), expected, rtol=1e-6)
    # Keras' SGD arithmetic at a constant rate is PyTorch's, the decay included.
    np.testing.assert_allclose(run(optimizers.CoupledSGD(0.1, momentum=0.9, coupled_weight_decay=0.05)), expected,
                               rtol=1e-5)
    adam = run(optimizers.TorchAdam(0.1, coupled_weight_decay=0.05))
    assert not np.allclose(adam, run(optimizers.TorchAdam(0.1)))


def test_coupled_weight_decay_round_trips_and_refuses_keras_decoupled_weight_decay():
    for optimizer in (TorchSGD(0.1, coupled_weight_decay=1e-4), optimizers.CoupledSGD(0.1, coupled_weight_decay=1e-4),
                      optimizers.TorchAdam(coupled_weight_decay=1e-4)):
        config = keras.saving.serialize_keras_object(optimizer)
        assert keras.saving.deserialize_keras_object(config).coupled_weight_decay == 1e-4
    with pytest.raises(ValueError, match="coupled_weight_decay= .*Received: weight_decay=0.0001"):
        TorchSGD(0.1, weight_decay=1e-4)
    with pytest.raises(ValueError, match="must be >= 0"):
        optimizers.CoupledSGD(0.1, coupled_weight_decay=-1.0)


def test_with_coupled_weight_decay_sets_it_converts_keras_sgd_and_refuses_what_cannot_apply_it():
    torch_sgd = TorchSGD(0.1, momentum=0.9)
    assert optimizers.with_coupled_weight_decay(torch_sgd, 1e-4) is torch_sgd
    assert torch_sgd.coupled_weight_decay == 1e-4
    assert optimizers.with_coupled_weight_decay(torch_sgd, 1e-4) is torch_sgd  # the same again: fine
    with pytest.raises(ValueError, match="weight_decay=0.001, and its optimizer its own coupled_weight_decay=0.0001"):
        optimizers.with_coupled_weight_decay(torch_sgd, 1e-3)
    made = optimizers.with_coupled_weight_decay("sgd", 1e-4)
    assert (type(made).__name__, made.coupled_weight_decay) == ("CoupledSGD", 1e-4)
    adam = keras.optimizers.Adam()
    assert optimizers.with_coupled_weight_decay(adam, 0.0) is adam
    with pytest.raises(ValueError, match="Adam cannot apply.*or weight_decay=0"):
        optimizers.with_coupled_weight_decay(adam, 1e-4, "LITDistiller")
    assert optimizers.for_stage("torch_sgd", 0.1, 0.9, coupled_weight_decay=1e-4).coupled_weight_decay == 1e-4
    assert optimizers.for_stage(keras.optimizers.SGD(0.5, momentum=0.5), 0.1, 0.9,
                                coupled_weight_decay=1e-4).coupled_weight_decay == 1e-4
