"""Class-per-folder image datasets: `DIR/train/<class>/*` and `DIR/test/<class>/*`.

The folders are read with `keras.utils.image_dataset_from_directory` (classes from the
folder names, in sorted order; JPEG, PNG, BMP and GIF) at the images' own size, which
the first training image sets. Decoded once a run into uint8 arrays, then the shared
pipeline: validation carved from train, pad-crop-flip augmentation, normalisation,
batches. The test split is only reported.

Example (two classes of tiny PNGs):

>>> import os, tempfile, numpy as np, tensorflow as tf
>>> from lit_tf.data import image_folder
>>> root = tempfile.mkdtemp()
>>> for split in ("train", "test"):
...     for label in ("cat", "dog"):
...         os.makedirs(os.path.join(root, split, label))
...         for i in range(4):
...             pixels = np.full((8, 8, 3), 60 * i, np.uint8)
...             tf.io.write_file(os.path.join(root, split, label, f"{i}.png"), tf.io.encode_png(pixels))
>>> image_folder.describe(root)
(2, (8, 8, 3), ['cat', 'dog'])
>>> images, labels = next(iter(image_folder.provide_dataset("test", 8, root)))
>>> tuple(images.shape), sorted(set(labels.numpy().tolist()))
((8, 8, 8, 3), [0, 1])
"""

import functools
import os

import numpy as np

from lit_tf.data import pipeline

FORMATS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def _split_folder(image_dir, split):
    folder = os.path.join(image_dir, split)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"No {split!r} folder in image_dir={image_dir!r}: expected {folder}/<class>/<image> "
                                "(a folder of images per class, for 'train' and 'test').")
    classes = sorted(entry for entry in os.listdir(folder) if os.path.isdir(os.path.join(folder, entry)))
    if not classes:
        raise ValueError(f"{folder} has no class folders: expected {folder}/<class>/<image>, one folder per class.")
    return folder, classes


def _first_image(folder, classes):
    import tensorflow as tf

    for name in classes:
        files = sorted(f for f in os.listdir(os.path.join(folder, name)) if f.lower().endswith(FORMATS))
        if files:
            path = os.path.join(folder, name, files[0])
            return path, tuple(_decode(tf, path).shape)
    raise ValueError(f"{folder} has class folders but no images ({', '.join(FORMATS)}).")


def _decode(tf, path):
    try:
        return tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    except Exception as error:  # TensorFlow's decode errors do not name the file
        raise ValueError(f"Cannot read image {path}: {str(error).splitlines()[0]}. Remove or replace it.") from None


def describe(image_dir):
    """`(num_classes, image_shape, class_names)` of `image_dir`, checking both splits' classes agree."""
    folder, classes = _split_folder(image_dir, "train")
    _, test_classes = _split_folder(image_dir, "test")
    if classes != test_classes:
        only_train, only_test = sorted(set(classes) - set(test_classes)), sorted(set(test_classes) - set(classes))
        raise ValueError(f"The class folders of {folder} and {os.path.join(image_dir, 'test')} differ: only in "
                         f"train {only_train}, only in test {only_test}. Both splits need the same classes.")
    _, shape = _first_image(folder, classes)
    return len(classes), shape, classes


def _read_split(image_dir, split, shape):
    import keras
    import tensorflow as tf

    folder, classes = _split_folder(image_dir, split)
    try:
        dataset = keras.utils.image_dataset_from_directory(
            folder, labels="inferred", label_mode="int", class_names=classes, batch_size=None,
            image_size=shape[:2], shuffle=False, verbose=False)
    except ValueError as error:
        raise ValueError(f"Cannot read the images of {folder}: {error}") from None
    images, labels = [], []
    try:
        for batch_images, batch_labels in dataset.batch(4096):
            images.append(batch_images.numpy().astype("uint8"))
            labels.append(batch_labels.numpy())
    except tf.errors.InvalidArgumentError:
        for path in dataset.file_paths:  # find the file TensorFlow's error does not name
            _decode(tf, path)
        raise
    return np.concatenate(images), np.concatenate(labels).astype("int64")


@functools.lru_cache(maxsize=2)
def load_folder(image_dir):
    """Reads `image_dir` into `{"train": (x, y), "test": (x, y)}` uint8 arrays (once a run)."""
    _, shape, _ = describe(image_dir)
    return {split: _read_split(image_dir, split, shape) for split in ("train", "test")}


def load_split(image_dir, split, validation_fraction=0.1, seed=0):
    """Returns `(images, labels)` of "train", "validation" (carved from train) or "test"."""
    pipeline.check_split(split)
    folder = load_folder(os.path.abspath(image_dir))
    if split == "test":
        return folder["test"]
    train, validation = pipeline.split_validation(*folder["train"], validation_fraction, seed)
    return train if split == "train" else validation


def provide_dataset(split, batch_size, image_dir, validation_fraction=0.1, augment=True, seed=0,
                    mean=pipeline.IMAGENET_MEAN, std=pipeline.IMAGENET_STD, crop_padding="reflect"):
    """A `tf.data.Dataset` of normalised `(image, label)` batches; training batches augmented.

    Args:
        split: "train", "validation" (carved from train) or "test".
        batch_size: int > 0.
        image_dir: str, the folder holding `train/` and `test/`.
        validation_fraction: float, the share of the training images held out.
        augment: bool, pad-crop-flip the training images.
        seed: int, fixes the validation carve, shuffling and augmentation.
        mean, std: per-channel statistics in [0, 255] pixels.
        crop_padding: "reflect" or "zeros", the border of the random crop.
    """
    images, labels = load_split(image_dir, split, validation_fraction, seed)
    return pipeline.make_dataset(images, labels, batch_size, mean, std, training=split == "train",
                                 augment=augment, seed=seed, crop_padding=crop_padding)
