"""Datasets as `tf.data` pipelines of `(image, label)` batches: digits, CIFAR, image folders, CelebA.

Submodules (`lit_tf.data.cifar`, `.digits`, `.image_folder`, `.celeba`, `.pipeline`, `.registry`, `.epochs`)
load on first use.

Example:

>>> import lit_tf
>>> callable(lit_tf.data.image_folder.provide_dataset)
True
"""

import importlib

MODULES = ("celeba", "cifar", "digits", "epochs", "image_folder", "pipeline", "registry")


def __getattr__(name):
    if name in MODULES:
        return importlib.import_module(f"lit_tf.data.{name}")
    raise AttributeError(f"module 'lit_tf.data' has no attribute {name!r}")
