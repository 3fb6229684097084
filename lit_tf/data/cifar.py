"""CIFAR-10 from a local copy of the official python archive (`cifar-10-batches-py`).

That folder is what a user behind a firewall has, and what
`../shared/data/cifar10-subset` is: `data_batch_*` and `test_batch` pickles of
`{b"data": uint8 (N, 3072) channel-major, b"labels": [int]}`. The validation
split is carved from the training batches. (Loading through
tensorflow-datasets comes with the CIFAR trainer.)

Example:

>>> import os
>>> from lit_tf.data import cifar
>>> folder = "../shared/data/cifar10-subset/cifar-10-batches-py"
>>> if os.path.isdir(folder):
...     images, labels = cifar.load_split(folder, "test")
...     assert images.shape[1:] == (32, 32, 3)
"""

import functools
import glob
import os
import pickle

import numpy as np

from lit_tf.data import pipeline

NUM_CLASSES = 10
IMAGE_SHAPE = (32, 32, 3)
MEAN = [125.31, 122.95, 113.87]  # CIFAR-10 training-set channel statistics
STD = [62.99, 62.09, 66.70]


def _read_batch(path):
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype="uint8")
        labels = np.asarray(batch[b"labels"], dtype="int64")
        images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    except Exception as error:  # a truncated or foreign file fails in many ways
        raise ValueError(
            f"CIFAR batch file {path} is not a CIFAR-10 python-archive batch ({error}). "
            "Re-extract cifar-10-python.tar.gz into that folder."
        ) from error
    if len(images) != len(labels):
        raise ValueError(f"CIFAR batch file {path} has {len(images)} images but {len(labels)} labels.")
    return images, labels


@functools.lru_cache(maxsize=2)
def load_archive(cifar_dir):
    """Reads a `cifar-10-batches-py` folder into `{"train": (x, y), "test": (x, y)}`.

    Cached: the train, validation and test pipelines of one run read it once.
    """
    if os.path.isdir(os.path.join(cifar_dir, "cifar-10-batches-py")):
        cifar_dir = os.path.join(cifar_dir, "cifar-10-batches-py")
    train_files = sorted(glob.glob(os.path.join(cifar_dir, "data_batch_*")))
    test_file = os.path.join(cifar_dir, "test_batch")
    if not train_files or not os.path.exists(test_file):
        raise FileNotFoundError(
            f"No CIFAR-10 python archive in {cifar_dir!r}: expected data_batch_1.. and "
            "test_batch there. Extract cifar-10-python.tar.gz (from the CIFAR-10 page) "
            "into it, or use the tensorflow-datasets copy."
        )
    train = [_read_batch(path) for path in train_files]
    return {
        "train": (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])),
        "test": _read_batch(test_file),
    }


def load_split(cifar_dir, split, validation_fraction=0.1, seed=0):
    """Returns `(images, labels)` of one split of a local archive."""
    pipeline.check_split(split)
    archive = load_archive(cifar_dir)
    if split == "test":
        return archive["test"]
    train, validation = pipeline.split_validation(*archive["train"], validation_fraction, seed)
    return train if split == "train" else validation


def provide_dataset(split, batch_size, cifar_dir, validation_fraction=0.1, augment=True, seed=0):
    """A `tf.data.Dataset` of normalised CIFAR-10 batches; training batches augmented."""
    images, labels = load_split(cifar_dir, split, validation_fraction, seed)
    return pipeline.make_dataset(
        images, labels, batch_size, MEAN, STD,
        training=split == "train", augment=augment, seed=seed,
    )
