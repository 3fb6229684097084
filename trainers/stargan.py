"""Compress StarGAN's generator with LIT on CelebA: teacher, LIT student, and the paper's baselines.

    python -m trainers.stargan --flagfile=trainers/configs/stargan_celeba_teacher.flags --workdir=/tmp/sg_teacher
    python -m trainers.stargan --flagfile=trainers/configs/stargan_celeba_lit.flags --workdir=/tmp/sg_lit \
        --teacher_weights=/tmp/sg_teacher/models/generator.keras --inception_weights=/data/inception_v3.h5

Flags only; the work is `lit_tf.gan.experiment.run`. Run again with the same flags to resume
a killed run. The flags live in this module's own `FLAGS` (not absl's global one), so this
trainer and `trainers.cifar` can be imported side by side.
"""

import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: keep C++ INFO/WARNING logs out

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

from lit_tf.data import celeba  # noqa: E402
from lit_tf.gan import experiment  # noqa: E402

FLAGS = flags.FlagValues()

# === Run ===
flags.DEFINE_enum("mode", "teacher", experiment.MODES, "teacher | lit | l2 | scratch.", flag_values=FLAGS)
flags.DEFINE_string("workdir", None, "Folder of this run: config, checkpoints, samples, result.json, export/.",
                    flag_values=FLAGS)
flags.DEFINE_integer("seed", 0, "Random seed (shuffling, flips, target domains, initialisation).", flag_values=FLAGS)
# === Data ===
flags.DEFINE_string("data_dir", None, "tensorflow-datasets folder holding celeb_a (default: ~/tensorflow_datasets).",
                    flag_values=FLAGS)
flags.DEFINE_list("attributes", list(celeba.ATTRIBUTES), "CelebA attributes that make the domain label.",
                  flag_values=FLAGS)
flags.DEFINE_integer("image_size", 128, "Image side; a multiple of 4 and of 2**d_strided_layers.", flag_values=FLAGS)
# === Models ===
flags.DEFINE_integer("conv_dim", 64, "Generator's first width (the trunk is 4x wider).", flag_values=FLAGS)
flags.DEFINE_integer("d_conv_dim", 64, "Discriminator's first width.", flag_values=FLAGS)
flags.DEFINE_integer("d_strided_layers", 6, "Discriminator's stride-2 layers (6 at 128 px).", flag_values=FLAGS)
flags.DEFINE_integer("teacher_blocks", 6, "Residual blocks of the teacher generator.", flag_values=FLAGS)
flags.DEFINE_integer("student_blocks", 2, "Residual blocks of the student generator.", flag_values=FLAGS)
flags.DEFINE_integer("sections", 1, "LIT sections the trunk is cut into (1 in the reference).", flag_values=FLAGS)
flags.DEFINE_string("teacher_weights", None, "lit/l2: the teacher generator, models/generator.keras of a teacher run.",
                    flag_values=FLAGS)
flags.DEFINE_string("discriminator_weights", None, "A trained discriminator .keras (used when beta > 0).",
                    flag_values=FLAGS)
# === LIT ===
flags.DEFINE_float("beta", 0.0, "Weight of StarGAN's generator loss against the distillation loss (0: reference).",
                   flag_values=FLAGS)
flags.DEFINE_float("noise_stddev", 0.0, "LIT: Gaussian noise on the teacher activations fed to sections.",
                   flag_values=FLAGS)
# === Training ===
flags.DEFINE_integer("epochs", 200, "Epochs of steps_per_epoch iterations.", flag_values=FLAGS)
flags.DEFINE_integer("steps_per_epoch", 1000, "Iterations an epoch (checkpoints and log lines are per epoch).",
                     flag_values=FLAGS)
flags.DEFINE_integer("decay_steps", 100_000, "The rate decays linearly to 0 over these last iterations.",
                     flag_values=FLAGS)
flags.DEFINE_integer("batch_size", 16, "Batch size.", flag_values=FLAGS)
flags.DEFINE_float("learning_rate", 1e-4, "Adam rate of both networks.", flag_values=FLAGS)
flags.DEFINE_float("beta_1", 0.5, "Adam beta_1.", flag_values=FLAGS)
flags.DEFINE_float("beta_2", 0.999, "Adam beta_2.", flag_values=FLAGS)
flags.DEFINE_integer("n_critic", 5, "Discriminator steps per generator step.", flag_values=FLAGS)
# === Output ===
flags.DEFINE_integer("sample_every", 1000, "Write samples/step_N.png every N iterations.", flag_values=FLAGS)
flags.DEFINE_integer("eval_images", 2000, "Test images translated to every domain for IS and FID.",
                     flag_values=FLAGS)
flags.DEFINE_string("inception_weights", None, "InceptionV3 ImageNet weights (.h5) for Inception score and FID.",
                    flag_values=FLAGS)
flags.DEFINE_string("classifier", None, "Or another .keras classifier, images in [-1, 1] -> [logits, features].",
                    flag_values=FLAGS)
flags.DEFINE_bool("export", True, "Export the trained generator to SavedModel and TFLite.", flag_values=FLAGS)


def config_from_flags(flag_values=FLAGS):
    """Builds the frozen `StarGANConfig` from parsed flags."""
    values = {field.name: flag_values[field.name].value for field in dataclasses.fields(experiment.StarGANConfig)}
    values["attributes"] = tuple(values["attributes"])
    return experiment.StarGANConfig(**values)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not FLAGS.workdir:
        print("error: --workdir is required: the folder for this run's checkpoints, samples and results.",
              file=sys.stderr)
        return 1
    logging.set_verbosity(logging.WARNING)  # the SavedModel writer logs every file at INFO
    try:
        result = experiment.run(config_from_flags(), FLAGS.workdir)
    except (ValueError, FileNotFoundError, FloatingPointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    generator = result["generator"]
    print(f"[lit_tf] generator: {generator['residual_blocks']} blocks, params {generator['params']:,}, "
          f"FLOPs {generator['flops']:,}" + (f", {result['compression']}x smaller than the teacher"
                                             if "compression" in result else ""))
    for name, score in result["scores"].items():
        if score is None:
            print(f"[lit_tf] {name}: no Inception score or FID (pass --inception_weights=PATH)")
        else:
            print(f"[lit_tf] {name}: Inception score {score['inception_score']:.3f}, FID {score['fid']:.3f} "
                  f"({score['images']:,} images)")
    print(f"[lit_tf] wrote {FLAGS.workdir}/result.json in {result['wall_seconds']:.0f} s")
    return 0


def parse(argv):
    """absl's parser for this module's own FLAGS (`app.run` reads the global ones by default)."""
    try:
        return FLAGS(argv)
    except flags.Error as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    app.run(main, flags_parser=parse)
