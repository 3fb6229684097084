"""The fine-tune stage of LIT: end-to-end KD of the whole student.

`keras.distillation.Distiller` with `student_loss_weight=alpha` and
`LogitsDistillation(temperature)` computes the reference's KD loss
(see `lit_tf.distillation.losses`); this thin subclass fixes that pairing, defaults the
hard-label loss to sparse cross-entropy on logits, and adds the reference's
coupled L2 weight decay. `finetune_with_kd` runs it as a resumable stage, as
`compress` and the KD and FitNets baselines do.

Example:

>>> import keras, numpy as np
>>> from lit_tf import KDDistiller
>>> def mlp(width):
...     inputs = keras.Input((8,))
...     x = keras.layers.Dense(width, activation="relu")(inputs)
...     return keras.Model(inputs, keras.layers.Dense(3)(x))
>>> distiller = KDDistiller(mlp(32), mlp(4), temperature=4.0, alpha=0.5)
>>> distiller.compile(optimizer="sgd", metrics=["accuracy"])
>>> x, y = np.random.rand(16, 8), np.random.randint(0, 3, 16)
>>> sorted(distiller.fit(x, y, verbose=0).history)  # as the LIT stage: loss, kd_loss
['accuracy', 'kd_loss', 'loss']
"""

import keras

from lit_tf import _compat
from lit_tf import settings
from lit_tf.distillation import losses
from lit_tf.distillation.base import DistillerBase
from lit_tf.structure import folding
from lit_tf.structure import trainability
from lit_tf.training import fit_stage
from lit_tf.training import optimizers


@keras.saving.register_keras_serializable(package="lit_tf")
class KDDistiller(DistillerBase, _compat.TeacherOutputs, keras.distillation.Distiller):
    """Hinton KD with the LIT reference's weighting (alpha on the hard labels).

    Args:
        teacher: `keras.Model` giving logits; frozen.
        student: `keras.Model` giving logits; all its weights train.
        temperature: float > 0.
        alpha: float in [0, 1], the weight of the hard-label cross-entropy.
        weight_decay: float >= 0, PyTorch's coupled weight decay of the student's weights (the
            reference's 1e-4), which `compile` sets on the optimizer (see
            `lit_tf.training.optimizers.with_coupled_weight_decay`); the logged `loss` includes its L2 term.
    """

    def __init__(
        self,
        teacher,
        student,
        temperature=6.0,
        alpha=0.95,
        weight_decay=1e-4,
        name="kd_distiller",
        **kwargs,
    ):
        super().__init__(
            teacher=teacher,
            student=student,
            distillation_losses=losses.logits_distillation(temperature),
            student_loss_weight=alpha,
            name=name,
            **kwargs,
        )
        trainability.freeze(teacher)  # Distiller's own freeze misses a teacher reloaded frozen
        self.temperature = temperature
        self.alpha = alpha
        self.weight_decay = weight_decay
        self.built = teacher.built and student.built
        self.kd_loss_tracker = keras.metrics.Mean(name="kd_loss")

    def teacher_outputs(self, x):
        """`{"final_output": logits}` of the teacher with its BatchNorms folded into its convolutions
        (`lit_tf.structure.folding`): the same logits to float32 rounding, a faster pass. Keras' `Distiller`
        reads them through `lit_tf._compat.TeacherOutputs`."""
        return {"final_output": self.teacher_for_logits()(x, training=False)}

    def teacher_for_logits(self):
        """The teacher as KD runs it: `lit_tf.structure.folding.fold_batch_norm(teacher)`, built once.

        It computes with the teacher's own variables, so it follows their values; a teacher that
        is not functional runs as it is.
        """
        folded = getattr(self, "_folded_teacher", None)
        if folded is None:
            try:
                folded = folding.fold_batch_norm(self.teacher)
            except ValueError:  # not a functional model: no graph to fold
                folded = self.teacher
            trainability.freeze(folded)
            object.__setattr__(self, "_folded_teacher", folded)  # past Keras' tracking: no weights of the distiller
        return folded

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.saving.serialize_keras_object(self.dtype_policy),
            "teacher": keras.saving.serialize_keras_object(self.teacher),
            "student": keras.saving.serialize_keras_object(self.student),
            "temperature": self.temperature,
            "alpha": self.alpha,
            "weight_decay": self.weight_decay,
        }

    def compile(self, optimizer="sgd", loss=None, metrics=None, **kwargs):
        loss = loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        optimizer = optimizers.with_coupled_weight_decay(optimizer, self.weight_decay, "KDDistiller")
        self.teacher_for_logits()  # the folded graph is built here, eagerly, not inside a traced step
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def get_compile_config(self):
        # Distiller compiles the Model with loss=None and keeps the student loss aside: save it too.
        config = super().get_compile_config()
        if config and _compat.distiller_student_loss(self) is not None:
            config["loss"] = keras.saving.serialize_keras_object(_compat.distiller_student_loss(self))
        return config

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training=training)
        # Keras' losses are divided by the replica count; log the KD loss whole, as LITDistiller.
        self.kd_loss_tracker.update_state(loss * losses.replica_count())
        if training:
            loss = loss + losses.logged_weight_decay(self)
        return loss


def accuracy_metric():
    return keras.metrics.SparseCategoricalAccuracy(name="accuracy")


def finetune_with_kd(teacher, student, train_data, val_data=None, *, schedule=None, epochs=None,
                     learning_rate=None, milestones=(), temperature=settings.KD.temperature, alpha=settings.KD.alpha,
                     momentum=settings.SGD.momentum, weight_decay=settings.SGD.weight_decay, optimizer="sgd",
                     stage="finetune", **fit_kwargs):
    """Stage 2 of LIT (and of the KD and FitNets baselines): end-to-end KD of the student.

    Every trainable weight of the student trains. With `val_data` the student keeps its
    best epoch by validation accuracy. `schedule` is a `lit_tf.settings.Schedule` (or
    `epochs=`, `learning_rate=`, `milestones=` in short); `optimizer` is a name or an
    optimizer object (`lit_tf.training.optimizers.for_stage`). Keyword arguments beyond the KD
    ones go to `lit_tf.training.fit_stage`.
    """
    schedule = settings.stage_schedule(schedule, epochs, learning_rate, milestones, needs_rate=True)
    distiller = KDDistiller(teacher, student, temperature=temperature, alpha=alpha, weight_decay=weight_decay)
    distiller.compile(optimizer=optimizers.for_stage(optimizer, schedule.learning_rate, momentum),
                      metrics=[accuracy_metric()])
    return fit_stage(
        distiller, train_data, val_data, schedule=schedule, stage=stage, target=student, **fit_kwargs,
    )
