"""Converts a PyTorch CIFAR ResNet checkpoint into a `.keras` model the trainers take as teacher.

    python -m lit_tf.convert --arch=resnet56 --torch_weights=resnet56.npz --out=teacher.keras
    python -m trainers.cifar --teacher_weights=teacher.keras --teacher_arch=resnet56 --normalization=imagenet ...

`--torch_weights` is an `.npz` of the state dict (needs only numpy) or a `.th`/`.pt`/`.pth`
file (needs torch). Every name and shape is checked before anything is written; the saved
model is reloaded and must give the same logits. Bad input: one `error:` line, exit 1.

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

import argparse
import os
import sys

import numpy as np

from lit_tf import startup


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m lit_tf.convert",
        description="Convert a PyTorch CIFAR ResNet state dict into a .keras teacher for lit_tf.",
    )
    parser.add_argument("--arch", required=True, help="resnet<6n+2> of the checkpoint, e.g. resnet56.")
    parser.add_argument("--torch_weights", required=True, help=".npz of the state dict, or .th/.pt/.pth (torch).")
    parser.add_argument("--out", required=True, help="The .keras file to write.")
    parser.add_argument("--num_classes", type=int, default=10, help="Logits of the checkpoint (default 10).")
    parser.add_argument("--verbosity", type=int, default=0, help="1 shows TensorFlow's start-up logs.")
    return parser


def convert(arch, torch_weights, out, num_classes=10):
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
    if not arch.startswith("resnet"):
        raise ValueError(f"PyTorch checkpoints convert into CIFAR ResNets (resnet<6n+2>). Received: arch={arch!r}")
    model = models.get(arch, num_classes=num_classes)
    models.load_torch_weights(model, torch_weights)
    model.save(out)
    probe = np.random.default_rng(0).normal(size=(4, *model.image_shape)).astype("float32")
    difference = float(np.max(np.abs(keras.saving.load_model(out)(probe) - model(probe))))
    if difference > 1e-5:
        os.remove(out)
        raise ValueError(f"The saved model gives other logits than the converted one (max difference "
                         f"{difference:.2g}); nothing was kept.")
    return model


def main(argv=None):
    args = _parser().parse_args(argv)
    startup.import_tensorflow([""] + (argv if argv is not None else sys.argv[1:]))
    try:
        model = convert(args.arch, args.torch_weights, args.out, args.num_classes)
    except (ValueError, FileNotFoundError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    print(f"wrote {args.out}: {args.arch}, {model.count_params():,} weights ({trainable:,} trainable) from "
          f"{args.torch_weights}. Use it with --teacher_weights={args.out} --teacher_arch={args.arch}; "
          "checkpoints trained on ImageNet statistics (the reference's) also need --normalization=imagenet.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
