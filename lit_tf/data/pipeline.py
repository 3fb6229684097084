"""What every image dataset here shares: validation carving, augmentation, batching.

Example:

>>> import numpy as np
>>> from lit_tf.data import pipeline
>>> x, y = np.zeros((10, 4, 4, 3), "uint8"), np.arange(10)
>>> (train_x, _), (val_x, _) = pipeline.split_validation(x, y, 0.2, seed=0)
>>> len(train_x), len(val_x)
(8, 2)
"""

import numpy as np
import tensorflow as tf

from lit_tf.choices import check_choice

SPLITS = ("train", "validation", "test")
CROP_PADDINGS = ("reflect", "zeros")
# ImageNet's channel statistics in [0, 255] pixels: the LIT reference normalises CIFAR with
# them, and so must every model trained that way (the PyTorch CIFAR ResNets among them).
IMAGENET_MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255]
IMAGENET_STD = [0.229 * 255, 0.224 * 255, 0.225 * 255]


def check_split(split):
    check_choice("split", split, SPLITS)


def split_validation(images, labels, fraction, seed):
    """Carves a seeded, class-mixed validation share off the training data.

    Model selection uses it, never the test split.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1). Received: {fraction}")
    order = np.random.default_rng(seed).permutation(len(images))
    cut = int(round(len(images) * fraction))
    val, train = order[:cut], order[cut:]
    return (images[train], labels[train]), (images[val], labels[val])


def pad_crop_flip(image, seed, pad=4, padding="reflect"):
    """CIFAR augmentation: pad by `pad` pixels, random crop back, random flip.

    `padding` is "reflect" or "zeros" (black pixels, as torchvision's `RandomCrop(32,
    padding=4)` that the LIT reference uses); apply it to pixels before normalisation.
    """
    check_choice("crop_padding", padding, CROP_PADDINGS)
    height, width = image.shape[0], image.shape[1]
    mode = "REFLECT" if padding == "reflect" else "CONSTANT"
    padded = tf.pad(image, [[pad, pad], [pad, pad], [0, 0]], mode=mode)
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    image = tf.image.stateless_random_crop(padded, [height, width, image.shape[2]], crop_seed)
    return tf.image.stateless_random_flip_left_right(image, flip_seed)


def make_dataset(images, labels, batch_size, mean, std, training, augment, seed, crop_padding="reflect"):
    """`cache -> shuffle -> augment -> normalise -> batch -> prefetch`, deterministic under `seed`.

    Args:
        images: uint8 or float array `(N, H, W, C)`.
        labels: int array `(N,)`.
        batch_size: int > 0.
        mean, std: per-channel statistics for normalisation.
        training: bool, shuffle (and augment when `augment`).
        augment: bool, pad-crop-flip the training images.
        seed: int.
        crop_padding: "reflect" or "zeros", how the crop's border is filled.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be > 0. Received: batch_size={batch_size}")
    check_choice("crop_padding", crop_padding, CROP_PADDINGS)
    mean = tf.constant(mean, tf.float32)
    std = tf.constant(std, tf.float32)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels.astype("int32"))).cache()
    if training:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)

    def prepare(index, example):
        image, label = example
        image = tf.cast(image, tf.float32)
        if training and augment:  # on pixels, so a zero border is black, as torchvision pads
            image = pad_crop_flip(image, tf.stack([tf.cast(seed, tf.int64), index]), padding=crop_padding)
        return (image - mean) / std, label

    dataset = dataset.enumerate().map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
