"""SGD with momentum and Adam as PyTorch computes them, with PyTorch's (coupled) weight decay, and the
learning-rate schedules of both conventions.

Keras' SGD keeps a velocity that includes the learning rate (`v = m·v − lr·g; p += v`);
PyTorch's keeps a buffer without it (`buf = m·buf + g; p −= lr·buf`). With a constant rate
the two are the same; after a rate drop PyTorch applies the new rate to the whole buffer at
once, Keras only to new gradients, and they differ for a few hundred steps (the LIT
reference trains with PyTorch's).

Weight decay here is PyTorch's `weight_decay`: `wd·p` added to the gradient before the
update (the gradient of an L2 penalty `wd/2·‖p‖²`), called `coupled_weight_decay` so it is
not mistaken for Keras' `weight_decay`, which is decoupled (AdamW's: `p −= lr·wd·p` apart from
the gradient). `CoupledSGD` is Keras' SGD with it; `TorchSGD` and `TorchAdam` take it too.

Example (a constant gradient of 1, the rate dropping from 0.1 to 0.01 before step 3):

>>> import keras
>>> from lit_tf.training.optimizers import TorchSGD
>>> w = keras.Variable([0.0])
>>> optimizer = TorchSGD(learning_rate=0.1, momentum=0.9)
>>> steps = []
>>> for rate in (0.1, 0.1, 0.01):
...     optimizer.learning_rate = rate
...     optimizer.apply([keras.ops.ones((1,))], [w])
...     steps.append(round(float(w[0]), 4))
>>> steps  # buffers 1, 1.9, 2.71: w -= 0.1, 0.19, then 0.0271
[-0.1, -0.29, -0.3171]
"""

import keras

from lit_tf.options import OPTIMIZERS
from lit_tf.options import SCHEDULE_CONVENTIONS as SCHEDULES
from lit_tf.options import check_choice


class CoupledWeightDecay:
    """Adds PyTorch's coupled weight decay to a Keras optimizer: `g + wd·p` is what it updates with.

    A subclass calls `decayed(gradient, variable)` first thing in its `update_step`. Every
    variable the optimizer updates decays, as in `torch.optim.SGD(params, weight_decay=wd)`;
    gradient clipping (`clipnorm`, ...) sees the gradient before the decay is added, as PyTorch's
    `clip_grad_norm_` does. Keras' own `weight_decay=` (decoupled) is refused, so the two are
    never combined by mistake.

    Args:
        coupled_weight_decay: float >= 0 (the LIT reference's 1e-4).
    """

    def __init__(self, *args, coupled_weight_decay=0.0, **kwargs):
        if kwargs.get("weight_decay"):
            raise ValueError(
                f"{type(self).__name__} takes PyTorch's weight decay as coupled_weight_decay= (added to the "
                f"gradient); Keras' weight_decay= (decoupled, AdamW's) is not combined with it. "
                f"Received: weight_decay={kwargs['weight_decay']}")
        super().__init__(*args, **kwargs)
        self.coupled_weight_decay = _check_decay(coupled_weight_decay)

    def decayed(self, gradient, variable):
        """`gradient + coupled_weight_decay · variable`, in the variable's dtype."""
        gradient = keras.ops.cast(gradient, variable.dtype)
        if not self.coupled_weight_decay:
            return gradient
        return gradient + keras.ops.cast(self.coupled_weight_decay, variable.dtype) * variable

    def get_config(self):
        return {**super().get_config(), "coupled_weight_decay": self.coupled_weight_decay}


def _check_decay(value):
    if not value >= 0:
        raise ValueError(f"coupled_weight_decay must be >= 0. Received: coupled_weight_decay={value}")
    return float(value)


@keras.saving.register_keras_serializable(package="lit_tf")
class CoupledSGD(CoupledWeightDecay, keras.optimizers.SGD):
    """Keras' `SGD` (its momentum arithmetic) with PyTorch's coupled weight decay.

    >>> import keras
    >>> w = keras.Variable([1.0])
    >>> CoupledSGD(0.1, coupled_weight_decay=0.5).apply([keras.ops.zeros((1,))], [w])
    >>> round(float(w[0]), 4)  # 1 - 0.1 * (0 + 0.5 * 1)
    0.95
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, coupled_weight_decay=0.0,
                 name="coupled_sgd", **kwargs):
        super().__init__(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov, name=name,
                         coupled_weight_decay=coupled_weight_decay, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(self.decayed(gradient, variable), variable, learning_rate)


@keras.saving.register_keras_serializable(package="lit_tf")
class TorchSGD(CoupledWeightDecay, keras.optimizers.Optimizer):
    """SGD with PyTorch's momentum buffer: `buf = momentum·buf + g + wd·p; p −= lr·buf`.

    `torch.optim.SGD(params, lr, momentum, weight_decay=wd)` step for step.

    Args:
        learning_rate: float or a `keras.optimizers.schedules` schedule.
        momentum: float in [0, 1).
        nesterov: bool, PyTorch's Nesterov form (`p −= lr·(g + momentum·buf)`).
        coupled_weight_decay: float >= 0, PyTorch's `weight_decay` (see `CoupledWeightDecay`).
        **kwargs: other `keras.optimizers.Optimizer` arguments.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, coupled_weight_decay=0.0,
                 name="torch_sgd", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, coupled_weight_decay=coupled_weight_decay,
                         **kwargs)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1). Received: momentum={momentum}")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.buffers = [self.add_variable_from_reference(v, "momentum_buffer") for v in variables]

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = keras.ops.cast(learning_rate, variable.dtype)
        gradient = self.decayed(gradient, variable)
        if not self.momentum:
            self.assign_sub(variable, learning_rate * gradient)
            return
        buffer = self.buffers[self._get_variable_index(variable)]
        self.assign(buffer, self.momentum * buffer + gradient)
        direction = gradient + self.momentum * buffer if self.nesterov else buffer
        self.assign_sub(variable, learning_rate * direction)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


@keras.saving.register_keras_serializable(package="lit_tf")
class TorchAdam(CoupledWeightDecay, keras.optimizers.Optimizer):
    """Adam as PyTorch computes it: eps added to the bias-corrected root of the second moment.

    `m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²; p −= lr/(1−b1^t) · m / (sqrt(v)/sqrt(1−b2^t) + eps)`.
    Keras' `Adam` adds its epsilon before the correction (`sqrt(v) + eps` with the rate scaled
    by `sqrt(1−b2^t)`), which changes updates where gradients are small; the LIT reference's
    StarGAN trains with PyTorch's (`torch.optim.Adam(params, 1e-4, [0.5, 0.999])`).

    Args:
        learning_rate: float or a `keras.optimizers.schedules` schedule.
        beta_1, beta_2: floats in [0, 1), the moments' decay rates.
        epsilon: float, PyTorch's eps (1e-8).
        coupled_weight_decay: float >= 0, PyTorch's `weight_decay` (see `CoupledWeightDecay`).
        **kwargs: other `keras.optimizers.Optimizer` arguments.

    Example (one step on a gradient of 0.5: the update is lr, as eps is tiny):

    >>> import keras
    >>> from lit_tf.training.optimizers import TorchAdam
    >>> w = keras.Variable([1.0])
    >>> TorchAdam(0.1, 0.5, 0.999).apply([keras.ops.convert_to_tensor([0.5])], [w])
    >>> round(float(w[0]), 5)
    0.9
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, coupled_weight_decay=0.0,
                 name="torch_adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, coupled_weight_decay=coupled_weight_decay,
                         **kwargs)
        for label, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{label} must be in [0, 1). Received: {label}={value}")
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.moments = [self.add_variable_from_reference(v, "first_moment") for v in variables]
        self.second_moments = [self.add_variable_from_reference(v, "second_moment") for v in variables]

    def update_step(self, gradient, variable, learning_rate):
        ops = keras.ops
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = self.decayed(gradient, variable)
        step = ops.cast(self.iterations + 1, variable.dtype)
        index = self._get_variable_index(variable)
        m, v = self.moments[index], self.second_moments[index]
        self.assign(m, self.beta_1 * m + (1.0 - self.beta_1) * gradient)
        self.assign(v, self.beta_2 * v + (1.0 - self.beta_2) * ops.square(gradient))
        first_correction = 1.0 - ops.power(ops.cast(self.beta_1, variable.dtype), step)
        second_correction = 1.0 - ops.power(ops.cast(self.beta_2, variable.dtype), step)
        denominator = ops.sqrt(v) / ops.sqrt(second_correction) + self.epsilon
        self.assign_sub(variable, learning_rate / first_correction * m / denominator)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


def sgd(learning_rate, momentum, kind="sgd", coupled_weight_decay=0.0):
    """`CoupledSGD`, Keras' SGD arithmetic (`kind="sgd"`), or `TorchSGD` (`"torch_sgd"`, the reference's)."""
    check_choice("optimizer", kind, OPTIMIZERS)
    optimizer = TorchSGD if kind == "torch_sgd" else CoupledSGD
    return optimizer(learning_rate, momentum=momentum, coupled_weight_decay=coupled_weight_decay)


def for_stage(optimizer, learning_rate, momentum, coupled_weight_decay=0.0, owner="The stage"):
    """A new optimizer for one training stage, from a name or an optimizer object.

    "sgd" and "torch_sgd" are SGD with `momentum` (see `sgd`); another name is a Keras
    optimizer (`"adam"`); an optimizer object is copied from its config, so each stage
    starts with fresh slots and the object given is never changed. The stage's rate
    schedule then sets the learning rate every epoch. `coupled_weight_decay` is set as
    `with_coupled_weight_decay` sets it (its errors name `owner`).

    >>> import keras
    >>> given = keras.optimizers.Adam(beta_1=0.5)
    >>> made = for_stage(given, 0.01, momentum=0.9)
    >>> type(made).__name__, made is given, made.beta_1, round(float(made.learning_rate), 6)
    ('Adam', False, 0.5, 0.01)
    >>> type(for_stage("sgd", 0.1, 0.9, coupled_weight_decay=1e-4)).__name__
    'CoupledSGD'
    """
    if isinstance(optimizer, str) and optimizer in OPTIMIZERS:
        return sgd(learning_rate, momentum, optimizer, coupled_weight_decay)
    if isinstance(optimizer, keras.optimizers.Optimizer):
        if isinstance(optimizer.learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            raise ValueError("The stages set the learning rate every epoch (learning_rate and milestones): pass an "
                             "optimizer with a float learning_rate, not a schedule.")
        config = dict(optimizer.get_config(), learning_rate=learning_rate)
        return with_coupled_weight_decay(type(optimizer).from_config(config), coupled_weight_decay, owner)
    if isinstance(optimizer, str):
        try:
            made = keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": learning_rate}})
        except (ValueError, TypeError):
            made = None
        if made is not None:
            return with_coupled_weight_decay(made, coupled_weight_decay, owner)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, a Keras optimizer's name such as 'adam', or a "
                     f"keras.optimizers.Optimizer. Received: optimizer={optimizer!r}")


def with_coupled_weight_decay(optimizer, coupled_weight_decay, owner="The stage"):
    """`optimizer` applying PyTorch's coupled weight decay `coupled_weight_decay` (0: as it is).

    A `CoupledWeightDecay` optimizer without decay of its own gets it (the object itself);
    Keras' `SGD` (or the name "sgd") becomes a `CoupledSGD` with its config; any other
    optimizer cannot add a gradient term and is one error. What the distillers' `compile`
    does with their `weight_decay`.

    >>> import keras
    >>> made = with_coupled_weight_decay(keras.optimizers.SGD(0.1, momentum=0.9), 1e-4)
    >>> type(made).__name__, made.momentum, made.coupled_weight_decay
    ('CoupledSGD', 0.9, 0.0001)
    """
    if not coupled_weight_decay:
        return optimizer
    coupled_weight_decay = _check_decay(coupled_weight_decay)
    if isinstance(optimizer, str):
        optimizer = keras.optimizers.get(optimizer)
    if isinstance(optimizer, CoupledWeightDecay):
        if optimizer.coupled_weight_decay not in (0.0, coupled_weight_decay):
            raise ValueError(
                f"{owner} has weight_decay={coupled_weight_decay}, and its optimizer its own "
                f"coupled_weight_decay={optimizer.coupled_weight_decay}: give one of them.")
        optimizer.coupled_weight_decay = coupled_weight_decay
        return optimizer
    if type(optimizer) is keras.optimizers.SGD:
        return CoupledSGD.from_config({**optimizer.get_config(), "name": "coupled_sgd",
                                       "coupled_weight_decay": coupled_weight_decay})
    raise ValueError(
        f"{owner} has weight_decay={coupled_weight_decay}, PyTorch's coupled weight decay, which "
        f"{type(optimizer).__name__} cannot apply: use 'sgd', 'torch_sgd', lit_tf.training.CoupledSGD, TorchSGD "
        f"or TorchAdam, or weight_decay=0 (Keras' own weight_decay= on the optimizer is the decoupled kind).")


def piecewise_schedule(learning_rate, milestones, factor=0.1, convention="milestones"):
    """Returns `epoch -> lr` (epochs from 0) for `keras.callbacks.LearningRateScheduler`.

    Args:
        learning_rate: float, the starting rate.
        milestones: epochs (counted from 0) where the rate is multiplied by `factor`.
        factor: float.
        convention: `"milestones"`, the rate drops at epoch `m` (m epochs at the previous
            rate); `"reference"`, one epoch earlier, as the LIT reference code, which calls
            PyTorch's `scheduler.step()` at the start of every epoch (99 epochs at 0.1
            with milestone 100).

    Example:

    >>> schedule = piecewise_schedule(0.1, [2], convention="reference")
    >>> tuple(round(schedule(epoch), 3) for epoch in range(4))
    (0.1, 0.01, 0.01, 0.01)
    """
    check_choice("schedule", convention, SCHEDULES)
    milestones = sorted(milestones)
    if not milestones:
        return lambda epoch, _=None: learning_rate
    shift = 1 if convention == "reference" else 0
    # Keras' piecewise-constant schedule, counted in epochs: the rate drops after epoch m - 1 - shift.
    decay = keras.optimizers.schedules.PiecewiseConstantDecay(
        [m - 1 - shift for m in milestones], [learning_rate * factor**k for k in range(len(milestones) + 1)])

    def schedule(epoch, _=None):
        return float(decay(epoch))

    return schedule
