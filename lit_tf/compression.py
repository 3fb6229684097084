"""`compress()`: both stages of LIT (Koratana et al. 2019) with the reference schedules.

Stage 1 (LIT) trains the student's sections on the teacher's intermediate
representations with SGD (momentum 0.9, lr 0.1, /10 at epoch 100 of 175);
stage 2 fine-tunes the whole student end-to-end with KD (lr 0.01, /10 at epoch
55 of 125). With validation data, the student keeps the weights of its best
fine-tune epoch by validation accuracy; the test split is never consulted.

Example:

>>> import keras, numpy as np
>>> import lit_tf
>>> teacher = lit_tf.models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8))
>>> student = lit_tf.models.CifarResNet(depth=8, image_shape=(16, 16, 3), filters=(8, 8, 8))
>>> x, y = np.random.rand(8, 16, 16, 3), np.random.randint(0, 10, 8)
>>> result = lit_tf.compress(teacher, student, teacher.boundaries, (x, y),
...                          lit_epochs=1, finetune_epochs=1, batch_size=4, verbose=0)
>>> result.student is student, len(result.lit_history.epoch)
(True, 1)
"""

import math
from typing import NamedTuple

import keras

from lit_tf import sections
from lit_tf.finetune import KDDistiller
from lit_tf.lit import LITDistiller


class CompressResult(NamedTuple):
    """What `compress` returns: the trained student and both stages' histories."""

    student: keras.Model
    lit_history: keras.callbacks.History
    finetune_history: keras.callbacks.History


def piecewise_schedule(learning_rate, milestones, factor=0.1):
    """Returns `epoch -> lr`: `learning_rate`, times `factor` at each milestone epoch."""
    milestones = sorted(milestones)

    def schedule(epoch, _=None):
        return learning_rate * factor ** sum(epoch >= m for m in milestones)

    return schedule


class RaiseOnNaN(keras.callbacks.Callback):
    """Stops training with one clear error when an epoch's loss is not finite."""

    def __init__(self, stage):
        super().__init__()
        self.stage = stage

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            raise FloatingPointError(
                f"The {self.stage} loss became {loss} in epoch {epoch + 1}. Lower the "
                "learning rate, check the inputs for NaN/inf, or check that the "
                "teacher gives finite logits."
            )


def _fit(distiller, data, val_data, epochs, schedule, callbacks, stage, **fit_kwargs):
    callbacks = [
        keras.callbacks.LearningRateScheduler(schedule),
        RaiseOnNaN(stage),
        *(callbacks or []),
    ]
    if isinstance(data, tuple):
        x, y = data
    else:
        x, y = data, None
    return distiller.fit(
        x, y, validation_data=val_data, epochs=epochs, callbacks=callbacks, **fit_kwargs
    )


def compress(
    teacher,
    student,
    boundaries,
    train_data,
    val_data=None,
    *,
    student_boundaries=None,
    lit_epochs=175,
    lit_learning_rate=0.1,
    lit_milestones=(100,),
    finetune_epochs=125,
    finetune_learning_rate=0.01,
    finetune_milestones=(55,),
    beta=0.75,
    temperature=6.0,
    alpha=0.95,
    noise_stddev=0.0,
    momentum=0.9,
    weight_decay=1e-4,
    init_from_teacher=True,
    callbacks=None,
    batch_size=None,
    verbose="auto",
):
    """Compresses `teacher` into `student` with LIT, then fine-tunes the student.

    Args:
        teacher: `keras.Model`, functional, trained, giving logits.
        student: `keras.Model`, functional, giving logits; trained in place.
        boundaries: list of str, the teacher's K+1 boundary layer names.
        train_data: `tf.data.Dataset` of `(x, y)` batches, or a tuple of arrays.
        val_data: like `train_data`, or `None`. Carve it from the training
            data: it selects the best fine-tune epoch.
        student_boundaries: list of str, or `None` for the same names.
        lit_epochs, finetune_epochs: int, epochs of each stage.
        lit_learning_rate, finetune_learning_rate: float, starting rates.
        lit_milestones, finetune_milestones: epochs where the rate drops 10x.
        beta, temperature, alpha, noise_stddev: see `LITDistiller`.
        momentum: float, SGD momentum.
        weight_decay: float, coupled L2 weight decay (as PyTorch's SGD).
        init_from_teacher: bool, copy the teacher's stem and head into the
            student first (the reference does).
        callbacks: list of extra `keras.callbacks.Callback`, given to both stages.
        batch_size: int, for array inputs only.
        verbose: passed to `fit`.

    Returns:
        `CompressResult(student, lit_history, finetune_history)`.
    """
    student_boundaries = list(student_boundaries or boundaries)
    if init_from_teacher:
        try:
            sections.copy_stem_and_head(teacher, student, boundaries, student_boundaries)
        except ValueError as error:
            raise ValueError(
                f"{error} Pass init_from_teacher=False to keep the student's own stem and head."
            ) from error
    fit_kwargs = {"batch_size": batch_size, "verbose": verbose}

    if verbose:
        print(f"[lit_tf] Stage 1/2, LIT: {lit_epochs} epochs, sections {student_boundaries[1:]}")
    lit = LITDistiller(
        teacher,
        student,
        boundaries,
        student_boundaries,
        beta=beta,
        temperature=temperature,
        alpha=alpha,
        noise_stddev=noise_stddev,
        weight_decay=weight_decay,
    )
    lit.compile(
        optimizer=keras.optimizers.SGD(lit_learning_rate, momentum=momentum),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    lit_history = _fit(
        lit, train_data, val_data, lit_epochs,
        piecewise_schedule(lit_learning_rate, lit_milestones), callbacks, "LIT", **fit_kwargs,
    )

    if verbose:
        print(f"[lit_tf] Stage 2/2, fine-tune: {finetune_epochs} epochs, whole student")
    sections.freeze_outside_sections(student, student_boundaries, frozen=False)
    finetune = KDDistiller(
        teacher, student, temperature=temperature, alpha=alpha, weight_decay=weight_decay
    )
    finetune.compile(
        optimizer=keras.optimizers.SGD(finetune_learning_rate, momentum=momentum),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    best = []
    if val_data is not None:
        best = [keras.callbacks.EarlyStopping(
            monitor="val_accuracy", mode="max", patience=finetune_epochs + 1,
            restore_best_weights=True, verbose=0,
        )]
    finetune_history = _fit(
        finetune, train_data, val_data, finetune_epochs,
        piecewise_schedule(finetune_learning_rate, finetune_milestones),
        [*best, *(callbacks or [])], "fine-tune", **fit_kwargs,
    )
    return CompressResult(student, lit_history, finetune_history)
