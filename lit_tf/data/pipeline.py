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

from lit_tf import quiet
from lit_tf.data import epochs
from lit_tf.options import CROP_PADDINGS
from lit_tf.options import SPLITS
from lit_tf.options import check_choice

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
    """`shuffle -> augment -> normalise -> batch -> prefetch`, deterministic under `seed`.

    A training epoch's order and augmentation are a function of `(seed, epoch)`, the epoch taken
    from `lit_tf.data.epochs` when the epoch's iteration starts: a resumed run sees the batches
    the uninterrupted one would, and every pass still reshuffles.

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
    quiet.start_devices()
    mean = tf.constant(mean, tf.float32)
    std = tf.constant(std, tf.float32)
    labels = labels.astype("int32")
    if not training:
        # No .cache(): the arrays are in memory already, and a cache a user's take(n) leaves unfinished warns.
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        dataset = dataset.map(lambda image, label: ((tf.cast(image, tf.float32) - mean) / std, label),
                              num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    images, labels = tf.constant(images), tf.constant(labels)
    count = int(images.shape[0])

    def one_epoch(epoch):
        epoch_seed = tf.stack([tf.constant(seed, tf.int64), epoch])
        order = tf.random.experimental.stateless_shuffle(tf.range(count, dtype=tf.int64), seed=epoch_seed)
        return tf.data.Dataset.from_tensor_slices(order).map(lambda index: (epoch_seed, index))

    def prepare(epoch_seed, index):
        image = tf.cast(tf.gather(images, index), tf.float32)
        if augment:  # on pixels, so a zero border is black, as torchvision pads
            image_seed = tf.random.experimental.stateless_fold_in(epoch_seed, index)
            image = pad_crop_flip(image, image_seed, padding=crop_padding)
        return (image - mean) / std, tf.gather(labels, index)

    # flat_map hides the epoch's length; Keras needs it to end an epoch without a warning.
    dataset = epochs.epoch_dataset().flat_map(one_epoch).apply(tf.data.experimental.assert_cardinality(count))
    dataset = dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
