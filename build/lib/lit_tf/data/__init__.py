"""Datasets as `tf.data` pipelines of `(image, label)` batches: digits, CIFAR, CelebA.

Submodules (`lit_tf.data.cifar`, `.digits`, `.celeba`, `.pipeline`, `.registry`) load on
first use.
"""

import importlib

MODULES = ("celeba", "cifar", "digits", "pipeline", "registry")


def __getattr__(name):
    if name in MODULES:
        return importlib.import_module(f"lit_tf.data.{name}")
    raise AttributeError(f"module 'lit_tf.data' has no attribute {name!r}")
