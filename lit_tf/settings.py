"""The reference's hyper-parameters, written once: one small frozen dataclass per concern.

Every default in lit_tf (`compress`, the distillers, `losses.KDLoss`, the baselines,
`experiments.cifar_config.ExperimentConfig` and through it the CIFAR trainer's flags) comes from here.
The values are those of the LIT reference code (Koratana et al. 2019) for CIFAR ResNets.

Example:

>>> from lit_tf import settings
>>> settings.KD(), settings.LIT()
(KD(temperature=6.0, alpha=0.95), LIT(beta=0.75, noise_stddev=0.0))
>>> settings.LIT_STAGE
Schedule(epochs=175, learning_rate=0.1, milestones=(100,), convention='milestones')
>>> settings.Schedule(125, 0.01, [55], convention="reference")  # lit-code's rates: the drop one epoch early
Schedule(epochs=125, learning_rate=0.01, milestones=(55,), convention='reference')
"""

import dataclasses

from lit_tf.options import SCHEDULE_CONVENTIONS


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
    """A stage's length and learning rate, which drops 10x at each milestone epoch.

    `learning_rate=None` leaves the optimizer's own rate alone. `convention`: "milestones"
    (the rate drops at epoch m) or "reference" (one epoch earlier, as the LIT reference
    code's `scheduler.step()` at each epoch's start); see `lit_tf.training.optimizers.piecewise_schedule`.
    """

    epochs: int
    learning_rate: float = None
    milestones: tuple = ()
    convention: str = "milestones"

    def __post_init__(self):
        object.__setattr__(self, "milestones", tuple(self.milestones))
        if self.convention not in SCHEDULE_CONVENTIONS:
            raise ValueError(f"convention must be one of {SCHEDULE_CONVENTIONS}. "
                             f"Received: convention={self.convention!r}")


def stage_schedule(schedule=None, epochs=None, learning_rate=None, milestones=(), needs_rate=False,
                   name="schedule"):
    """`schedule` (a `Schedule`), or the one the flat keywords describe; never both.

    `needs_rate`: the stage makes its optimizer at the schedule's rate, so `None` is refused.
    `name`: what the caller calls `schedule`, for the errors.

    Raises:
        ValueError: both, neither, a `schedule` that is not a `Schedule`, or a missing rate.
    """
    schedule = _given_schedule(schedule, epochs, learning_rate, milestones, name)
    if needs_rate and schedule.learning_rate is None:
        raise ValueError(f"This stage makes its optimizer at the schedule's learning rate: give one. "
                         f"Received: {name}={schedule}")
    return schedule


def _given_schedule(schedule, epochs, learning_rate, milestones, name):
    if schedule is None:
        if epochs is None:
            raise ValueError("A stage needs schedule=lit_tf.settings.Schedule(epochs, learning_rate, milestones) "
                             "or epochs=N (with learning_rate= and milestones=).")
        return Schedule(epochs, learning_rate, milestones)
    if not isinstance(schedule, Schedule):
        raise ValueError(f"{name} is a lit_tf.settings.Schedule; its convention= says when the rates drop "
                         f"('milestones' or 'reference'). Received: {name}={schedule!r}")
    if epochs is not None or learning_rate is not None or tuple(milestones):
        raise ValueError(f"Pass {name}={schedule} or epochs=/learning_rate=/milestones=, not both. "
                         f"Received: epochs={epochs}, learning_rate={learning_rate}, milestones={milestones}")
    return schedule


TEACHER_STAGE = Schedule(164, 0.1, (81, 122))  # the CIFAR ResNet recipe (He et al. 2016)
LIT_STAGE = Schedule(175, 0.1, (100,))
FINETUNE_STAGE = Schedule(125, 0.01, (55,))
# A student cut out of its trained teacher starts trained: a tenth of the reference's rates, which are
# for the paper's random start (docs/results/cifar10_jpeg_block_choice/: measured on the published 1 + 1 setup).
LIT_STAGE_FROM_TEACHER = dataclasses.replace(LIT_STAGE, learning_rate=LIT_STAGE.learning_rate / 10)
FINETUNE_STAGE_FROM_TEACHER = dataclasses.replace(FINETUNE_STAGE, learning_rate=FINETUNE_STAGE.learning_rate / 10)


def default_stages(trained_start):
    """`(lit, finetune)` schedules: a tenth of the reference's rates for a student that starts as its
    teacher's blocks (`trained_start`), the reference's otherwise.

    >>> default_stages(True)[0].learning_rate, default_stages(False)[0].learning_rate
    (0.01, 0.1)
    """
    return (LIT_STAGE_FROM_TEACHER, FINETUNE_STAGE_FROM_TEACHER) if trained_start else (LIT_STAGE, FINETUNE_STAGE)
