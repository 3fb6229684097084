"""Convert a PyTorch checkpoint (CIFAR ResNet or StarGAN generator) into a `.keras` model the trainers take.

    lit-convert --arch=resnet56 --torch_weights=resnet56.npz --out=teacher.keras
    lit-cifar --teacher_weights=teacher.keras --teacher_arch=resnet56 --normalization=imagenet ...
    lit-convert --arch=stargan_generator --torch_weights=200000-G.ckpt --out=generator.keras

In a checkout, `python -m trainers.convert` does the same. `--torch_weights` is an `.npz` of the
state dict (needs only numpy) or a `.th`/`.pt`/`.pth`/`.ckpt` file (needs torch); the work is
`lit_tf.convert.convert`: every name and shape is checked before anything is written, and the
saved model is reloaded and must give the same outputs. Bad input: one `error:` line, exit 1.
"""

import os

from absl import flags

if __package__:  # trainers.* in a checkout, lit_tf_trainers.* when installed
    from . import entry
else:  # run as a file
    from trainers import entry

USAGE = "lit-convert --arch=resnet56 --torch_weights=resnet56.npz --out=teacher.keras"
FLAGS = flags.FlagValues()  # its own: nothing is added to the process's global flags
flags.DEFINE_string("arch", None, "resnet<6n+2> of the checkpoint (e.g. resnet56), or stargan_generator.",
                    flag_values=FLAGS)
flags.DEFINE_string("torch_weights", None, ".npz of the state dict, or .th/.pt/.pth/.ckpt (torch).", flag_values=FLAGS)
flags.DEFINE_string("out", None, "The .keras file to write.", flag_values=FLAGS)
flags.DEFINE_integer("num_classes", 10, "Logits of the checkpoint.", flag_values=FLAGS)
flags.DEFINE_integer("image_size", 128, "stargan_generator: the image side.", flag_values=FLAGS)
flags.DEFINE_integer("verbosity", 0, "1 shows TensorFlow's start-up logs.", flag_values=FLAGS)


def config_from_flags(flag_values=FLAGS):
    """`(arch, torch_weights, out, num_classes, image_size)`, the paths checked."""
    missing = [f"--{name}" for name in ("arch", "torch_weights", "out") if flag_values[name].value is None]
    if missing:
        raise ValueError(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required. "
                         f"Example: {USAGE}")
    if not os.path.exists(flag_values.torch_weights):
        raise FileNotFoundError(f"No PyTorch weights at {flag_values.torch_weights!r}.")
    return (flag_values.arch, flag_values.torch_weights, flag_values.out, flag_values.num_classes,
            flag_values.image_size)


def execute(config, flag_values=FLAGS):
    """Converts, then says what was written and how to use it."""
    import numpy as np

    from lit_tf import convert

    arch, torch_weights, out = config[:3]
    model = convert.convert(*config)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    if arch == "stargan_generator":
        use = (f"{model.residual_blocks} residual blocks, {model.num_domains} domains, conv_dim {model.conv_dim}. "
               f"Use it with lit-stargan --teacher_weights={out}")
    else:
        use = (f"Use it with --teacher_weights={out} --teacher_arch={arch}; checkpoints trained on "
               "ImageNet statistics (the reference's) also need --normalization=imagenet")
    print(f"wrote {out}: {arch}, {model.count_params():,} weights ({trainable:,} trainable) from "
          f"{torch_weights}. {use}.")
    return 0


COMMAND = entry.Command(name="lit-convert", module=__spec__.name if __spec__ else "trainers.convert", doc=__doc__,
                        flags=FLAGS, config_from_flags=config_from_flags, execute=execute)


def main(argv=None):
    """Runs the converter on `argv` (flags only; default the command line); returns the exit status."""
    import sys

    return entry.main(COMMAND, ["lit-convert", *(sys.argv[1:] if argv is None else argv)])


def run():
    """The installed `lit-convert` command."""
    entry.run(COMMAND)


if __name__ == "__main__":
    run()
