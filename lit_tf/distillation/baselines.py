"""The paper's comparison rows, on the same code path as LIT: scratch, KD and FitNets.

Every method gets LIT's two-stage budget: a stage-1 schedule (LIT's: lr 0.1)
and a stage-2 schedule (LIT's fine-tune: lr 0.01), so only the method differs.

- `train_supervised`: cross-entropy on the labels (the teacher, and the
  `scratch` student);
- `distill_kd`: Hinton KD with the reference's weighting, both stages;
- `fitnets`: Romero et al. 2015. Stage 1 trains the student up to its hint
  layer to regress the teacher's hint layer (MSE, through Keras'
  `FeatureDistillation`) from the *input*, not from teacher activations as LIT
  does; stage 2 is KD. Teacher and student have the same width here, so no
  regressor is needed.

Example:

>>> import keras, numpy as np
>>> from lit_tf.distillation import baselines
>>> from lit_tf.models import CifarResNet
>>> model = CifarResNet(depth=8, image_shape=(16, 16, 3), filters=(8, 8, 8))
>>> x, y = np.random.rand(8, 16, 16, 3), np.random.randint(0, 10, 8)
>>> history = baselines.train_supervised(model, (x, y), epochs=1, learning_rate=0.1, batch_size=4, verbose=0)
>>> history.epoch
[0]
"""

import keras

from lit_tf import settings
from lit_tf.distillation.base import DistillerBase
from lit_tf.distillation.finetune import accuracy_metric
from lit_tf.distillation.finetune import finetune_with_kd
from lit_tf.structure import sections
from lit_tf.structure import trainability
from lit_tf.training import fit_stage
from lit_tf.training import optimizers


def train_supervised(model, train_data, val_data=None, *, schedule=None, epochs=None, learning_rate=None,
                     milestones=(), momentum=settings.SGD.momentum, weight_decay=settings.SGD.weight_decay,
                     optimizer="sgd", stage="supervised", **fit_kwargs):
    """Trains `model` on the labels alone (SGD with momentum, piecewise rate); compiles `model`.

    `schedule` is a `lit_tf.settings.Schedule` (or `epochs=`, `learning_rate=`,
    `milestones=` in short). `weight_decay` is PyTorch's coupled one, applied by the
    optimizer (`lit_tf.training.optimizers.for_stage`); the logged loss is the cross-entropy alone.
    Keyword arguments beyond these go to `lit_tf.training.fit_stage`.
    """
    schedule = settings.stage_schedule(schedule, epochs, learning_rate, milestones, needs_rate=True)
    model.compile(
        optimizers.for_stage(optimizer, schedule.learning_rate, momentum, coupled_weight_decay=weight_decay),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[accuracy_metric()],
    )
    return fit_stage(model, train_data, val_data, schedule=schedule, stage=stage, target=model, **fit_kwargs)


def distill_kd(teacher, student, train_data, val_data=None, *, stage1, stage2,
               temperature=settings.KD.temperature, alpha=settings.KD.alpha, momentum=settings.SGD.momentum,
               weight_decay=settings.SGD.weight_decay, optimizer="sgd", **fit_kwargs):
    """Hinton KD of `student` over both stages' schedules.

    Args:
        stage1, stage2: `lit_tf.settings.Schedule`s, LIT's and the fine-tune's.
    """
    kd = dict(temperature=temperature, alpha=alpha, momentum=momentum, weight_decay=weight_decay,
              optimizer=optimizer)
    first = finetune_with_kd(teacher, student, train_data, val_data, schedule=stage1, **kd, stage="kd_stage1",
                             keep_best=False, **fit_kwargs)
    second = finetune_with_kd(teacher, student, train_data, val_data, schedule=stage2, **kd, stage="kd_stage2",
                              **fit_kwargs)
    return first, second


class HintDistiller(DistillerBase, keras.distillation.Distiller):
    """FitNets' hint stage: Keras' `Distiller` with one `FeatureDistillation` loss and no
    label loss. Logs `loss` (the hint MSE) alone: Distiller's `student_loss` is 0 here,
    `distillation_loss` and `total_loss` repeat `loss`, and the student's accuracy means
    nothing while its layers after the hint do not train.
    """

    def __init__(self, teacher, student, hint_layer, student_hint_layer, **kwargs):
        super().__init__(
            teacher, student,
            distillation_losses=keras.distillation.FeatureDistillation(
                loss=keras.losses.MeanSquaredError(), teacher_layer_name=hint_layer,
                student_layer_name=student_hint_layer),
            student_loss_weight=0.0, **kwargs)
        trainability.freeze(teacher)  # Distiller's own freeze misses a teacher reloaded frozen


def _layers_after(model, layer_name):
    names = [layer.name for layer in model.layers]
    return model.layers[names.index(layer_name) + 1:]


def fitnets(teacher, student, hint_layer, train_data, val_data=None, *, stage1, stage2,
            student_hint_layer=None, temperature=settings.KD.temperature, alpha=settings.KD.alpha,
            momentum=settings.SGD.momentum, weight_decay=settings.SGD.weight_decay,
            optimizer="sgd", **fit_kwargs):
    """FitNets: hint training up to `hint_layer`, then KD of the whole student.

    Args:
        hint_layer: str, the teacher layer whose output is the hint (FitNets
            uses a middle one; the trainer uses the middle section boundary).
        stage1, stage2: `lit_tf.settings.Schedule`s, the hint stage's and the KD stage's.
    """
    student_hint_layer = student_hint_layer or hint_layer
    (hint,), (guided,) = sections.boundary_tensors(teacher, [hint_layer]), sections.boundary_tensors(
        student, [student_hint_layer])
    if tuple(hint.shape[1:]) != tuple(guided.shape[1:]):
        raise ValueError(
            f"FitNets hint layer '{hint_layer}' gives shape {tuple(hint.shape[1:])} in the teacher but "
            f"'{student_hint_layer}' gives {tuple(guided.shape[1:])} in the student; this FitNets has no "
            "regressor, so choose layers of the same shape."
        )
    after_hint = [layer for layer in _layers_after(student, student_hint_layer) if layer.trainable]
    for layer in after_hint:  # they get no gradient from the hint loss
        layer.trainable = False
    hints = HintDistiller(teacher, student, hint_layer, student_hint_layer)
    hints.compile(optimizers.for_stage(optimizer, stage1.learning_rate, momentum),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    try:
        first = fit_stage(hints, train_data, val_data, schedule=stage1, stage="fitnets_hints", target=student,
                          keep_best=False, **fit_kwargs)
    finally:
        for layer in after_hint:
            layer.trainable = True
    second = finetune_with_kd(
        teacher, student, train_data, val_data, schedule=stage2, temperature=temperature, alpha=alpha,
        momentum=momentum, weight_decay=weight_decay, optimizer=optimizer, stage="fitnets_kd", **fit_kwargs,
    )
    return first, second

