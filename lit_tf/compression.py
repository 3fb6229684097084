"""`compress()`: both stages of LIT (Koratana et al. 2019) with the reference schedules.

Stage 1 (LIT) trains the student's sections on the teacher's intermediate
representations with SGD (momentum 0.9, lr 0.1, /10 at epoch 100 of 175);
stage 2 fine-tunes the whole student end-to-end with KD (lr 0.01, /10 at epoch
55 of 125). A student cut from the teacher's blocks starts trained and gets a
tenth of those rates (`lit_tf.settings.default_stages`). With validation data,
the student keeps the weights of its best fine-tune epoch by validation
accuracy; the test split is never consulted.

Example:

>>> import keras, numpy as np
>>> import lit_tf
>>> teacher = lit_tf.models.CifarResNet(depth=14, image_shape=(16, 16, 3), filters=(8, 8, 8))
>>> student = lit_tf.models.CifarResNet(depth=8, image_shape=(16, 16, 3), filters=(8, 8, 8))
>>> x, y = np.random.rand(8, 16, 16, 3), np.random.randint(0, 10, 8)
>>> result = lit_tf.compress(teacher, student, teacher.boundaries, (x, y),
...                          lit=1, finetune=1, batch_size=4, verbose=0)
>>> result.student is student, len(result.lit_history.epoch)
(True, 1)
"""

import dataclasses
from typing import NamedTuple

import keras

from lit_tf import quiet
from lit_tf import settings
from lit_tf.checks import as_batches
from lit_tf.checks import check_data
from lit_tf.checks import check_logits
from lit_tf.checks import check_one_input
from lit_tf.checks import first_inputs
from lit_tf.checks import flat_labels
from lit_tf.checks import warn_if_untrained
from lit_tf.distillation.finetune import accuracy_metric
from lit_tf.distillation.finetune import finetune_with_kd
from lit_tf.distillation.lit import LITDistiller
from lit_tf.options import STUDENT_CHOICES
from lit_tf.options import check_choice
from lit_tf.structure import graph
from lit_tf.structure import weight_copy
from lit_tf.structure.blocks import find_boundaries
from lit_tf.students import plan_student
from lit_tf.students import shallower
from lit_tf.training import fit_stage
from lit_tf.training import optimizers


class CompressResult(NamedTuple):
    """What `compress` returns: the trained student and both stages' histories."""

    student: keras.Model
    lit_history: keras.callbacks.History
    finetune_history: keras.callbacks.History


def _check_arguments(boundaries):
    if isinstance(boundaries, str) or not all(isinstance(b, str) for b in boundaries):
        raise ValueError(f"boundaries must be a list of K+1 layer names, e.g. ['stem', 'section_1', 'section_2']. "
                         f"Received: boundaries={boundaries!r}")


def _stage_schedule(stage, given, default):
    """`given`, a `settings.Schedule` with a rate, or an int: `default` for that many epochs; `None`: `default`."""
    if given is None:
        return default
    if isinstance(given, int) and not isinstance(given, bool):
        if given < 0:
            raise ValueError(f"{stage} is a Schedule or a number of epochs >= 0. Received: {stage}={given!r}")
        return dataclasses.replace(default, epochs=given)
    schedule = settings.stage_schedule(given, needs_rate=True, name=stage)  # a Schedule with a rate
    if not isinstance(schedule.epochs, int) or schedule.epochs < 0:
        raise ValueError(f"{stage}'s epochs must be an int >= 0. Received: {stage}={schedule}")
    return schedule


def _cut_student(teacher, boundaries, keep, student_init, choose, targets, data, verbose):
    """The student cut out of the teacher: `keep` blocks a section, or the plan that meets a target."""
    given = {name: value for name, value in targets.items() if value is not None}
    if given and keep is not None:
        raise ValueError(f"Pass keep= or a target ({', '.join(given)}), not both: a target decides how many blocks "
                         f"each section keeps. Received: keep={keep!r}, {given}")
    if given:
        plan = plan_student(teacher, data, boundaries=boundaries, **targets)
        if verbose:
            print(plan, flush=True)
        keep = plan.keep
    elif keep is None:
        raise ValueError("Pass a student, keep= to cut one out of the teacher (the blocks each section keeps, e.g. "
                         "keep=3; lit_tf.structure.find_blocks lists them), or a target (e.g. target_params=1/3). "
                         "Received: student=None, keep=None")
    return shallower(teacher, keep, boundaries, init=student_init, choose=choose, data=data)


def _student_and_boundaries(teacher, student, boundaries, student_boundaries, cut_student):
    """The student (cut from the teacher by `cut_student(boundaries)` when `None`) and both boundary
    lists, found when not given."""
    found = boundaries is None
    if found:
        boundaries = find_boundaries(teacher)
    if student is None:
        if student_boundaries is not None:
            raise ValueError("student_boundaries names a student's layers; a student cut from the teacher has "
                             f"the teacher's. Received: student_boundaries={student_boundaries!r}")
        return cut_student(boundaries), list(boundaries), list(boundaries)
    if student_boundaries is None and found and not set(boundaries) <= set(graph.layer_outputs(student)):
        student_boundaries = find_boundaries(student)  # a student of other layer names: its own stages
    return student, boundaries, student_boundaries or boundaries


def _check_no_cut_arguments(student, keep, choose, targets):
    given = {name: value for name, value in {"keep": keep, **targets}.items() if value is not None}
    if choose != "spread":
        given["choose"] = choose
    if given:
        raise ValueError(f"{', '.join(given)} cut a student out of the teacher, and a student was given: pass one "
                         f"or the other. Received: {given}, student='{student.name}'")


# The defaults are the reference's values written out, so the signature shows them; tests/test_settings.py keeps
# them equal to lit_tf.settings.
def compress(
    teacher,
    student=None,
    boundaries=None,
    train_data=None,
    val_data=None,
    *,
    keep=None,
    student_init="teacher",
    choose="spread",
    target_params=None,
    target_flops=None,
    target_latency=None,
    student_boundaries=None,
    lit=None,
    finetune=None,
    beta=0.75,
    temperature=6.0,
    alpha=0.95,
    noise_stddev=0.0,
    momentum=0.9,
    weight_decay=1e-4,
    optimizer="sgd",
    finetune_stem_and_head=True,
    section_bn_updates="full_pass",
    init_from_teacher=True,
    callbacks=None,
    checkpoint_dir=None,
    report_data=None,
    batch_size=None,
    steps_per_epoch=None,
    verbose="lines",
    summary=True,
):
    """Compresses `teacher` into `student` with LIT, then fine-tunes the student.

    Without a student, `keep` cuts one out of the teacher (`lit_tf.students.shallower`): the
    teacher with only `keep` blocks of each section, started from the teacher's own blocks.

    Args:
        teacher: `keras.Model`, functional, trained, giving logits.
        student: `keras.Model`, functional, giving logits, trained in place; or `None` to cut
            it from the teacher with `keep`.
        boundaries: list of str, the teacher's K+1 boundary layer names, or `None` for
            `lit_tf.structure.find_boundaries(teacher)` (one section per stage of blocks).
        train_data: `(x, y)` batches as `fit` takes them: a `tf.data.Dataset`, a tuple of
            arrays, a `keras.utils.PyDataset`, or an endless generator (with `steps_per_epoch`).
            Integer class ids; no sample weights (LIT's losses weigh every image alike).
        val_data: like `train_data` (not a generator), or `None`. Carve it from the training
            data: it selects the best fine-tune epoch.
        keep: without a student, the blocks each section keeps (an int, or one entry per
            section; see `lit_tf.students.shallower`); `None` with a student.
        student_init: without a student, "teacher" (its kept blocks start as the teacher's)
            or "random" (the paper's start; stem and head are the teacher's either way).
        choose: without a student, which blocks a count in `keep` keeps: "spread" (evenly) or
            "importance" (the set whose sections, run on the teacher's activations over a few
            batches of `train_data`, lose least; see `lit_tf.students.shallower`).
        target_params, target_flops, target_latency: without a student and `keep`, one target,
            a fraction of the teacher's (e.g. `1/3`): parameters, FLOPs, or TFLite batch-1
            latency on this machine. The blocks each section keeps are chosen to meet it and
            lose least (`lit_tf.students.plan_student`), and the plan is printed before training.
        student_boundaries: list of str, or `None` for the same names (or, for a student
            without them, its own `find_boundaries`).
        lit, finetune: each stage's `lit_tf.settings.Schedule(epochs, learning_rate, milestones,
            convention)`: its length, its starting rate, the epochs where the rate drops 10x, and
            whether it drops at them ("milestones") or one epoch earlier ("reference", as the
            reference's `scheduler.step()` at each epoch's start). An int is the epochs alone, at the
            default's rate and milestones. `None` (the default): the reference's, LIT 175 epochs at 0.1
            (/10 at 100), fine-tune 125 at 0.01 (/10 at 55), for a student given or cut with
            `student_init="random"`; for a student cut from the teacher's blocks (`student_init="teacher"`,
            which starts trained) the same epochs at a tenth of the rates, 0.01 and 0.001
            (`lit_tf.settings.default_stages`; the measurement: docs/results/cifar10_jpeg_block_choice/).
        beta, temperature, alpha, noise_stddev: see `LITDistiller`.
        momentum: float, SGD momentum.
        weight_decay: float, PyTorch's coupled weight decay (`wd·w` added to each gradient),
            applied by each stage's optimizer: "sgd", "torch_sgd" or a `lit_tf.training.optimizers`
            `CoupledSGD`/`TorchSGD`/`TorchAdam`; another optimizer needs `weight_decay=0`.
        optimizer: "sgd" (Keras' SGD with `momentum`), "torch_sgd" (PyTorch's momentum buffer, as
            the reference; `lit_tf.training.TorchSGD`), another Keras optimizer's name ("adam"),
            or a `keras.optimizers.Optimizer`; each stage trains with its own copy, its rate set
            by the stage's schedule (`lit_tf.training.optimizers.for_stage`).
        finetune_stem_and_head: bool. True fine-tunes the whole student, as the paper
            describes stage 2; False keeps the stem and head weights frozen in the
            fine-tune too (their BatchNorm still in training mode), as the reference
            code does because its `requires_grad=False` is never reset.
        section_bn_updates: "full_pass" or "both_passes" (the reference's): whether the
            teacher-fed section calls of the LIT stage update BatchNorm moving statistics
            too; the gradients are the same (see `lit_tf.distillation.section_losses.SectionLosses`).
        init_from_teacher: bool, copy the teacher's stem and head into the
            student first (the reference does).
        callbacks: list of extra `keras.callbacks.Callback`, given to both stages.
        checkpoint_dir: str or `None`. When set, each stage backs up every epoch
            and writes its logs under it; run again after a crash, `compress`
            continues from the last completed epoch and skips finished stages.
        report_data: a `tf.data.Dataset` of `(x, y)` batches (the test split), or `None`.
            With `checkpoint_dir`, the student's accuracy on it after every epoch of each
            stage goes to `<stage>/test_accuracy.csv`: a learning curve for reports, never
            used to choose an epoch.
        batch_size: int, for array inputs only.
        steps_per_epoch: int or `None`: batches an epoch, for an endless `train_data`.
        verbose: "lines" (default): one line an epoch (stage, losses, s/epoch, ETA), readable in a log
            file as on a terminal, as the trainers print; 0 for silence; "auto", 1 or 2: Keras' own.
        summary: bool. With `verbose` not 0, end with one line for the teacher and one for the
            student: accuracy on `val_data` (when given), parameters and FLOPs.

    Returns:
        `CompressResult(student, lit_history, finetune_history)`; the student comes back
        compiled for `evaluate` (cross-entropy on logits, accuracy).
    """
    quiet.start_devices()  # TensorFlow's device probe, without its CUDA line on a machine with no GPU
    if train_data is None:
        raise ValueError("compress needs train_data: a tf.data.Dataset of (image, label) batches or a tuple (x, y).")
    lit_default, finetune_default = settings.default_stages(student is None and student_init == "teacher")
    lit_schedule = _stage_schedule("lit", lit, lit_default)
    finetune_schedule = _stage_schedule("finetune", finetune, finetune_default)
    _check_arguments(boundaries or [])
    if student_boundaries is not None:
        _check_arguments(student_boundaries)
    check_choice("choose", choose, STUDENT_CHOICES)
    targets = {"target_params": target_params, "target_flops": target_flops, "target_latency": target_latency}
    if student is not None:
        _check_no_cut_arguments(student, keep, choose, targets)
    check_one_input(teacher)
    train_data = _checked_data(teacher, train_data, "train_data", steps_per_epoch)  # a plan runs the teacher on it
    student, boundaries, student_boundaries = _student_and_boundaries(
        teacher, student, boundaries, student_boundaries,
        lambda found: _cut_student(teacher, found, keep, student_init, choose, targets, train_data, verbose))
    # Cuts both models once and checks their boundary shapes; nothing trains before the data is checked.
    distiller = LITDistiller(teacher, student, boundaries, student_boundaries, beta=beta, temperature=temperature,
                             alpha=alpha, noise_stddev=noise_stddev, weight_decay=weight_decay,
                             section_bn_updates=section_bn_updates)
    # An optimizer that cannot apply the weight decay is one error here, before anything is written.
    distiller.compile(optimizer=optimizers.for_stage(optimizer, lit_schedule.learning_rate, momentum,
                                                     coupled_weight_decay=weight_decay, owner="compress()"),
                      metrics=[accuracy_metric()])
    check_logits(teacher, "teacher", first_inputs(train_data))
    check_logits(student, "student")
    val_data = None if val_data is None else _checked_data(teacher, val_data, "val_data")
    warn_if_untrained(teacher, val_data if val_data is not None else train_data,
                      "val_data" if val_data is not None else "train_data")
    if init_from_teacher:
        _copy_stem_and_head(distiller)
    fit_kwargs = {"batch_size": batch_size, "steps_per_epoch": steps_per_epoch, "verbose": verbose,
                  "callbacks": callbacks, "checkpoint_dir": checkpoint_dir, "report_data": report_data}
    if verbose:
        print(f"[lit_tf] Stage 1/2, LIT: {lit_schedule.epochs} epochs, sections {student_boundaries[1:]}")
    # The student's best epoch is chosen after fine-tuning, not here.
    lit_history = fit_stage(distiller, train_data, val_data, schedule=lit_schedule, stage="lit", target=student,
                            keep_best=False, **fit_kwargs)
    finetune_history = _finetune(distiller, train_data, val_data, finetune_schedule, finetune_stem_and_head, verbose,
                                 dict(temperature=temperature, alpha=alpha, momentum=momentum,
                                      weight_decay=weight_decay, optimizer=optimizer, **fit_kwargs))
    # Ready for `student.evaluate(test_data)`: its loss and accuracy on integer class ids.
    student.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=[accuracy_metric()])
    if verbose and summary:
        _print_summary(teacher, student, val_data, batch_size)
    return CompressResult(student, lit_history, finetune_history)


def _checked_data(teacher, data, name, steps_per_epoch=None):
    """`data` as batches `fit` takes, checked against the teacher, class ids flat."""
    data = as_batches(data, name, steps_per_epoch=steps_per_epoch)
    check_data(teacher, data, name)
    return flat_labels(data)


def _copy_stem_and_head(lit):
    try:
        weight_copy.copy_stem_and_head_between(lit.section_losses.teacher_cut, lit.section_losses.student_cut)
    except ValueError as error:
        raise ValueError(f"{error} Pass init_from_teacher=False to keep the student's own stem and head.") from error


def _finetune(lit, train_data, val_data, schedule, stem_and_head, verbose, settings_and_fit):
    """Stage 2: KD on the whole student, or on its sections with stem and head frozen (the reference's)."""
    if verbose:
        trained = "whole student" if stem_and_head else "sections (stem and head frozen, as the reference)"
        print(f"[lit_tf] Stage 2/2, fine-tune: {schedule.epochs} epochs, {trained}")
    student_cut = lit.section_losses.student_cut
    student_cut.unfreeze_stem_and_head()
    if not stem_and_head:
        student_cut.freeze_stem_and_head_weights()
    try:
        return finetune_with_kd(lit.teacher, lit.student, train_data, val_data, schedule=schedule, **settings_and_fit)
    finally:
        student_cut.unfreeze_stem_and_head()


def _print_summary(teacher, student, val_data, batch_size):
    """One line a model, as the trainers end: accuracy on `val_data` (when given), parameters, FLOPs."""
    import tensorflow as tf

    from lit_tf.experiments import reporting

    if isinstance(val_data, tuple):
        val_data = tf.data.Dataset.from_tensor_slices(val_data).batch(batch_size or 32)
    named = {"teacher": (teacher, teacher.name), "student": (student, student.name)}
    width = max(10, len(teacher.name), len(student.name))
    for name, summary in reporting.model_summaries(named, val_data).items():
        print(reporting.summary_line(name, summary, "val", width), flush=True)
