"""scikit-learn's bundled handwritten digits as 32x32x3 images: the offline dataset.

1,797 images of 10 classes ship inside scikit-learn, so the quickstart runs on
a fresh machine with no network. A fixed 20 % is the test split; the
validation split is carved from the rest.

Example:

>>> from lit_tf.data import digits
>>> images, labels = next(iter(digits.provide_dataset("train", batch_size=4)))
>>> tuple(images.shape), labels.dtype.name
((4, 32, 32, 3), 'int32')
"""

import functools

import numpy as np
import tensorflow as tf

from lit_tf.data import pipeline

NUM_CLASSES = 10
IMAGE_SHAPE = (32, 32, 3)
TEST_FRACTION = 0.2


@functools.lru_cache(maxsize=1)
def load_images():
    """All digits as uint8 `(1797, 32, 32, 3)` images and int labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    small = (bunch.images / 16.0 * 255.0).astype("float32")[..., None]
    large = tf.image.resize(small, IMAGE_SHAPE[:2], method="bilinear").numpy()
    images = np.repeat(np.clip(large, 0, 255).round().astype("uint8"), 3, axis=-1)
    return images, bunch.target.astype("int64")


def load_split(split, validation_fraction=0.1, seed=0):
    """Returns `(images, labels)` of one split; the test split never moves with `seed`."""
    pipeline.check_split(split)
    images, labels = load_images()
    (rest_x, rest_y), (test_x, test_y) = pipeline.split_validation(images, labels, TEST_FRACTION, seed=0)
    if split == "test":
        return test_x, test_y
    train, validation = pipeline.split_validation(rest_x, rest_y, validation_fraction, seed)
    return train if split == "train" else validation


def provide_dataset(split, batch_size, validation_fraction=0.1, seed=0):
    """A `tf.data.Dataset` of normalised `(image, label)` batches of digits."""
    images, labels = load_split(split, validation_fraction, seed)
    return pipeline.make_dataset(
        images, labels, batch_size, mean=[127.5] * 3, std=[127.5] * 3,
        training=split == "train", augment=False, seed=seed,
    )
