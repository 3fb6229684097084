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

from lit_tf import quiet
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
    quiet.start_devices()  # the first TensorFlow op of a script reading images: its device probe, quietly
    folder, classes = _split_folder(image_dir, "train")
    _, test_classes = _split_folder(image_dir, "test")
    if classes != test_classes:
        only_train, only_test = sorted(set(classes) - set(test_classes)), sorted(set(test_classes) - set(classes))
        raise ValueError(f"The class folders of {folder} and {os.path.join(image_dir, 'test')} differ: only in "
                         f"train {only_train}, only in test {only_test}. Both splits need the same classes.")
    _, shape = _first_image(folder, classes)
    return len(classes), shape, classes


def _image_paths(folder, classes, max_per_class):
    """`(paths, labels)`: each class's images in name order, the first `max_per_class` of them (all: `None`)."""
    paths, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(f for f in os.listdir(os.path.join(folder, name)) if f.lower().endswith(FORMATS))
        files = files[:max_per_class] if max_per_class else files
        paths += [os.path.join(folder, name, f) for f in files]
        labels += [label] * len(files)
    return paths, np.array(labels, "int64")


def _read_split(image_dir, split, shape, max_per_class=None):
    """The split's images as uint8 `(N, H, W, 3)` at `shape` (bilinear resize where it differs), in class order."""
    import tensorflow as tf

    folder, classes = _split_folder(image_dir, split)
    paths, labels = _image_paths(folder, classes, max_per_class)
    if not paths:
        raise ValueError(f"{folder} has class folders but no images ({', '.join(FORMATS)}).")

    def load(path):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        image.set_shape([None, None, 3])
        return tf.cast(tf.image.resize(image, shape[:2], method="bilinear"), tf.uint8)  # truncates, as Keras' loader

    dataset = tf.data.Dataset.from_tensor_slices(paths).map(load, num_parallel_calls=tf.data.AUTOTUNE,
                                                             deterministic=True)
    try:
        images = np.concatenate([batch.numpy() for batch in dataset.batch(4096)])
    except tf.errors.InvalidArgumentError:
        for path in paths:  # find the file TensorFlow's error does not name
            _decode(tf, path)
        raise
    return images, labels


@functools.lru_cache(maxsize=2)
def load_folder(image_dir, max_per_class=None):
    """Reads `image_dir` into `{"train": (x, y), "test": (x, y)}` uint8 arrays (once a run).

    `max_per_class`: only the first images of each class folder, in name order; the rest are not read.
    """
    _, shape, _ = describe(image_dir)
    return {split: _read_split(image_dir, split, shape, max_per_class) for split in ("train", "test")}


def load_split(image_dir, split, validation_fraction=0.1, seed=0, max_per_class=None):
    """Returns `(images, labels)` of "train", "validation" (carved from train) or "test".

    Orders: "train" in class order (training shuffles it every epoch); "validation" a seeded
    sample of the training images, classes mixed; "test" classes mixed in one fixed order (the
    same for every seed), so its first batches (`dataset.take(n)`) hold every class.
    """
    pipeline.check_split(split)
    folder = load_folder(os.path.abspath(image_dir), max_per_class)
    if split == "test":
        images, labels = folder["test"]
        order = np.random.default_rng(0).permutation(len(labels))
        return images[order], labels[order]
    train, validation = pipeline.split_validation(*folder["train"], validation_fraction, seed)
    return train if split == "train" else validation


def provide_dataset(split, batch_size, image_dir, validation_fraction=0.1, augment=True, seed=0,
                    mean=pipeline.IMAGENET_MEAN, std=pipeline.IMAGENET_STD, crop_padding="reflect",
                    max_per_class=None):
    """A `tf.data.Dataset` of normalised `(image, label)` batches; training batches augmented and reshuffled
    every epoch, evaluation batches ("validation", "test") classes mixed in a fixed order (see `load_split`).

    Args:
        split: "train", "validation" (carved from train) or "test".
        batch_size: int > 0.
        image_dir: str, the folder holding `train/` and `test/`.
        validation_fraction: float, the share of the training images held out.
        augment: bool, pad-crop-flip the training images.
        seed: int, fixes the validation carve, shuffling and augmentation.
        mean, std: per-channel statistics in [0, 255] pixels.
        crop_padding: "reflect" or "zeros", the border of the random crop.
        max_per_class: int or `None`: read only the first images of each class folder (name order), in
            both splits, e.g. to try a pipeline on a few hundred images; the rest are never decoded.

    Example (CIFAR-10 as JPEG class folders: 100 images a class, the test split's first batch mixed):

        test = provide_dataset("test", 32, "cifar10-jpeg", augment=False, max_per_class=100)
    """
    images, labels = load_split(image_dir, split, validation_fraction, seed, max_per_class)
    return pipeline.make_dataset(images, labels, batch_size, mean, std, training=split == "train",
                                 augment=augment, seed=seed, crop_padding=crop_padding)
