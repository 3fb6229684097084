"""CelebA for StarGAN: images in [-1, 1], their attribute labels, and sampled target domains.

Through tensorflow-datasets (`celeb_a`): the 178x218 image is center-cropped to 178x178 and
resized to `image_size`, training images are flipped at random, and each batch carries
`(image, label, target)`, where `label` holds the chosen attributes (0/1) and `target` is
the label of another image of the same batch, as StarGAN samples target domains.

Example (with tensorflow-datasets' mock data, as the tests do):

>>> import tensorflow_datasets as tfds
>>> from lit_tf.data import celeba
>>> with tfds.testing.mock_data(num_examples=8):
...     image, label, target = next(iter(celeba.provide_dataset("train", 4, image_size=32)))
>>> tuple(image.shape), tuple(label.shape), tuple(target.shape)
((4, 32, 32, 3), (4, 5), (4, 5))
"""

import tensorflow as tf

from lit_tf.data import cifar
from lit_tf.data import epochs
from lit_tf.options import CELEBA_ATTRIBUTES
from lit_tf.options import check_choice

ATTRIBUTES = CELEBA_ATTRIBUTES  # the paper's five
HAIR_COLOURS = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair")  # exclusive, as StarGAN treats them
SPLITS = ("train", "validation", "test")
DOWNLOAD_HOST = ("drive.google.com", 443)  # where tensorflow-datasets downloads CelebA from
CROP = 178


def check_attributes(attributes, builder):
    known = builder.info.features["attributes"].keys()
    unknown = [a for a in attributes if a not in known]
    if not attributes or unknown:
        raise ValueError(f"CelebA has no attribute {unknown}; choose from {sorted(known)}. "
                         f"Received: attributes={list(attributes)}")


def target_domains(label, attributes=ATTRIBUTES):
    """StarGAN's test-time targets: for each attribute, `label` with that attribute changed.

    A hair colour is set and the other hair colours cleared; any other attribute is
    flipped. Returns a list of `len(attributes)` arrays shaped like `label`.

    >>> import numpy as np
    >>> [t.tolist() for t in target_domains(np.array([[1., 0., 0., 1., 1.]]))]
    [[[1.0, 0.0, 0.0, 1.0, 1.0]], [[0.0, 1.0, 0.0, 1.0, 1.0]], [[0.0, 0.0, 1.0, 1.0, 1.0]], \
[[1.0, 0.0, 0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0, 1.0, 0.0]]]
    """
    import numpy as np

    label = np.asarray(label, dtype="float32")
    hair = [i for i, name in enumerate(attributes) if name in HAIR_COLOURS]
    targets = []
    for i, name in enumerate(attributes):
        target = label.copy()
        if i in hair:
            target[:, hair] = 0.0
            target[:, i] = 1.0
        else:
            target[:, i] = 1.0 - target[:, i]
        targets.append(target)
    return targets


def _builder(data_dir):
    import tensorflow_datasets as tfds

    return tfds.builder("celeb_a", data_dir=data_dir)


def _source(builder, split, **as_dataset):
    try:
        return builder.as_dataset(split=split, **as_dataset)
    except AssertionError:  # tfds: "could not find data in <data_dir>"
        pass
    if not cifar.reachable(DOWNLOAD_HOST):
        folder = str(builder.data_dir_root)
        raise FileNotFoundError(
            f"celeb_a is not prepared in data_dir={folder!r} and {DOWNLOAD_HOST[0]} cannot be reached "
            "to download it. Run once online (`python -c \"import tensorflow_datasets as tfds; "
            f"tfds.builder('celeb_a', data_dir='{folder}').download_and_prepare()\"`) or copy a "
            "prepared tensorflow_datasets folder there.")
    builder.download_and_prepare()
    return builder.as_dataset(split=split, **as_dataset)


def provide_dataset(split, batch_size, image_size=128, attributes=ATTRIBUTES, data_dir=None, seed=0,
                    augment=None, steps_per_epoch=None):
    """A `tf.data.Dataset` of `(image, label, target)` batches.

    Args:
        split: "train", "validation" or "test".
        batch_size: int > 0; the last partial batch is dropped.
        image_size: int, the side of the square images.
        attributes: CelebA attribute names that make the domain label.
        data_dir: str or None, the tensorflow-datasets folder.
        seed: int, for shuffling, flips and target sampling.
        augment: bool or None (random flips on "train" only).
        steps_per_epoch: int or None. With it, "train" is an endless stream of batches, a
            fixed function of `seed` whose iteration starts at batch `epoch * steps_per_epoch`,
            the epoch read from `lit_tf.data.epochs`: a training run resumed at epoch k sees
            the batches the uninterrupted run saw from epoch k on. Without it, one pass.
    """
    check_choice("split", split, SPLITS)
    if batch_size <= 0 or image_size <= 0:
        raise ValueError(f"batch_size and image_size must be > 0. Received: batch_size={batch_size}, "
                         f"image_size={image_size}")
    builder = _builder(data_dir)
    check_attributes(attributes, builder)
    training = split == "train"
    augment = training if augment is None else augment
    names = list(attributes)

    def prepare(example):
        image = tf.image.resize_with_crop_or_pad(example["image"], CROP, CROP)
        image = tf.image.resize(tf.cast(image, tf.float32), (image_size, image_size), antialias=True)
        label = tf.stack([tf.cast(example["attributes"][a], tf.float32) for a in names])
        return image / 127.5 - 1.0, label

    def flip(index, batch):
        image, label = batch
        flipped = tf.image.stateless_random_flip_left_right(image, seed=[seed, index])
        return flipped, label

    def add_target(index, batch):
        image, label = batch
        order = tf.random.experimental.stateless_shuffle(tf.range(tf.shape(label)[0]), seed=[seed + 1, index])
        return image, label, tf.gather(label, order)

    def batches(examples, first_image=0, first_batch=0):
        examples = examples.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        if augment:
            examples = examples.enumerate(first_image).map(flip, num_parallel_calls=tf.data.AUTOTUNE)
        batched = examples.batch(batch_size, drop_remainder=True).enumerate(first_batch)
        return batched.map(add_target, num_parallel_calls=tf.data.AUTOTUNE)

    if training and steps_per_epoch:
        return _stream(builder, seed, batch_size, steps_per_epoch, batches).prefetch(tf.data.AUTOTUNE)
    dataset = _source(builder, split)
    if training:
        dataset = dataset.shuffle(10 * batch_size, seed=seed)
    return batches(dataset).prefetch(tf.data.AUTOTUNE)


def _stream(builder, seed, batch_size, steps_per_epoch, batches):
    """The endless training stream from the clock's epoch on (see `provide_dataset`).

    The records are shuffled undecoded and skipped to the epoch's first batch before any image
    is decoded, so starting late costs a read of the records, not their decoding.
    """
    import tensorflow_datasets as tfds

    image = builder.info.features["image"]
    records = _source(builder, "train", decoders={"image": tfds.decode.SkipDecoding()})
    records = records.repeat().shuffle(10 * batch_size, seed=seed, reshuffle_each_iteration=False)

    def from_epoch(epoch):
        first_batch = epoch * steps_per_epoch
        start = records.skip(first_batch * batch_size)
        decoded = start.map(lambda example: {**example, "image": image.decode_example(example["image"])},
                            num_parallel_calls=tf.data.AUTOTUNE)
        return batches(decoded, first_batch * batch_size, first_batch)

    return epochs.epoch_dataset().flat_map(from_epoch)
