"""Every option with a fixed set of values, and the checks a configuration makes before TensorFlow starts.

The trainers build their configuration (`lit_tf.experiments.cifar_config`, `lit_tf.experiments.stargan_config`) from
flags and check it before they import TensorFlow, so a typo is one line within a second or
two. This module imports nothing but the standard library: the option tuples live here, and the
modules that act on them import them from here. `check_choice` reads the same everywhere.

Example:

>>> from lit_tf.options import check_choice, resolve_normalization
>>> check_choice("schedule", "milestones", ("milestones", "reference"))
>>> check_choice("schedule", "daily", ("milestones", "reference"))
Traceback (most recent call last):
...
ValueError: schedule must be one of ('milestones', 'reference'). Received: schedule='daily'
>>> resolve_normalization("image_folder"), resolve_normalization("cifar10")
('imagenet', 'cifar')
"""

# The CIFAR experiment (lit_tf.experiments.cifar): what a run trains, and where its students start.
MODES = ("teacher", "lit", "kd", "fitnets", "scratch", "all")
STUDENT_INITS = ("random", "teacher_blocks")
# Which blocks a student cut from its teacher keeps (lit_tf.students.choose_blocks): "importance" is the
# joint choice; "single" and "block_influence" are the rules it is measured against (docs/results.md).
STUDENT_CHOICES = ("spread", "importance", "single", "block_influence")
# Data (lit_tf.data).
DATASETS = ("cifar10", "cifar100", "digits", "image_folder")
NORMALIZATIONS = ("auto", "cifar", "imagenet")  # auto: CIFAR's own for CIFAR, ImageNet's for image folders
CROP_PADDINGS = ("reflect", "zeros")
SPLITS = ("train", "validation", "test")
CELEBA_ATTRIBUTES = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young")  # the StarGAN paper's five
# Training (lit_tf.training, lit_tf.settings, lit_tf.distillation.section_losses) and export.
OPTIMIZERS = ("sgd", "torch_sgd")
SCHEDULE_CONVENTIONS = ("milestones", "reference")
SECTION_BN_UPDATES = ("full_pass", "both_passes")
STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")
QUANTIZATIONS = ("none", "float16", "int8")
# The StarGAN experiment (lit_tf.stargan).
GAN_MODES = ("teacher", "lit", "l2", "scratch", "rand_init")
GAN_OPTIMIZERS = ("adam", "torch_adam")
LR_DECAYS = ("linear", "reference")


def check_choice(name, value, choices):
    """Raises `ValueError` naming `name`, the choices and `value` unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}. Received: {name}={value!r}")


def resolve_normalization(dataset, normalization="auto"):
    """"cifar" or "imagenet": what `normalization` means for `dataset` ("auto" decides by dataset)."""
    check_choice("dataset", dataset, DATASETS)
    check_choice("normalization", normalization, NORMALIZATIONS)
    if normalization != "auto":
        return normalization
    return "imagenet" if dataset == "image_folder" else "cifar"


def check_image_size(image_size, factor, what):
    """Raises `ValueError` unless `image_size` is a positive multiple of `factor` (`what` says why)."""
    if image_size <= 0 or image_size % factor:
        raise ValueError(f"image_size must be a positive multiple of {factor} ({what}). "
                         f"Received: image_size={image_size}")
