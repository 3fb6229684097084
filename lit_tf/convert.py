"""Converts a PyTorch checkpoint (CIFAR ResNet or StarGAN generator) into a `.keras` model the trainers take.

    python -m lit_tf.convert --arch=resnet56 --torch_weights=resnet56.npz --out=teacher.keras
    python -m trainers.cifar --teacher_weights=teacher.keras --teacher_arch=resnet56 --normalization=imagenet ...
    python -m lit_tf.convert --arch=stargan_generator --torch_weights=200000-G.ckpt --out=generator.keras

`--torch_weights` is an `.npz` of the state dict (needs only numpy) or a `.th`/`.pt`/`.pth`/`.ckpt`
file (needs torch). A StarGAN generator's sizes (domains, width, residual blocks) are read from
the checkpoint, in the official repository's names or the LIT reference's; `--image_size` is
the side it runs at (128 in the paper). Every name and shape is checked before anything is
written; the saved model is reloaded and must give the same outputs. Bad input: one `error:`
line, exit 1.

Example:

>>> import os, tempfile, numpy as np
>>> from lit_tf import convert, models
>>> folder = tempfile.mkdtemp()
>>> np.savez(os.path.join(folder, "r8.npz"), **models.torch_state_dict(models.CifarResNet(depth=8)))
>>> convert.main(["--arch=resnet8", f"--torch_weights={folder}/r8.npz", f"--out={folder}/r8.keras"])
... # doctest: +ELLIPSIS
wrote .../r8.keras: resnet8, 75,770 weights (75,290 trainable) ...
0
"""

import os
import sys

import numpy as np

from lit_tf import startup

USAGE = "lit-convert --arch=resnet56 --torch_weights=resnet56.npz --out=teacher.keras"
REQUIRED = ("arch", "torch_weights", "out")


def _flags():
    """The converter's flags, absl-style as the trainers' (`--name=value`, `--flagfile`), on their own
    `FlagValues`: nothing is added to the process's global flags."""
    from absl import flags

    values = flags.FlagValues()
    flags.DEFINE_string("arch", None, "resnet<6n+2> of the checkpoint (e.g. resnet56), or stargan_generator.",
                        flag_values=values)
    flags.DEFINE_string("torch_weights", None, ".npz of the state dict, or .th/.pt/.pth/.ckpt (torch).",
                        flag_values=values)
    flags.DEFINE_string("out", None, "The .keras file to write.", flag_values=values)
    flags.DEFINE_integer("num_classes", 10, "Logits of the checkpoint.", flag_values=values)
    flags.DEFINE_integer("image_size", 128, "stargan_generator: the image side.", flag_values=values)
    flags.DEFINE_integer("verbosity", 0, "1 shows TensorFlow's start-up logs.", flag_values=values)
    return values


def _parse(argv):
    """Parsed flags, or `None` after printing `--help` (exit 0) or one `error:` line (exit 1)."""
    from absl import flags

    values = _flags()
    if {"-h", "--help", "--helpshort", "--helpfull"} & set(argv):
        print(__doc__.split("Example:")[0].rstrip() + "\n\nFlags:\n" + values.get_help())
        return 0
    try:
        values(["lit-convert", *argv])
    except flags.Error as error:
        print(f"error: {'; '.join(str(error).splitlines())}. Example: {USAGE}", file=sys.stderr)
        return 1
    missing = [f"--{name}" for name in REQUIRED if values[name].value is None]
    if missing:
        print(f"error: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required. Example: {USAGE}",
              file=sys.stderr)
        return 1
    return values


def _build(arch, torch_weights, num_classes, image_size):
    """The model to load into, and an input to check the saved copy with."""
    from lit_tf import models
    from lit_tf.models import stargan
    from lit_tf.models import stargan_torch
    from lit_tf.models.torch_weights import read_state_dict

    rng = np.random.default_rng(0)
    if arch == "stargan_generator":
        sizes = stargan_torch.generator_sizes(read_state_dict(torch_weights))
        model = stargan.Generator(image_size, sizes["num_domains"], sizes["conv_dim"], sizes["residual_blocks"],
                                  sections=1)
        probe = [rng.uniform(-1, 1, (2, image_size, image_size, 3)).astype("float32"),
                 rng.integers(0, 2, (2, sizes["num_domains"])).astype("float32")]
        return model, probe
    if not arch.startswith("resnet"):
        raise ValueError(f"PyTorch checkpoints convert into CIFAR ResNets (resnet<6n+2>) and StarGAN generators "
                         f"(stargan_generator). Received: arch={arch!r}")
    model = models.get(arch, num_classes=num_classes)
    return model, rng.normal(size=(4, *model.image_shape)).astype("float32")


def convert(arch, torch_weights, out, num_classes=10, image_size=128):
    """Builds `arch`, loads `torch_weights` into it, saves it to `out` and checks the saved copy.

    Returns the converted `keras.Model`. Raises `ValueError`, `FileNotFoundError` or
    `ImportError` with what to do, before writing anything.
    """
    import keras

    from lit_tf import models

    if not out.endswith(".keras"):
        raise ValueError(f"--out must name a .keras file. Received: out={out!r}")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"The folder of --out does not exist: {folder!r}. Create it first.")
    model, probe = _build(arch, torch_weights, num_classes, image_size)
    models.load_torch_weights(model, torch_weights)
    model.save(out)
    difference = float(np.max(np.abs(keras.saving.load_model(out)(probe) - model(probe))))
    if difference > 1e-5:
        os.remove(out)
        raise ValueError(f"The saved model gives other outputs than the converted one (max difference "
                         f"{difference:.2g}); nothing was kept.")
    return model


def main(argv=None):
    argv = list(argv if argv is not None else sys.argv[1:])
    args = _parse(argv)
    if isinstance(args, int):
        return args
    startup.import_tensorflow([""] + argv)
    try:
        model = convert(args.arch, args.torch_weights, args.out, args.num_classes, args.image_size)
    except (ValueError, FileNotFoundError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    if args.arch == "stargan_generator":
        use = (f"{model.residual_blocks} residual blocks, {model.num_domains} domains, conv_dim {model.conv_dim}. "
               f"Use it with python -m trainers.stargan --teacher_weights={args.out}")
    else:
        use = (f"Use it with --teacher_weights={args.out} --teacher_arch={args.arch}; checkpoints trained on "
               "ImageNet statistics (the reference's) also need --normalization=imagenet")
    print(f"wrote {args.out}: {args.arch}, {model.count_params():,} weights ({trainable:,} trainable) from "
          f"{args.torch_weights}. {use}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
