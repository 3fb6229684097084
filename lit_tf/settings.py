"""The reference's hyper-parameters, written once: one small frozen dataclass per concern.

Every default in lit_tf (`compress`, the distillers, `losses.KDLoss`, the baselines,
`experiment.ExperimentConfig` and through it the CIFAR trainer's flags) comes from here.
The values are those of the LIT reference code (Koratana et al. 2019) for CIFAR ResNets.

Example:

>>> from lit_tf import settings
>>> settings.KD(), settings.LIT()
(KD(temperature=6.0, alpha=0.95), LIT(beta=0.75, noise_stddev=0.0))
>>> settings.LIT_STAGE, settings.FINETUNE_STAGE
(Schedule(epochs=175, learning_rate=0.1, milestones=(100,)), Schedule(epochs=125, learning_rate=0.01, milestones=(55,)))
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class KD:
    """Knowledge distillation: `alpha * CE(labels, s) + (1 - alpha) * T^2 * CE(softmax(t/T), softmax(s/T))`."""

    temperature: float = 6.0
    alpha: float = 0.95


@dataclasses.dataclass(frozen=True)
class LIT:
    """The LIT stage: `(beta * KD + (1 - beta) * sum_k IR_k) / 2`; optional noise on the teacher's activations."""

    beta: float = 0.75
    noise_stddev: float = 0.0


@dataclasses.dataclass(frozen=True)
class SGD:
    """SGD with momentum and coupled L2 weight decay, as PyTorch's."""

    momentum: float = 0.9
    weight_decay: float = 1e-4


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A stage's length and learning rate, which drops 10x at each milestone epoch."""

    epochs: int
    learning_rate: float
    milestones: tuple = ()


TEACHER_STAGE = Schedule(164, 0.1, (81, 122))  # the CIFAR ResNet recipe (He et al. 2016)
LIT_STAGE = Schedule(175, 0.1, (100,))
FINETUNE_STAGE = Schedule(125, 0.01, (55,))
