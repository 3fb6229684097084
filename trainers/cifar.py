r"""Compress a CIFAR teacher with LIT, end to end: data -> teacher -> student -> export.

    lit-cifar --flagfile=quickstart --workdir=/tmp/lit_quickstart   # installed; a shipped flagfile by name
    python -m trainers.cifar --flagfile=trainers/configs/quickstart.flags --workdir=/tmp/lit_quickstart
    python -m trainers.cifar --flagfile=trainers/configs/resnet110_to_resnet20.flags \
        --workdir=/tmp/lit_r110_r20 --cifar_dir=/data/cifar-10-batches-py

Flags only; the work is `lit_tf.experiments.cifar.run`. Run again with the same flags to
resume a killed run; see README.md for the workdir's contents.
"""

import dataclasses
import sys

from absl import flags

from lit_tf import options
from lit_tf.experiments import cifar_config as experiment_config

if __package__:  # trainers.* in a checkout, lit_tf_trainers.* when installed
    from . import config_flags
    from . import entry
else:  # run as a file
    from trainers import config_flags
    from trainers import entry

FLAGS = flags.FLAGS
_flag = config_flags.definer(FLAGS, experiment_config.ExperimentConfig(), __name__)  # defaults: the config's

# === Run ===
_flag("enum", "mode", "teacher | lit | kd | fitnets | scratch | all.", enum_values=options.MODES)
_flag("string", "workdir", "Required. Folder of this run: config, checkpoints, logs, result.json, export/ (a new one, "
      "or this same run's to resume it).", default=None)
_flag("integer", "seed", "Random seed (validation carve, shuffling, initialisation).")
config_flags.define_deterministic(_flag)
# === Data ===
_flag("string", "dataset", "cifar10 | cifar100 (tensorflow-datasets) | digits (bundled, offline) | "
      "image_folder (--image_dir).")
_flag("string", "data_dir", "tensorflow-datasets folder (default: ~/tensorflow_datasets).")
_flag("string", "cifar_dir", "A local cifar-10-batches-py folder; used instead of tfds.")
_flag("string", "image_dir", "--dataset=image_folder: DIR/train/<class>/*.jpg and DIR/test/<class>/*.jpg.")
_flag("float", "validation_fraction", "Share of the training data held out for model selection.")
_flag("bool", "augment", "Pad-4 random crop and horizontal flip of CIFAR training images.")
_flag("enum", "normalization", "Channel statistics: auto (CIFAR's for CIFAR, ImageNet's for image folders), cifar, "
      "or imagenet (the reference's; PyTorch CIFAR ResNets need it).", enum_values=options.NORMALIZATIONS,
      default="auto")  # the config resolves it, per dataset
_flag("enum", "crop_padding", "Border of the random crop (reference: zeros).", enum_values=options.CROP_PADDINGS)
# === Models ===
_flag("string", "teacher_arch", "Teacher: resnet<6n+2> or resnext<9n+2>.")
_flag("string", "student_arch", "Student, with the teacher's section shapes.")
_flag("string", "teacher_weights", "A trained teacher: .keras, .weights.h5 of --teacher_arch, or a PyTorch state "
      "dict of --teacher_arch (.npz; .th/.pt/.pth with torch installed).")
_flag("bool", "train_teacher", "In lit/kd/fitnets modes, train the teacher when no weights are given.")
_flag("list", "boundaries", "Section boundary layers.")
_flag("enum", "student_init", "Where every student starts: random (the paper's), or teacher_blocks: the teacher with "
      "--student_arch's number of blocks a section, started from the teacher's weights (lit_tf.students.shallower).",
      enum_values=options.STUDENT_INITS)
_flag("list", "student_blocks", "With --student_init=teacher_blocks: the teacher's block indices each section keeps, "
      "from 0 (e.g. 0,1,2: the first three); default spread, first and last included (0,4,8 of 9).")
_flag("enum", "student_choose", "With --student_init=teacher_blocks: which blocks --student_arch's counts keep: "
      "spread (evenly, first and last included), importance (the set whose sections, run on the teacher's "
      "activations, lose least), or single / block_influence (the best single scores; lit_tf.students.choose_blocks).",
      enum_values=options.STUDENT_CHOICES)
_flag("float", "target_params", "With --student_init=teacher_blocks, instead of --student_arch's counts: a fraction "
      "of the teacher's parameters (e.g. 0.33); how many blocks each section keeps, and which, is chosen to meet it "
      "and lose least (lit_tf.students.plan_student), and the plan printed before training.")
_flag("float", "target_flops", "Like --target_params, a fraction of the teacher's FLOPs.")
_flag("float", "target_latency", "Like --target_params, a fraction of the teacher's TFLite batch-1 latency, measured "
      "on this machine.")
_flag("string", "hint_layer", "FitNets hint layer (default: the middle boundary).")
# === Teacher training ===
_flag("integer", "teacher_epochs", "Epochs of teacher training.")
_flag("float", "teacher_learning_rate", "Starting SGD rate of the teacher.")
_flag("list", "teacher_milestones", "Epochs where the teacher's rate drops 10x.")
_flag("integer", "adapt_epochs", "With --teacher_weights: fine-tune the given teacher on the dataset this many "
      "epochs before distilling (e.g. a checkpoint trained on other pixels).")
_flag("float", "adapt_learning_rate", "Starting SGD rate of the teacher's adaptation.")
_flag("list", "adapt_milestones", "Epochs where the adaptation's rate drops 10x.")
# === LIT (stage 1) and fine-tune (stage 2); baselines use the same two schedules ===
_flag("integer", "lit_epochs", "Stage-1 epochs.")
_flag("float", "lit_learning_rate", "Stage-1 starting rate (default: the reference's 0.1; 0.01 with "
      "--student_init=teacher_blocks, a student that starts trained).", default=None)
_flag("list", "lit_milestones", "Stage-1 epochs where the rate drops 10x.")
_flag("integer", "finetune_epochs", "Stage-2 epochs.")
_flag("float", "finetune_learning_rate", "Stage-2 starting rate (default: the reference's 0.01; 0.001 with "
      "--student_init=teacher_blocks).", default=None)
_flag("list", "finetune_milestones", "Stage-2 epochs where the rate drops 10x.")
_flag("float", "beta", "LIT: weight of KD against the summed IR losses.")
_flag("float", "temperature", "KD temperature.")
_flag("float", "alpha", "KD: weight of the hard-label cross-entropy.")
_flag("float", "noise_stddev", "LIT: Gaussian noise on the teacher activations fed to sections.")
_flag("float", "momentum", "SGD momentum.")
_flag("float", "weight_decay", "Coupled L2 weight decay.")
_flag("enum", "optimizer", "SGD momentum as Keras, or as PyTorch (the reference).", enum_values=options.OPTIMIZERS)
_flag("enum", "schedule", "Rates drop at each milestone epoch, or one epoch earlier (the reference's "
      "scheduler.step()).", enum_values=options.SCHEDULE_CONVENTIONS)
_flag("enum", "section_bn_updates", "LIT: which passes update the sections' BatchNorm moving statistics: the "
      "student's full pass only, or also the teacher-fed section passes (the reference). Gradients are the same.",
      enum_values=options.SECTION_BN_UPDATES)
_flag("bool", "finetune_stem_and_head", "Fine-tune the whole student; false keeps the stem and head frozen in the "
      "fine-tune too, as the reference.")
_flag("integer", "batch_size", "Global batch size.")
# === Distribution and export ===
_flag("enum", "strategy", "tf.distribute strategy.", enum_values=options.STRATEGIES)
_flag("integer", "num_gpus", "GPUs for --strategy=mirrored (0: all devices).")
_flag("enum", "quantize", "Also export student_<quantize>.tflite.", enum_values=options.QUANTIZATIONS)
_flag("bool", "export", "Export the student to SavedModel and TFLite.")
# === Reports ===
_flag("bool", "test_curve", "Record every stage's test accuracy after each epoch in <stage>/test_accuracy.csv: a "
      "learning curve for reports, never used to choose an epoch (validation does).")

_INT_LISTS = ("teacher_milestones", "adapt_milestones", "lit_milestones", "finetune_milestones", "student_blocks")


def config_from_flags(flag_values=FLAGS):
    """Builds the frozen `ExperimentConfig` from parsed flags."""
    values = {}
    for field in dataclasses.fields(experiment_config.ExperimentConfig):
        value = flag_values[field.name].value
        if field.name in _INT_LISTS:
            value = tuple(int(v) for v in value)
        elif field.name == "boundaries":
            value = tuple(value)
        values[field.name] = value
    return experiment_config.ExperimentConfig(**values)


USAGE = """Usage: lit-cifar (or python -m trainers.cifar) --workdir=DIR [--flagfile=FILE] [--FLAG=VALUE ...]

  --flagfile: read flags from FILE, one a line, or a shipped one by name (quickstart, resnet110_to_resnet20,
      ...: trainers/configs/*.flags); flags after it override it.
  --verbosity: 1 shows TensorFlow's own start-up and log lines.
"""


def _flag_help():
    listed = (FLAGS.module_help(__name__) or FLAGS.main_module_help()).strip("\n").split("\n")
    if listed and not listed[0].startswith(" "):  # absl's module heading ("__main__:")
        listed = listed[1:]
    return "\n".join(listed)


def execute(config, flag_values=FLAGS):
    """Runs the checked configuration (`lit_tf.experiments.cifar.run`) and prints the result lines."""
    from lit_tf.experiments import cifar as experiment
    from lit_tf.experiments import reporting

    config_flags.apply_deterministic(flag_values.deterministic)
    result = experiment.run(config, flag_values.workdir)
    for name, summary in [("teacher", result.get("teacher")), *result["students"].items()]:
        if summary:
            print(reporting.summary_line(name, summary))
    for check in result.get("export", {}).values():
        if "error" in check:
            print(f"warning: {check['error']} The float exports stand.", file=sys.stderr)
    print(reporting.result_line(flag_values.workdir, result.get("wall_seconds", 0)))
    return 0


def progress(config, flag_values=FLAGS):
    """`(epochs done, epochs planned)` of the run in `--workdir`."""
    from lit_tf.experiments import cifar as experiment
    from lit_tf.experiments import workdir

    return workdir.epochs_done(flag_values.workdir), experiment.planned_epochs(config)


COMMAND = entry.Command(
    name="lit-cifar", module=__spec__.name if __spec__ else "trainers.cifar", doc=__doc__ + "\n" + USAGE,
    flags=FLAGS, config_from_flags=config_from_flags, execute=execute, progress=progress,
    required=(("workdir", "the folder for this run's checkpoints, logs and results"),), flag_help=_flag_help)


def run():
    """The installed `lit-cifar` command."""
    entry.run(COMMAND)


if __name__ == "__main__":
    run()
