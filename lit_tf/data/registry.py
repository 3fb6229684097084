"""Datasets by name, as the trainers ask for them: `cifar10`, `cifar100`, `digits`.

Example:

>>> from lit_tf.data import registry
>>> registry.describe("digits")
(10, (32, 32, 3))
>>> images, labels = next(iter(registry.provide_dataset("digits", "test", batch_size=4)))
>>> tuple(images.shape)
(4, 32, 32, 3)
"""

from lit_tf.data import cifar
from lit_tf.data import digits

DATASETS = ("cifar10", "cifar100", "digits")


def check_dataset(name):
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}. Received: dataset={name!r}")


def describe(name):
    """Returns `(num_classes, image_shape)` of dataset `name`."""
    check_dataset(name)
    if name == "digits":
        return digits.NUM_CLASSES, digits.IMAGE_SHAPE
    return cifar.NUM_CLASSES[name], cifar.IMAGE_SHAPE


def provide_dataset(name, split, batch_size, *, data_dir=None, cifar_dir=None, validation_fraction=0.1,
                    augment=True, seed=0, normalization="cifar", crop_padding="reflect"):
    """A `tf.data.Dataset` of `(image, label)` batches of one split of dataset `name`.

    Args:
        name: one of `DATASETS`.
        split: "train", "validation" (carved from train) or "test".
        batch_size: int > 0.
        data_dir: str, the tensorflow-datasets folder (CIFAR).
        cifar_dir: str, a local `cifar-10-batches-py` folder (CIFAR-10); wins over tfds.
        validation_fraction: float, the share of the training data held out.
        augment: bool, CIFAR's pad-crop-flip on training batches (digits are never flipped).
        seed: int.
        normalization: "cifar" (the dataset's statistics) or "imagenet" (CIFAR; digits
            keep their own scaling to [-1, 1]).
        crop_padding: "reflect" or "zeros", the border of CIFAR's random crop.
    """
    check_dataset(name)
    if name == "digits":
        return digits.provide_dataset(split, batch_size, validation_fraction, seed)
    return cifar.provide_dataset(split, batch_size, cifar_dir, validation_fraction, augment, seed,
                                 dataset=name, data_dir=data_dir, normalization=normalization,
                                 crop_padding=crop_padding)
