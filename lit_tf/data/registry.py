"""Datasets by name, as the trainers ask for them: `cifar10`, `cifar100`, `digits`, `image_folder`.

Example:

>>> from lit_tf.data import registry
>>> registry.describe("digits")
(10, (32, 32, 3))
>>> images, labels = next(iter(registry.provide_dataset("digits", "test", batch_size=4)))
>>> tuple(images.shape)
(4, 32, 32, 3)
>>> registry.normalization_stats("image_folder", "imagenet")[0]  # ImageNet's mean, in pixels
[123.675, 116.28, 103.53]
"""

from lit_tf.data import cifar
from lit_tf.data import digits
from lit_tf.data import image_folder
from lit_tf.options import DATASETS
from lit_tf.options import check_choice
from lit_tf.options import resolve_normalization


def check_dataset(name):
    check_choice("dataset", name, DATASETS)


def _check_image_dir(name, image_dir):
    if name == "image_folder" and not image_dir:
        raise ValueError("dataset='image_folder' reads DIR/train/<class>/* and DIR/test/<class>/*: "
                         "pass image_dir=DIR.")


def describe(name, image_dir=None):
    """Returns `(num_classes, image_shape)` of dataset `name` (`image_dir` for `image_folder`)."""
    check_dataset(name)
    _check_image_dir(name, image_dir)
    if name == "digits":
        return digits.NUM_CLASSES, digits.IMAGE_SHAPE
    if name == "image_folder":
        return image_folder.describe(image_dir)[:2]
    return cifar.NUM_CLASSES[name], cifar.IMAGE_SHAPE


def normalization_stats(name, normalization="auto"):
    """`(mean, std)` per channel in [0, 255] pixels that dataset `name`'s batches are normalised with.

    "auto" (the default) is CIFAR's own training statistics for CIFAR and ImageNet's for an
    `image_folder`: folders of photos mostly feed ImageNet-trained teachers (keras.applications,
    torchvision), which expect ImageNet's, and a folder's own statistics would need a pass over it.
    "cifar" is CIFAR's statistics (CIFAR-10's for `image_folder`), "imagenet" ImageNet's; digits are
    always scaled to [-1, 1].

    >>> normalization_stats("image_folder") == normalization_stats("cifar10", "imagenet")
    True
    """
    normalization = resolve_normalization(name, normalization)
    if name == "digits":
        return [127.5] * 3, [127.5] * 3
    return cifar.normalization_stats(normalization, "cifar10" if name == "image_folder" else name)


def provide_dataset(name, split, batch_size, *, data_dir=None, cifar_dir=None, image_dir=None,
                    validation_fraction=0.1, augment=True, seed=0, normalization="auto", crop_padding="reflect"):
    """A `tf.data.Dataset` of `(image, label)` batches of one split of dataset `name`.

    Args:
        name: one of `DATASETS`.
        split: "train", "validation" (carved from train) or "test".
        batch_size: int > 0.
        data_dir: str, the tensorflow-datasets folder (CIFAR).
        cifar_dir: str, a local `cifar-10-batches-py` folder (CIFAR-10); wins over tfds.
        image_dir: str, the `image_folder` root holding `train/<class>/*` and `test/<class>/*`.
        validation_fraction: float, the share of the training data held out.
        augment: bool, pad-crop-flip on training batches (digits are never flipped).
        seed: int.
        normalization: "auto", "cifar" or "imagenet"; see `normalization_stats()`.
        crop_padding: "reflect" or "zeros", the border of the random crop.
    """
    check_dataset(name)
    _check_image_dir(name, image_dir)
    if name == "digits":
        return digits.provide_dataset(split, batch_size, validation_fraction, seed)
    if name == "image_folder":
        mean, std = normalization_stats(name, normalization)
        return image_folder.provide_dataset(split, batch_size, image_dir, validation_fraction, augment, seed,
                                            mean=mean, std=std, crop_padding=crop_padding)
    return cifar.provide_dataset(split, batch_size, cifar_dir, validation_fraction, augment, seed,
                                 dataset=name, data_dir=data_dir, normalization=normalization,
                                 crop_padding=crop_padding)
