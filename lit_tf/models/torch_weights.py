"""PyTorch state dicts in and out of `CifarResNet` and StarGAN's generator and discriminator.

CIFAR ResNet names are those of the LIT reference code and of the common PyTorch CIFAR
ResNets: `conv1`, `bn1`, `layer{1,2,3}.{i}.conv{1,2}`, `layer{1,2,3}.{i}.bn{1,2}`,
`linear` (a leading `module.`, from `DataParallel`, is accepted; the
`num_batches_tracked` counters are ignored). StarGAN's are the official repository's or
the LIT reference's, recognised from the names (`lit_tf.models.stargan_torch`).
Convolutions are OIHW in PyTorch and HWIO in Keras; the linear layer is `[out, in]`.

Example:

>>> import numpy as np
>>> from lit_tf import models
>>> source, target = models.CifarResNet(depth=8), models.CifarResNet(depth=8)
>>> state_dict = models.torch_state_dict(source)
>>> state_dict["layer2.0.conv1.weight"].shape  # OIHW
(32, 16, 3, 3)
>>> models.load_torch_weights(target, state_dict)
>>> x = np.random.rand(2, 32, 32, 3).astype("float32")
>>> bool(np.allclose(source(x), target(x)))
True
"""

import os
import re

import numpy as np

from lit_tf.models import stargan
from lit_tf.models import stargan_torch
from lit_tf.models.resnet import CifarResNet

BN_FIELDS = ("weight", "bias", "running_mean", "running_var")  # Keras: gamma, beta, moving mean/variance
TORCH_SUFFIXES = (".th", ".pt", ".pth", ".ckpt")


def torch_layout(model, naming="official"):
    """`{PyTorch name: (Keras variable, "conv" | "linear" | "vector")}` of a CIFAR ResNet or a StarGAN network.

    The kind says how the layouts differ: "conv" OIHW vs HWIO, "linear" transposed.
    `naming` ("official" or "lit_code") picks the StarGAN generator's names.
    """
    if isinstance(model, stargan.Generator):
        return stargan_torch.generator_layout(model, naming)
    if isinstance(model, stargan.Discriminator):
        return stargan_torch.discriminator_layout(model)
    if not isinstance(model, CifarResNet):
        raise ValueError(
            "PyTorch state dicts load into CIFAR ResNets (lit_tf.models.CifarResNet, e.g. "
            "models.get('resnet56')) and StarGAN's networks (lit_tf.models.stargan.Generator, Discriminator). "
            f"Received: model={model.name!r} of type {type(model).__name__}"
        )
    pairs = [("conv1", "stem_conv"), ("bn1", "stem_bn"), ("linear", "head")]
    blocks = (model.depth - 2) // 6
    for stage in (1, 2, 3):
        for i in range(blocks):
            for j in (1, 2):
                keras_name = f"section_{stage}_block{i + 1}"
                pairs += [(f"layer{stage}.{i}.conv{j}", f"{keras_name}_conv{j}"),
                          (f"layer{stage}.{i}.bn{j}", f"{keras_name}_bn{j}")]
    layout = {}
    for torch_name, keras_name in pairs:
        variables = model.get_layer(keras_name).weights
        if torch_name.startswith("linear"):
            layout.update({"linear.weight": (variables[0], "linear"), "linear.bias": (variables[1], "vector")})
        elif ".bn" in torch_name or torch_name == "bn1":
            layout.update({f"{torch_name}.{f}": (v, "vector") for f, v in zip(BN_FIELDS, variables)})
        else:
            layout[f"{torch_name}.weight"] = (variables[0], "conv")
    return layout


def _to_torch(value, kind):
    return {"conv": lambda v: v.transpose(3, 2, 0, 1), "linear": lambda v: v.T, "vector": lambda v: v}[kind](value)


def _to_keras(value, kind):
    return {"conv": lambda v: v.transpose(2, 3, 1, 0), "linear": lambda v: v.T, "vector": lambda v: v}[kind](value)


def torch_state_dict(model, naming="official"):
    """The weights of a CIFAR ResNet or StarGAN network as a PyTorch state dict of numpy arrays.

    No counters, and no InstanceNorm running statistics (load with `strict=False` in PyTorch).
    """
    layout = torch_layout(model, naming)
    return {name: _to_torch(np.asarray(variable), kind) for name, (variable, kind) in layout.items()}


def read_state_dict(source):
    """`source` as `{name: numpy array}`, from a mapping, an `.npz` or a PyTorch file."""
    if not isinstance(source, (str, os.PathLike)):
        return {name: np.asarray(value) for name, value in dict(source).items()}
    path = os.fspath(source)
    if not path.endswith((".npz", *TORCH_SUFFIXES)):
        raise ValueError(f"PyTorch weights are read from .npz, {', '.join(TORCH_SUFFIXES)} files or a mapping. "
                         f"Received: source={path!r}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"No PyTorch weights at {path!r}.")
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"Reading {path!r} needs PyTorch: `pip install torch` (or `pip install lit_tf[torch]`), or save "
            "the state dict as .npz where torch is installed: "
            "np.savez('weights.npz', **{k: v.numpy() for k, v in state_dict.items()}), and pass that."
        ) from None
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    state_dict = checkpoint.get("state_dict", checkpoint)  # training scripts often wrap it
    return {name: value.detach().cpu().numpy() for name, value in state_dict.items()}


def _problems(given, layout):
    problems = [f"missing {name!r} (expected shape {tuple(_to_torch(np.zeros(v.shape), kind).shape)})"
                for name, (v, kind) in layout.items() if name not in given]
    problems += [f"unexpected {name!r} {tuple(given[name].shape)}" for name in given if name not in layout]
    for name, (variable, kind) in layout.items():
        expected = _to_torch(np.zeros(variable.shape), kind).shape
        if name in given and given[name].shape != expected:
            problems.append(f"{name!r} has shape {tuple(given[name].shape)}, expected {tuple(expected)}")
    return problems


def _describe(model):
    if isinstance(model, CifarResNet):
        return f"{model.depth} layers, {model.num_classes} classes"
    if isinstance(model, stargan.Generator):
        return f"{model.residual_blocks} residual blocks, conv_dim {model.conv_dim}, {model.num_domains} domains"
    return f"conv_dim {model.conv_dim}, {model.num_domains} domains"


def _depth_hint(given):
    blocks = [int(m.group(1)) for name in given if (m := re.match(r"layer1\.(\d+)\.", name))]
    if blocks:
        return f" The weights look like a resnet{6 * (max(blocks) + 1) + 2}."
    trunk = {m.group(1) for name in given if (m := re.match(r"(?:bottleneck_section1|main)\.(\d+)\.main\.", name))}
    return f" The weights look like a generator with {len(trunk)} residual blocks." if trunk else ""


def load_torch_weights(model, source):
    """Loads a PyTorch CIFAR ResNet state dict into `model`, checking every entry first.

    Args:
        model: `lit_tf.models.CifarResNet` of the checkpoint's depth and classes, or a
            `lit_tf.models.stargan.Generator` / `Discriminator` of its sizes (the generator's
            official or LIT-reference names are recognised; InstanceNorm running statistics,
            unused in training mode, are skipped).
        source: a mapping `{state_dict name: array}`, a path to an `.npz` of that
            mapping, or a path to a `.th`/`.pt`/`.pth`/`.ckpt` PyTorch file (needs torch;
            `{"state_dict": ...}` checkpoints are unwrapped).

    Raises:
        ValueError: a missing, unexpected or mis-shaped entry, all named at once;
            the model is left untouched.
        ImportError: a PyTorch file without torch installed.
    """
    given = {re.sub(r"^module\.", "", name): value for name, value in read_state_dict(source).items()}
    given = {name: value for name, value in given.items() if not name.endswith("num_batches_tracked")}
    if isinstance(model, (stargan.Generator, stargan.Discriminator)):
        given = {name: value for name, value in given.items() if not name.endswith(stargan_torch.IGNORED)}
    layout = torch_layout(model, stargan_torch.naming_of(given))
    problems = _problems(given, layout)
    if problems:
        shown = "; ".join(problems[:6]) + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
        raise ValueError(
            f"The PyTorch weights do not fit {model.name} ({_describe(model)}): "
            f"{shown}.{_depth_hint(given)} Nothing was loaded. Received: {len(given)} entries"
            + (f" from {os.fspath(source)!r}" if isinstance(source, (str, os.PathLike)) else "")
        )
    for name, (variable, kind) in layout.items():
        variable.assign(_to_keras(given[name], kind).astype(variable.dtype))
