"""Model families with named LIT section boundaries, and a registry by name.

Example:

>>> from lit_tf import models
>>> models.get("resnet20", num_classes=100).depth
20
"""

import re

from lit_tf.models.resnet import CifarResNet
from lit_tf.models.resnext import CifarResNeXt
from lit_tf.models.torch_weights import TORCH_SUFFIXES
from lit_tf.models.torch_weights import load_torch_weights
from lit_tf.models.torch_weights import torch_state_dict

FAMILIES = {"resnet": CifarResNet, "resnext": CifarResNeXt}


def get(arch, **kwargs):
    """Builds a model from a name such as `resnet110` or `resnext20`.

    Args:
        arch: str, a family in `FAMILIES` followed by a depth.
        **kwargs: passed to the family's constructor.
    """
    match = re.fullmatch(r"([a-z]+)(\d+)", arch)
    if not match or match.group(1) not in FAMILIES:
        raise ValueError(
            f"Unknown architecture '{arch}'. Use a family from "
            f"{sorted(FAMILIES)} followed by a depth, e.g. resnet20, resnext110."
        )
    return FAMILIES[match.group(1)](depth=int(match.group(2)), **kwargs)


__all__ = ["CifarResNet", "CifarResNeXt", "FAMILIES", "TORCH_SUFFIXES", "get", "load_torch_weights", "torch_state_dict"]
