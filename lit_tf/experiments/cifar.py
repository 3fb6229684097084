"""A whole compression experiment, resumable: data -> teacher -> students -> result.json -> export.

`run(config, workdir)` is what `python -m trainers.cifar` does after parsing its
flags. Modes: `teacher` (train the teacher only), `lit` (Koratana et al. 2019),
`kd` (Hinton KD), `fitnets` (hint training, then KD), `scratch` (the student
on labels alone), and `all` (teacher, then every student: the paper's
comparison). Each student method gets the same two-stage budget.

The workdir holds `config.json`, one folder per training stage (checkpoints,
`history.csv`, TensorBoard logs), `models/*.keras`, `result.json` and
`export/`. Killed at any point and run again with the same configuration, it
continues from the last completed epoch.

Example:

>>> import os, tempfile
>>> from lit_tf import models
>>> from lit_tf.experiments import cifar as experiment
>>> from lit_tf.experiments.cifar_config import ExperimentConfig
>>> teacher = os.path.join(tempfile.mkdtemp(), "teacher.keras")
>>> models.get("resnet8").save(teacher)  # a trained teacher in practice
>>> config = ExperimentConfig(
...     mode="lit", dataset="digits", teacher_arch="resnet8", student_arch="resnet8", teacher_weights=teacher,
...     lit_epochs=1, finetune_epochs=1, batch_size=256, export=False)
>>> result = experiment.run(config, tempfile.mkdtemp())  # doctest: +ELLIPSIS
[...
>>> sorted(result["students"])
['lit']
"""

import dataclasses
import os
import warnings

import keras

from lit_tf import models
from lit_tf import structure
from lit_tf import students
from lit_tf.compression import compress
from lit_tf.data import registry
from lit_tf.distillation import baselines
from lit_tf.experiments import runs
from lit_tf.experiments.cifar_config import ASSUMED_IN_OLDER_RUNS
from lit_tf.experiments.reporting import accuracy
from lit_tf.experiments.reporting import export_student
from lit_tf.experiments.reporting import model_summaries
from lit_tf.experiments.reporting import model_summary
from lit_tf.structure import sections
from lit_tf.training import distribute
from lit_tf.training import progress


def _new_model(config, arch, replicas):
    num_classes, image_shape = registry.describe(config.dataset, config.image_dir)
    return models.get(arch, num_classes=num_classes, image_shape=image_shape, synchronized_bn=replicas > 1)


def _load_teacher(config, replicas):
    if config.teacher_weights.endswith(".keras"):
        return keras.saving.load_model(config.teacher_weights)
    teacher = _new_model(config, config.teacher_arch, replicas)
    if config.teacher_weights.endswith((".npz", *models.TORCH_SUFFIXES)):
        models.load_torch_weights(teacher, config.teacher_weights)
        return teacher
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras warns once per layer before it raises
            teacher.load_weights(config.teacher_weights)
    except ValueError as error:
        raise ValueError(
            f"teacher_weights={config.teacher_weights!r} does not fit teacher_arch={config.teacher_arch!r} "
            f"({_first_sentence(error)}): pass the teacher_arch those weights were saved from, or a .keras "
            "model.") from None
    return teacher


def _first_sentence(error):
    """Keras' loading error in a few words: how many layers failed, or its first sentence."""
    text = " ".join(str(error).split())
    if "could not be loaded" in text:
        return text[:text.index("could not be loaded")] + "could not be loaded"
    return text.split(". ")[0]


def _student_keep(config, teacher, data):
    """The blocks a student cut from `teacher` keeps: `student_arch`'s counts (spread, at `student_blocks`,
    or chosen by importance), or the plan that meets the config's target (printed)."""
    if config.student_targets:
        plan = students.plan_student(teacher, data["validation"], boundaries=list(config.boundaries),
                                     **config.student_targets)
        print(plan, flush=True)
        return plan.keep
    counts = [len(blocks) for blocks in structure.find_blocks(_new_model(config, config.student_arch, 1),
                                                             list(config.boundaries))]
    if config.student_blocks:
        if any(len(config.student_blocks) != count for count in counts):
            raise ValueError(f"student_blocks keeps {len(config.student_blocks)} blocks a section, but "
                             f"{config.student_arch} has {counts}. Received: student_blocks={config.student_blocks}")
        return [list(config.student_blocks)] * len(counts)
    return students.choose_blocks(teacher, counts, list(config.boundaries), config.student_choose,
                                  data and data["validation"])


def _student(config, teacher, replicas, keep=None):
    """A new student: `student_arch` built at random, or cut out of the teacher keeping `keep`."""
    if config.student_init == "random":
        return _new_model(config, config.student_arch, replicas)
    return students.shallower(teacher, keep, list(config.boundaries), init="teacher", name=config.student_arch)


def _students(config):
    return STUDENT_METHODS if config.mode == "all" else (() if config.mode == "teacher" else (config.mode,))


def _kd_settings(config):
    return dict(temperature=config.temperature, alpha=config.alpha, momentum=config.momentum,
                weight_decay=config.weight_decay, optimizer=config.optimizer)


def _lit(config, teacher, student, data, fit_kwargs):
    compress(teacher, student, list(config.boundaries), data["train"], data["validation"],
             lit=config.lit_schedule, finetune=config.finetune_schedule, beta=config.beta,
             noise_stddev=config.noise_stddev, finetune_stem_and_head=config.finetune_stem_and_head,
             section_bn_updates=config.section_bn_updates, summary=False,  # the run ends with its own
             **_kd_settings(config), **fit_kwargs)


def _kd(config, teacher, student, data, fit_kwargs):
    baselines.distill_kd(teacher, student, data["train"], data["validation"], stage1=config.lit_schedule,
                         stage2=config.finetune_schedule, **_kd_settings(config), **fit_kwargs)


def _fitnets(config, teacher, student, data, fit_kwargs):
    boundaries = list(config.boundaries)
    hint = config.hint_layer or boundaries[len(boundaries) // 2]
    baselines.fitnets(teacher, student, hint, data["train"], data["validation"], stage1=config.lit_schedule,
                      stage2=config.finetune_schedule, **_kd_settings(config), **fit_kwargs)


def _scratch(config, teacher, student, data, fit_kwargs):
    del teacher  # labels alone, over the same two schedules
    for number, schedule in ((1, config.lit_schedule), (2, config.finetune_schedule)):
        baselines.train_supervised(student, data["train"], data["validation"], schedule=schedule,
                                   momentum=config.momentum, weight_decay=config.weight_decay,
                                   optimizer=config.optimizer, stage=f"scratch_stage{number}",
                                   keep_best=number == 2, **fit_kwargs)


# The student methods, each `(config, teacher, student, data, fit_kwargs)`: two stages on the
# same two schedules (LIT's stage 1 and fine-tune), so only the method differs.
METHODS = {"lit": _lit, "kd": _kd, "fitnets": _fitnets, "scratch": _scratch}
STUDENT_METHODS = tuple(METHODS)


def _teacher(config, replicas):
    """The teacher, loaded from `teacher_weights` or built to be trained; `None` for `--mode=scratch`.

    Loaded once per run, before the workdir is claimed: weights that do not fit fail here.
    """
    keras.utils.set_random_seed(config.seed)  # a teacher trained here starts from the seed's weights
    if config.teacher_weights:
        return _load_teacher(config, replicas)
    if config.mode == "scratch" and config.student_init == "random":
        return None
    return _new_model(config, config.teacher_arch, replicas)


def _check_student(config, teacher):
    """Fails before anything is trained or written when the student cannot be built or cut like the teacher,
    or its target cannot be met.

    A typo costs seconds, not a claimed workdir.
    """
    if config.mode == "teacher":
        return
    if config.student_targets:
        students.check_target(teacher, list(config.boundaries), **config.student_targets)
        return
    student = _new_model(config, config.student_arch, 1)
    if teacher is not None:
        sections.check_compatible(teacher, student, list(config.boundaries), list(config.boundaries))
        if config.student_init == "teacher_blocks":  # the kept blocks exist (which ones, chosen after adapting)
            _student_keep(dataclasses.replace(config, student_choose="spread"), teacher, data=None)


def _data(config):
    return {
        split: registry.provide_dataset(config.dataset, split, config.batch_size, data_dir=config.data_dir,
                                        cifar_dir=config.cifar_dir, image_dir=config.image_dir,
                                        validation_fraction=config.validation_fraction,
                                        augment=config.augment, seed=config.seed,
                                        normalization=config.normalization, crop_padding=config.crop_padding)
        for split in ("train", "validation", "test")
    }


def _train(config, teacher, data, replicas, fit_kwargs, notes):
    """Returns `{"teacher": model, method: student, ...}`, trained (or loaded when done).

    Adds what the result reports beyond the models to `notes`.
    """
    trained = {} if teacher is None else {"teacher": teacher}
    supervised = dict(momentum=config.momentum, weight_decay=config.weight_decay, optimizer=config.optimizer,
                      **fit_kwargs)
    if "teacher" in trained and not config.teacher_weights:
        print(f"[lit_tf] teacher: {config.teacher_arch}, {config.teacher_epochs} epochs", flush=True)
        baselines.train_supervised(
            trained["teacher"], data["train"], data["validation"], schedule=config.teacher_schedule,
            stage="teacher", **supervised)
    if config.adapt_epochs:
        notes["teacher_accuracy_before_adaptation"] = round(accuracy(trained["teacher"], data["test"]), 4)
        print(f"[lit_tf] teacher: {config.teacher_arch} from {config.teacher_weights}, adapted for "
              f"{config.adapt_epochs} epochs", flush=True)
        baselines.train_supervised(
            trained["teacher"], data["train"], data["validation"], schedule=config.adapt_schedule,
            stage="teacher_adapt", **supervised)
    keep = None
    if config.student_init == "teacher_blocks" and _students(config):
        keep = _student_keep(config, trained["teacher"], data)
        notes["student_keep"] = keep
        notes["student_start"] = model_summary(_student(config, trained["teacher"], replicas, keep), data["test"],
                                               config.student_arch)
    for method in _students(config):
        source = "labels" if method == "scratch" else config.teacher_arch
        start = " (started from the teacher's blocks)" if config.student_init == "teacher_blocks" else ""
        print(f"[lit_tf] {method}: {source} -> {config.student_arch}{start}", flush=True)
        keras.utils.set_random_seed(config.seed)
        trained[method] = _student(config, trained.get("teacher"), replicas, keep)
        METHODS[method](config, trained.get("teacher"), trained[method], data, fit_kwargs)
    return trained


def planned_epochs(config):
    """The epochs of every stage `run` trains: the teacher's, then two stages a student."""
    uses_teacher = config.mode != "scratch" or config.student_init == "teacher_blocks"
    teacher = config.teacher_epochs if uses_teacher and not config.teacher_weights else 0
    return teacher + config.adapt_epochs + len(_students(config)) * (config.lit_epochs + config.finetune_epochs)


def run(config, workdir):
    """Runs `config` in `workdir` (resuming what is there) and returns the result dict.

    The skeleton is `lit_tf.experiments.runs.run`'s; this module says what each of its steps does.

    Args:
        config: `ExperimentConfig`.
        workdir: str, a new or empty folder, or one holding this same configuration.
    """
    def prepare():
        strategy = distribute.get_strategy(config.strategy, config.num_gpus)  # first: before any TF op
        data = _data(config)  # bad data and bad models fail here, before the workdir is claimed
        with strategy.scope():
            teacher = _teacher(config, strategy.num_replicas_in_sync)
        _check_student(config, teacher)
        # notes: what training finds that the result reports (filled by _train)
        return {"strategy": strategy, "data": data, "teacher": teacher, "notes": {}}

    def train(prepared):
        strategy, data = prepared["strategy"], prepared["data"]
        # Non-chief workers keep their own backups (they must restore too) but write no results.
        checkpoint_dir = workdir if distribute.is_chief() else os.path.join(workdir, "workers",
                                                                            distribute.task_name())
        with strategy.scope():
            fit_kwargs = {"checkpoint_dir": checkpoint_dir, "verbose": "lines",
                          "callbacks": [progress.RunProgress(planned_epochs(config))],
                          "report_data": data["test"] if config.test_curve else None}
            return _train(config, prepared["teacher"], data, strategy.num_replicas_in_sync, fit_kwargs,
                          prepared["notes"])

    def report(prepared, trained):
        return _report(config, workdir, prepared["data"], trained, prepared["notes"])

    return runs.run(config, workdir, runs.Steps(prepare, train, report), ASSUMED_IN_OLDER_RUNS)


def _report(config, workdir, data, trained, notes):
    """The result: every model's test accuracy, size and FLOPs, the epochs, and the chief's exports."""
    result = {"mode": config.mode, "dataset": config.dataset}
    named = {m: (trained[m], config.teacher_arch if m == "teacher" else config.student_arch) for m in trained}
    summaries = model_summaries(named, data["test"])  # every model in one pass over the test split
    if "teacher" in trained:
        result["teacher"] = summaries["teacher"]
        if "teacher_accuracy_before_adaptation" in notes:
            result["teacher"]["accuracy_before_adaptation"] = notes["teacher_accuracy_before_adaptation"]
    if "student_start" in notes:  # the teacher's kept blocks before any training
        result["student_start"] = notes["student_start"]
        result["student_start"]["kept_blocks"] = notes["student_keep"]
    result["students"] = {m: summaries[m] for m in _students(config)}
    main = "lit" if config.mode == "all" else config.mode
    if main in result["students"]:
        result["student"] = result["students"][main]
    trained_teacher = "teacher" in trained and not config.teacher_weights
    result["epochs"] = {"teacher": config.teacher_epochs if trained_teacher else 0,
                        "teacher_adaptation": config.adapt_epochs,
                        "stage1": config.lit_epochs, "stage2": config.finetune_epochs}
    if distribute.is_chief() and "student" in result and config.export:
        result["export"] = export_student(trained[main], os.path.join(workdir, "export"), data, config.quantize,
                                          normalization=registry.normalization_stats(config.dataset,
                                                                                     config.normalization))
    return result
