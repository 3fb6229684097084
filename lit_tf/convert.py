"""Converts a PyTorch checkpoint (CIFAR ResNet or StarGAN generator) into a `.keras` model the trainers take.

`convert(arch, torch_weights, out)` is what `lit-convert` (`python -m trainers.convert`) runs.
`torch_weights` is an `.npz` of the state dict (needs only numpy) or a `.th`/`.pt`/`.pth`/`.ckpt`
file (needs torch). A StarGAN generator's sizes (domains, width, residual blocks) are read from
the checkpoint, in the official repository's names or the LIT reference's; `image_size` is the
side it runs at (128 in the paper). Every name and shape is checked before anything is written;
the saved model is reloaded and must give the same outputs.

Example:

>>> import os, tempfile, numpy as np
>>> from lit_tf import convert, models
>>> folder = tempfile.mkdtemp()
>>> np.savez(os.path.join(folder, "r8.npz"), **models.torch_state_dict(models.CifarResNet(depth=8)))
>>> convert.convert("resnet8", f"{folder}/r8.npz", f"{folder}/r8.keras").count_params()
75770
"""

import os

import numpy as np


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
        raise ValueError(f"out must name a .keras file. Received: out={out!r}")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"The folder of out={out!r} does not exist: {folder!r}. Create it first.")
    model, probe = _build(arch, torch_weights, num_classes, image_size)
    models.load_torch_weights(model, torch_weights)
    model.save(out)
    difference = float(np.max(np.abs(keras.saving.load_model(out)(probe) - model(probe))))
    if difference > 1e-5:
        os.remove(out)
        raise ValueError(f"The saved model gives other outputs than the converted one (max difference "
                         f"{difference:.2g}); nothing was kept.")
    return model
