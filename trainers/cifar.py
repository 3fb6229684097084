r"""Compress a CIFAR teacher with LIT, end to end: data -> teacher -> student -> export.

    python -m trainers.cifar --flagfile=trainers/configs/quickstart.flags --workdir=/tmp/lit_quickstart
    python -m trainers.cifar --flagfile=trainers/configs/resnet110_to_resnet20.flags \
        --workdir=/tmp/lit_r110_r20 --cifar_dir=/data/cifar-10-batches-py

Flags only; the work is `lit_tf.experiment.run`. Run again with the same flags to
resume a killed run; see README.md for the workdir's contents.
"""

import dataclasses
import sys

from lit_tf import startup  # noqa: E402

startup.import_tensorflow()  # first: quiet, oneDNN on (lit_tf.startup)

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

from lit_tf import experiment  # noqa: E402

# === Run ===
flags.DEFINE_enum("mode", "all", experiment.MODES, "teacher | lit | kd | fitnets | scratch | all.")
flags.DEFINE_string("workdir", None, "Folder of this run: config, checkpoints, logs, result.json, export/.")
flags.DEFINE_integer("seed", 0, "Random seed (validation carve, shuffling, initialisation).")
# === Data ===
flags.DEFINE_string("dataset", "cifar10", "cifar10 | cifar100 (tensorflow-datasets) | digits (bundled, offline) | "
                    "image_folder (--image_dir).")
flags.DEFINE_string("data_dir", None, "tensorflow-datasets folder (default: ~/tensorflow_datasets).")
flags.DEFINE_string("cifar_dir", None, "A local cifar-10-batches-py folder; used instead of tfds.")
flags.DEFINE_string("image_dir", None, "--dataset=image_folder: DIR/train/<class>/*.jpg and DIR/test/<class>/*.jpg.")
flags.DEFINE_float("validation_fraction", 0.1, "Share of the training data held out for model selection.")
flags.DEFINE_bool("augment", True, "Pad-4 random crop and horizontal flip of CIFAR training images.")
flags.DEFINE_enum("normalization", "cifar", ["cifar", "imagenet"],
                  "Channel statistics: the dataset's, or ImageNet's (the reference's; PyTorch CIFAR ResNets need it).")
flags.DEFINE_enum("crop_padding", "reflect", ["reflect", "zeros"], "Border of the random crop (reference: zeros).")
# === Models ===
flags.DEFINE_string("teacher_arch", "resnet110", "Teacher: resnet<6n+2> or resnext<9n+2>.")
flags.DEFINE_string("student_arch", "resnet20", "Student, with the teacher's section shapes.")
flags.DEFINE_string("teacher_weights", None, "A trained teacher: .keras, .weights.h5 of --teacher_arch, or a "
                    "PyTorch state dict of --teacher_arch (.npz; .th/.pt/.pth with torch installed).")
flags.DEFINE_bool("train_teacher", False, "In lit/kd/fitnets modes, train the teacher when no weights are given.")
flags.DEFINE_list("boundaries", ["stem", "section_1", "section_2", "section_3"], "Section boundary layers.")
flags.DEFINE_string("hint_layer", None, "FitNets hint layer (default: the middle boundary).")
# === Teacher training ===
flags.DEFINE_integer("teacher_epochs", 164, "Epochs of teacher training.")
flags.DEFINE_float("teacher_learning_rate", 0.1, "Starting SGD rate of the teacher.")
flags.DEFINE_list("teacher_milestones", ["81", "122"], "Epochs where the teacher's rate drops 10x.")
flags.DEFINE_integer("adapt_epochs", 0, "With --teacher_weights: fine-tune the given teacher on the dataset this "
                     "many epochs before distilling (e.g. a checkpoint trained on other pixels).")
flags.DEFINE_float("adapt_learning_rate", 0.01, "Starting SGD rate of the teacher's adaptation.")
flags.DEFINE_list("adapt_milestones", [], "Epochs where the adaptation's rate drops 10x.")
# === LIT (stage 1) and fine-tune (stage 2); baselines use the same two schedules ===
flags.DEFINE_integer("lit_epochs", 175, "Stage-1 epochs.")
flags.DEFINE_float("lit_learning_rate", 0.1, "Stage-1 starting rate.")
flags.DEFINE_list("lit_milestones", ["100"], "Stage-1 epochs where the rate drops 10x.")
flags.DEFINE_integer("finetune_epochs", 125, "Stage-2 epochs.")
flags.DEFINE_float("finetune_learning_rate", 0.01, "Stage-2 starting rate.")
flags.DEFINE_list("finetune_milestones", ["55"], "Stage-2 epochs where the rate drops 10x.")
flags.DEFINE_float("beta", 0.75, "LIT: weight of KD against the summed IR losses.")
flags.DEFINE_float("temperature", 6.0, "KD temperature.")
flags.DEFINE_float("alpha", 0.95, "KD: weight of the hard-label cross-entropy.")
flags.DEFINE_float("noise_stddev", 0.0, "LIT: Gaussian noise on the teacher activations fed to sections.")
flags.DEFINE_float("momentum", 0.9, "SGD momentum.")
flags.DEFINE_float("weight_decay", 1e-4, "Coupled L2 weight decay.")
flags.DEFINE_enum("optimizer", "sgd", ["sgd", "torch_sgd"], "SGD momentum as Keras, or as PyTorch (the reference).")
flags.DEFINE_enum("schedule", "milestones", ["milestones", "reference"],
                  "Rates drop at each milestone epoch, or one epoch earlier (the reference's scheduler.step()).")
flags.DEFINE_enum("section_bn_updates", "full_pass", ["full_pass", "both_passes"],
                  "LIT: which passes update the sections' BatchNorm moving statistics: the student's full pass "
                  "only, or also the teacher-fed section passes (the reference). Gradients are the same.")
flags.DEFINE_bool("finetune_stem_and_head", True, "Fine-tune the whole student; false keeps the stem and head "
                  "frozen in the fine-tune too, as the reference.")
flags.DEFINE_integer("batch_size", 32, "Global batch size.")
# === Distribution and export ===
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker", "tpu"], "tf.distribute strategy.")
flags.DEFINE_integer("num_gpus", 0, "GPUs for --strategy=mirrored (0: all devices).")
flags.DEFINE_enum("quantize", "none", ["none", "float16", "int8"], "Also export student_<quantize>.tflite.")
flags.DEFINE_bool("export", True, "Export the student to SavedModel and TFLite.")
FLAGS = flags.FLAGS

_INT_LISTS = ("teacher_milestones", "adapt_milestones", "lit_milestones", "finetune_milestones")


def config_from_flags(flag_values=FLAGS):
    """Builds the frozen `ExperimentConfig` from parsed flags."""
    values = {}
    for field in dataclasses.fields(experiment.ExperimentConfig):
        value = flag_values[field.name].value
        if field.name in _INT_LISTS:
            value = tuple(int(v) for v in value)
        elif field.name == "boundaries":
            value = tuple(value)
        values[field.name] = value
    return experiment.ExperimentConfig(**values)


USAGE = """Usage: python -m trainers.cifar --workdir=DIR [--flagfile=FILE] [--FLAG=VALUE ...]

  --workdir: required; the run's folder (a new one, or this same run's to resume it).
  --flagfile: read flags from FILE, one a line (trainers/configs/*.flags); flags after it override it.
  --verbosity: 1 shows TensorFlow's own start-up and log lines.
"""


def main(argv):
    if len(argv) > 1:
        print(f"error: unexpected arguments {argv[1:]}; flags are written --name=value.", file=sys.stderr)
        return 1
    if not FLAGS.workdir:
        print("error: --workdir is required: the folder for this run's checkpoints, logs and results.",
              file=sys.stderr)
        return 1
    logging.set_verbosity(logging.WARNING)  # the SavedModel writer logs every file at INFO
    try:
        config = config_from_flags()
        result = experiment.run(config, FLAGS.workdir)
    except (ValueError, FileNotFoundError, FloatingPointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for name, summary in [("teacher", result.get("teacher")), *result["students"].items()]:
        if summary:
            print(f"[lit_tf] {name:<8} {summary['arch']:<10} test accuracy {summary['accuracy']:.4f}  "
                  f"params {summary['params']:,}  FLOPs {summary['flops']:,}")
    for check in result.get("export", {}).values():
        if "error" in check:
            print(f"warning: {check['error']} The float exports stand.", file=sys.stderr)
    print(f"[lit_tf] result: {FLAGS.workdir}/result.json ({result.get('wall_seconds', 0):.0f} s)")
    return 0


def parse(argv):
    """absl's parser, with a `--help` that exits 0 and bad flags as one `error:` line."""
    if {"-h", "--help", "--helpshort", "--helpfull"} & set(argv[1:]):
        print(__doc__ + "\n" + USAGE + "\nFlags:\n" + (FLAGS.module_help(__name__) or FLAGS.main_module_help()))
        sys.exit(0)
    try:
        return FLAGS(argv)
    except flags.Error as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    app.run(main, flags_parser=parse)
