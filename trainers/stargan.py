r"""Compress StarGAN's generator with LIT on CelebA: teacher, LIT student, and the paper's baselines.

    python -m trainers.stargan --flagfile=trainers/configs/stargan_celeba_teacher.flags --workdir=/tmp/sg_teacher
    python -m trainers.stargan --flagfile=trainers/configs/stargan_celeba_lit.flags --workdir=/tmp/sg_lit \
        --teacher_weights=/tmp/sg_teacher/models/generator.keras --inception_weights=/data/inception_v3.h5

Flags only; the work is `lit_tf.experiments.stargan.run`. Run again with the same flags to resume
a killed run. The flags live in this module's own `FLAGS` (not absl's global one), so this
trainer and `trainers.cifar` can be imported side by side.
"""

import dataclasses

from absl import flags

from lit_tf import options
from lit_tf.experiments import stargan_config as gan_config

if __package__:  # trainers.* in a checkout, lit_tf_trainers.* when installed
    from . import config_flags
    from . import entry
else:  # run as a file
    from trainers import config_flags
    from trainers import entry

FLAGS = flags.FlagValues()
DEFAULTS = gan_config.StarGANConfig()  # the flags' defaults are the config's


_flag = config_flags.definer(FLAGS, DEFAULTS, __name__)


# === Run ===
_flag("enum", "mode", "teacher | lit | l2 | scratch | rand_init (untrained generators, scored).",
      enum_values=options.GAN_MODES)
_flag("string", "workdir", "Folder of this run: config, checkpoints, samples, result.json, export/.", default=None)
_flag("integer", "seed", "Random seed (shuffling, flips, target domains, initialisation).")
config_flags.define_deterministic(_flag)
# === Data ===
_flag("string", "data_dir", "tensorflow-datasets folder holding celeb_a (default: ~/tensorflow_datasets).")
_flag("list", "attributes", "CelebA attributes that make the domain label.")
_flag("integer", "image_size", "Image side; a multiple of 4 and of 2**d_strided_layers.")
# === Models ===
_flag("integer", "conv_dim", "Generator's first width (the trunk is 4x wider).")
_flag("integer", "d_conv_dim", "Discriminator's first width.")
_flag("integer", "d_strided_layers", "Discriminator's stride-2 layers (6 at 128 px).")
_flag("integer", "teacher_blocks", "Residual blocks of the teacher generator.")
_flag("integer", "student_blocks", "Residual blocks of the student generator.")
_flag("integer", "sections", "LIT sections the trunk is cut into (1 in the reference).")
_flag("string", "teacher_weights", "lit/l2: the teacher generator: models/generator.keras of a teacher run, or a "
      "PyTorch state dict in the official StarGAN or lit-code names (.npz; .ckpt/.pth with torch) of "
      "--teacher_blocks blocks.")
_flag("string", "discriminator_weights", "A trained discriminator .keras (used when beta > 0).")
# === LIT ===
_flag("float", "beta", "Weight of StarGAN's generator loss against the distillation loss (0: reference).")
_flag("float", "noise_stddev", "LIT: Gaussian noise on the teacher activations fed to sections.")
# === Training ===
_flag("integer", "epochs", "Epochs of steps_per_epoch iterations.")
_flag("integer", "steps_per_epoch", "Iterations an epoch (checkpoints and log lines are per epoch).")
_flag("integer", "decay_steps", "The rate decays linearly to 0 over these last iterations.")
_flag("integer", "batch_size", "Batch size.")
_flag("float", "learning_rate", "Adam rate of both networks.")
_flag("float", "beta_1", "Adam beta_1.")
_flag("float", "beta_2", "Adam beta_2.")
_flag("integer", "n_critic", "Discriminator steps per generator step; without a discriminator (LIT, L2 at beta 0) "
      "each step stands for the reference's one update in n_critic iterations.")
_flag("enum", "lr_decay", "linear: the rate falls linearly to 0 over the last --decay_steps; reference: as the "
      "code computes it, 1e-9 less every 1,000 iterations of that tail (1e-4 in effect).",
      enum_values=options.LR_DECAYS)
_flag("enum", "optimizer", "adam (Keras') or torch_adam (PyTorch's arithmetic, the reference's).",
      enum_values=options.GAN_OPTIMIZERS)
# === Output ===
_flag("integer", "sample_every", "Write samples/step_N.png every N iterations.")
_flag("integer", "eval_images", "Test images translated to every domain for IS and FID.")
_flag("string", "inception_weights", "InceptionV3 ImageNet weights (.h5) for Inception score and FID.")
_flag("string", "classifier", "Or another .keras classifier, images in [-1, 1] -> [logits, features].")
_flag("bool", "export", "Export the trained generator to SavedModel and TFLite.")

def config_from_flags(flag_values=FLAGS):
    """Builds the frozen `StarGANConfig` from parsed flags."""
    values = {field.name: flag_values[field.name].value for field in dataclasses.fields(gan_config.StarGANConfig)}
    values["attributes"] = tuple(values["attributes"])
    return gan_config.StarGANConfig(**values)


def execute(config, flag_values=FLAGS):
    """Runs the checked configuration (`lit_tf.experiments.stargan.run`) and prints the result lines."""
    from lit_tf.experiments import reporting
    from lit_tf.experiments import stargan as experiment

    config_flags.apply_deterministic(flag_values.deterministic)
    result = experiment.run(config, flag_values.workdir)
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
    print(reporting.result_line(flag_values.workdir, result["wall_seconds"]))
    return 0


def progress(config, flag_values=FLAGS):
    """`(epochs done, epochs planned)` of the run in `--workdir`."""
    from lit_tf.experiments import workdir

    return workdir.epochs_done(flag_values.workdir), config.epochs


COMMAND = entry.Command(
    name="lit-stargan", module=__spec__.name if __spec__ else "trainers.stargan", doc=__doc__, flags=FLAGS,
    config_from_flags=config_from_flags, execute=execute, progress=progress,
    required=(("workdir", "the folder for this run's checkpoints, samples and results"),))


def run():
    """The installed `lit-stargan` command."""
    entry.run(COMMAND)


if __name__ == "__main__":
    run()
